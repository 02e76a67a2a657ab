from datetime import timedelta

import pytest
import time_machine

from leads import tokens
from leads.models import CaptureForm, ConsentText
from leads.tests.factories import FIXED_NOW, CaptureFormFactory

pytestmark = pytest.mark.django_db


def test_render_token_carries_form_consent_version_fields_time_and_a_nonce(whitepaper: CaptureForm) -> None:
    consent_text = whitepaper.consent_texts.get()
    fields = list(whitepaper.fields.all()[:2])

    token = tokens.issue_render_token(form=whitepaper, consent_text=consent_text, fields=fields, now=FIXED_NOW)

    render = tokens.read_render_token(token, form=whitepaper)
    assert (render.form_id, render.consent_text_id) == (whitepaper.pk, consent_text.pk)
    assert render.field_ids == tuple(field.pk for field in fields)
    assert render.rendered_at == FIXED_NOW
    assert len(render.nonce) >= 20


def test_each_render_gets_its_own_nonce(whitepaper: CaptureForm) -> None:
    consent_text = whitepaper.consent_texts.get()

    first, second = (
        tokens.read_render_token(
            tokens.issue_render_token(form=whitepaper, consent_text=consent_text, fields=[], now=FIXED_NOW),
            form=whitepaper,
        )
        for _ in range(2)
    )

    assert first.nonce != second.nonce


def test_a_tampered_render_token_is_invalid(whitepaper: CaptureForm) -> None:
    token = tokens.issue_render_token(
        form=whitepaper, consent_text=whitepaper.consent_texts.get(), fields=[], now=FIXED_NOW
    )

    with pytest.raises(tokens.TokenInvalid):
        tokens.read_render_token(token[:-2] + "xx", form=whitepaper)


def test_a_render_token_of_another_form_is_invalid(whitepaper: CaptureForm) -> None:
    token = tokens.issue_render_token(
        form=whitepaper, consent_text=whitepaper.consent_texts.get(), fields=[], now=FIXED_NOW
    )

    with pytest.raises(tokens.TokenInvalid):
        tokens.read_render_token(token, form=CaptureFormFactory())


def test_a_render_token_expires(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    token = tokens.issue_render_token(
        form=whitepaper, consent_text=ConsentText.objects.get(form=whitepaper), fields=[], now=FIXED_NOW
    )
    clock.shift(tokens.RENDER_TOKEN_MAX_AGE + timedelta(seconds=1))

    with pytest.raises(tokens.TokenExpired):
        tokens.read_render_token(token, form=whitepaper)


def test_an_asset_token_is_not_a_confirm_token() -> None:
    token = tokens.asset_token(submission_id=7)

    with pytest.raises(tokens.TokenInvalid):
        tokens.read_confirm_token(token)


def test_an_expired_asset_token_still_names_its_submission(clock: time_machine.Traveller) -> None:
    token = tokens.asset_token(submission_id=7)
    clock.shift(tokens.ASSET_LINK_MAX_AGE + timedelta(seconds=1))

    with pytest.raises(tokens.TokenExpired):
        tokens.read_asset_token(token)
    assert tokens.read_expired_asset_token(token) == 7
