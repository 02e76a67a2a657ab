"""The signed links in nurture emails: click tracking and one-click unsubscribe.

Tokens are signed with SECRET_KEY (``django.core.signing``) and never expire: a link in an old email
still unsubscribes (the right to withdraw has no end date) and still leads where it said. A click link
carries its destination inside the signature, so it can only ever redirect where the email pointed.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core import signing
from django.urls import reverse

_CLICK = signing.Signer(salt="nurture.click")
_UNSUBSCRIBE = signing.Signer(salt="nurture.unsubscribe")
TEST_SEND = 0  # the send id of a test email: its links change nothing


def click_url(*, send_id: int, url: str) -> str:
    # Not compressed: zlib per link was a tenth of the worker's time per email, for a somewhat shorter URL.
    token = _CLICK.sign_object([send_id, url])
    return settings.SITE_URL + _path("nurture:click").replace(_TOKEN, token)


def read_click(token: str) -> tuple[int, str]:
    """``(send_id, url)`` of a click token; raises ``signing.BadSignature`` for a forged or broken one."""
    value = _CLICK.unsign_object(token)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
        raise signing.BadSignature("Malformed click token")
    return value[0], value[1]


def unsubscribe_url(*, send_id: int) -> str:
    return settings.SITE_URL + _path("nurture:unsubscribe").replace(_TOKEN, _UNSUBSCRIBE.sign_object(send_id))


def read_unsubscribe(token: str) -> int:
    value = _UNSUBSCRIBE.unsign_object(token)
    if not isinstance(value, int):
        raise signing.BadSignature("Malformed unsubscribe token")
    return value


_TOKEN = "NRTTOKEN"


@functools.lru_cache(maxsize=8)
def _path(name: str) -> str:
    """The view's path with a marker for the token: reversed once, not for every link of every email."""
    return reverse(name, args=[_TOKEN])


def is_trackable(url: str) -> bool:
    """Only web links go through the redirect; a mailto: link is left as it is."""
    return url.startswith(("http://", "https://"))
