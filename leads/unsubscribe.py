"""The withdrawal (unsubscribe) link every email the app sends to a lead carries, in its body and its headers.

The link (``/f/withdraw/<token>/``, signed, never expiring) opens a page with a button: only pressing it
withdraws (mail scanners open links). ``List-Unsubscribe`` lets the person's mail program show its own
"Unsubscribe" next to the sender; without ``List-Unsubscribe-Post`` it opens the same page.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from leads import tokens


def withdraw_url(*, lead_id: int) -> str:
    """The absolute withdrawal link of the lead."""
    return settings.SITE_URL + reverse("leads:withdraw", args=[tokens.withdraw_token(lead_id=lead_id)])


def unsubscribe_headers(*, lead_id: int) -> dict[str, str]:
    """The headers that name the withdrawal link to mail programs."""
    return {"List-Unsubscribe": f"<{withdraw_url(lead_id=lead_id)}>"}
