from __future__ import annotations

from django import forms

from core.validators import validate_countable_day
from leads.models import Lead


class ReportFilterForm(forms.Form):
    created_after = forms.DateField(required=False, label="Created from", validators=[validate_countable_day])
    created_before = forms.DateField(required=False, label="to", validators=[validate_countable_day])

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, stop = data.get("created_after"), data.get("created_before")
        if start and stop and start > stop:
            self.add_error("created_before", "The end date is before the start date.")
        return data


class PreviewForm(forms.Form):
    """Whose data the preview and the test email use: a lead by id or email (the newest lead when empty)."""

    lead = forms.CharField(required=False, label="Lead (id or email)", max_length=254)

    def clean_lead(self) -> Lead | None:
        value = (self.cleaned_data.get("lead") or "").strip()
        leads = Lead.objects.filter(erased_at__isnull=True)
        if not value:
            return leads.order_by("-created_at", "-id").first()
        lead = leads.filter(pk=int(value)).first() if value.isdigit() else leads.filter(email=value.lower()).first()
        if lead is None:
            raise forms.ValidationError(f"No lead with id or email {value!r}.")
        return lead
