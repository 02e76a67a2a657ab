from __future__ import annotations

from typing import Any, TypedDict

from django import forms
from django.core.exceptions import ValidationError

from core.validators import validate_countable_day, validate_storable_datetime
from leads.channels import Channel
from leads.models import Touch


class ReportOptions(TypedDict):
    """The options as ``ReportFilter.scope`` takes them."""

    period: str
    volume_by: str


class ReportFilterForm(forms.Form):
    """The report filters' form (``ReportFilter``): besides each field's own checks, a range must run forwards and
    stay within the years a report can count."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        created = data.get("created")
        start, stop = (created.start, created.stop) if isinstance(created, slice) else (None, None)
        try:
            for day in (start, stop):
                validate_countable_day(day)
        except ValidationError as error:
            self.add_error("created", error)
            return data
        if start is not None and stop is not None and start > stop:
            self.add_error("created", "The start date is after the end date: swap them to see that range.")
        return data


class ReportOptionsForm(forms.Form):
    """How the volume report is cut: per week or month, by channel or source (weekly by channel when left out; an
    option it does not know is an error, like a filter's)."""

    period = forms.ChoiceField(
        choices=[("week", "Weekly"), ("month", "Monthly")],
        required=False,
        error_messages={"invalid_choice": "Choose a weekly or monthly period: '%(value)s' is neither."},
    )
    by = forms.ChoiceField(
        label="Volume by",
        choices=[("channel", "Channel"), ("source", "Source")],
        required=False,
        error_messages={"invalid_choice": "Choose volume by channel or by source: '%(value)s' is neither."},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"

    def choices(self) -> ReportOptions:
        """The options asked for, an option left out taking its default. Options that do not validate have none:
        the default in place of an unknown option is not what was asked (the view shows the error instead)."""
        if not self.is_valid():
            raise ValueError("The report options do not validate: show their errors, not the defaults' figures.")
        return {"period": self.cleaned_data["period"] or "week", "volume_by": self.cleaned_data["by"] or "channel"}


class FirstTouchCorrectionForm(forms.Form):
    """Credit the lead to one of its touches, or to a touch no tracking saw (entered by hand)."""

    touch = forms.ModelChoiceField(
        queryset=Touch.objects.none(), required=False, widget=forms.RadioSelect, label="One of the lead's touches"
    )
    channel = forms.ChoiceField(choices=[("", "---------"), *Channel.CHOICES], required=False)
    source = forms.CharField(max_length=200, required=False, help_text="e.g. b2b-growth-podcast")
    medium = forms.CharField(max_length=100, required=False)
    campaign = forms.CharField(max_length=200, required=False)
    occurred_at = forms.DateTimeField(
        validators=[validate_storable_datetime],
        label="When",
        required=False,
        help_text="When the touch happened; empty: when the lead was created.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Why the recorded first touch is wrong."
    )

    def __init__(self, *args: object, touches: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["touch"].queryset = touches  # type: ignore[attr-defined]
        self.fields["touch"].label_from_instance = _touch_label  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        has_touch, has_offline = bool(data.get("touch")), bool(data.get("channel") or data.get("source"))
        if has_touch == has_offline:
            raise ValidationError("Choose one of the lead's touches, or give the channel of a touch entered by hand.")
        if has_offline and not data.get("channel"):
            self.add_error("channel", "Give the channel of the touch.")
        return data


def _touch_label(touch: Touch) -> str:
    what = " / ".join(part for part in (touch.source, touch.medium, touch.campaign) if part) or "direct"
    meaningful = "" if touch.is_meaningful else " (not meaningful)"
    return f"{touch.occurred_at:%Y-%m-%d %H:%M} · {touch.channel or 'other'} · {what}{meaningful}"
