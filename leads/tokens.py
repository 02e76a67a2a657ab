"""Signed tokens of the public forms: the render token in each form, the asset, confirm and withdraw links, the
visitor cookie.

Everything here is signed with the project's SECRET_KEY (``django.core.signing``), each kind under its own
salt so a token of one kind can never be used as another.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing

from leads.models import CaptureForm, ConsentText, FormField

# A form left open over a long weekend can still be sent; a resubmit of one render is still one submission.
RENDER_TOKEN_MAX_AGE = timedelta(days=settings.FORM_LINK_MAX_AGE_DAYS)
ASSET_LINK_MAX_AGE = timedelta(days=settings.FORM_LINK_MAX_AGE_DAYS)
CONFIRM_LINK_MAX_AGE = timedelta(days=settings.FORM_LINK_MAX_AGE_DAYS)
# The right to withdraw consent has no end date (GDPR art. 7(3)), so neither has the link: the email that
# asked for the consent may be opened years later. A leaked link can only withdraw the consent, the one
# thing its person may always do, and the page it opens shows nothing about them.
WITHDRAW_LINK_MAX_AGE: timedelta | None = None

VISITOR_COOKIE = "leadsite_visitor"
VISITOR_COOKIE_SALT = "leads.visitor"
VISITOR_COOKIE_MAX_AGE = timedelta(days=365)

_RENDER_SALT = "leads.form-render"
_ASSET_SALT = "leads.asset-link"
_CONFIRM_SALT = "leads.confirm-link"
_WITHDRAW_SALT = "leads.withdraw-link"


class TokenExpired(Exception):
    """The token was ours but is too old."""


class TokenInvalid(Exception):
    """The token is not one we signed (or not for this form)."""


@dataclass(frozen=True)
class RenderToken:
    """What the server promised when it rendered a form: which version of which form, which fields, when."""

    form_id: int
    consent_text_id: int
    field_ids: tuple[int, ...]
    nonce: str
    rendered_at: datetime


def issue_render_token(
    *, form: CaptureForm, consent_text: ConsentText, fields: Sequence[FormField], now: datetime
) -> str:
    """A signed token for one rendering of ``form``; its random nonce is the submission's idempotency key."""
    payload = {
        "f": form.pk,
        "c": consent_text.pk,
        "s": [field.pk for field in fields],
        "n": secrets.token_urlsafe(18),
        "t": now.timestamp(),
    }
    return signing.TimestampSigner(salt=_RENDER_SALT).sign_object(payload)


def read_render_token(token: str, *, form: CaptureForm) -> RenderToken:
    """The render token's contents; raises ``TokenExpired`` or ``TokenInvalid``."""
    payload = _unsign(token, salt=_RENDER_SALT, max_age=RENDER_TOKEN_MAX_AGE)
    try:
        render = RenderToken(
            form_id=int(payload["f"]),
            consent_text_id=int(payload["c"]),
            field_ids=tuple(int(pk) for pk in payload["s"]),
            nonce=str(payload["n"]),
            rendered_at=datetime.fromtimestamp(float(payload["t"]), tz=UTC),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise TokenInvalid("Malformed render token") from error
    if render.form_id != form.pk:
        raise TokenInvalid("The token belongs to another form")
    return render


def asset_token(*, submission_id: int) -> str:
    return signing.TimestampSigner(salt=_ASSET_SALT).sign_object({"s": submission_id})


def read_asset_token(token: str) -> int:
    """The submission id of an asset link; raises ``TokenExpired`` or ``TokenInvalid``."""
    return _submission_id(_unsign(token, salt=_ASSET_SALT, max_age=ASSET_LINK_MAX_AGE))


def read_expired_asset_token(token: str) -> int | None:
    """The submission id of a genuine but possibly expired asset link (to offer the form again), else None."""
    try:
        return _submission_id(_unsign(token, salt=_ASSET_SALT, max_age=None))
    except TokenInvalid:
        return None


def confirm_token(*, submission_id: int) -> str:
    return signing.TimestampSigner(salt=_CONFIRM_SALT).sign_object({"s": submission_id})


def read_confirm_token(token: str) -> int:
    """The submission id of a confirmation link; raises ``TokenExpired`` or ``TokenInvalid``."""
    return _submission_id(_unsign(token, salt=_CONFIRM_SALT, max_age=CONFIRM_LINK_MAX_AGE))


def withdraw_token(*, lead_id: int) -> str:
    """The link with which a person withdraws every consent they gave; it carries the lead, not one consent."""
    return signing.TimestampSigner(salt=_WITHDRAW_SALT).sign_object({"l": lead_id})


def read_withdraw_token(token: str) -> int:
    """The lead id of a withdraw link; raises ``TokenInvalid``."""
    payload = _unsign(token, salt=_WITHDRAW_SALT, max_age=WITHDRAW_LINK_MAX_AGE)
    try:
        return int(payload["l"])
    except (KeyError, TypeError, ValueError) as error:
        raise TokenInvalid("Malformed token") from error


def _unsign(token: str, *, salt: str, max_age: timedelta | None) -> dict:
    try:
        payload = signing.TimestampSigner(salt=salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired as error:
        raise TokenExpired(str(error)) from error
    except (signing.BadSignature, ValueError) as error:
        raise TokenInvalid(str(error)) from error
    if not isinstance(payload, dict):
        raise TokenInvalid("Malformed token")
    return payload


def _submission_id(payload: dict) -> int:
    try:
        return int(payload["s"])
    except (KeyError, TypeError, ValueError) as error:
        raise TokenInvalid("Malformed token") from error
