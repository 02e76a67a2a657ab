from __future__ import annotations

from django import forms

from core import outbound
from integrations.models import ApiKey, ApiKeyScope, WebhookEndpoint
from leads import events


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2000, assume_scheme="https", help_text="Receives a signed JSON POST for each event."
    )
    events = forms.MultipleChoiceField(
        choices=[(event, event) for event in events.EVENTS],
        widget=forms.CheckboxSelectMultiple,
        help_text="The lead events this endpoint receives.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "events", "is_active")

    def clean_url(self) -> str:
        # Checked here, when a person types it; every delivery checks it again (DNS changes).
        url = self.cleaned_data["url"]
        try:
            outbound.check_url(url)
        except outbound.OutboundRefused as exc:
            raise forms.ValidationError(str(exc), code="outbound_refused") from exc
        return url


class PersonalTokenForm(forms.ModelForm):
    scope = forms.ChoiceField(
        choices=ApiKeyScope.choices,
        initial=ApiKeyScope.READ,
        help_text="The token never does more than you may; a narrower scope limits it further.",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scope", "expires_at")
        widgets = {"expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}
