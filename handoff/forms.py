"""Forms of the inbox: they check the shape of the input; the services do the work."""

from __future__ import annotations

from datetime import date
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError

from handoff.models import ContactKind, Membership, Team
from handoff.selectors import InboxFilters
from leads.models import Stage


class InboxFilterForm(forms.Form):
    """The inbox's filter bar (GET). Invalid values are ignored rather than reported."""

    show = forms.ChoiceField(choices=[("todo", "Awaiting contact"), ("contacted", "Contacted")], required=False)
    stage = forms.ChoiceField(choices=[("", "Any stage"), *Stage.choices], required=False)
    source = forms.CharField(max_length=200, required=False)
    min_score = forms.IntegerField(required=False, min_value=0)
    max_score = forms.IntegerField(required=False, min_value=0)
    q = forms.CharField(max_length=100, required=False, strip=True)

    def filters(self) -> InboxFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return InboxFilters(
            show=data.get("show") or "todo",
            stage=data.get("stage") or "",
            source=(data.get("source") or "").strip(),
            min_score=data.get("min_score"),
            max_score=data.get("max_score"),
            search=data.get("q") or "",
        )


class _ActionForm(forms.Form):
    """A crispy form that posts to ``action`` with one submit button."""

    submit_label = "Save"
    submit_class = "btn-primary"

    def __init__(self, *args: Any, action: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.form_id = f"{self.prefix or type(self).__name__.lower()}-form"
        # A named button per form, so several forms on one page never share an element id.
        self.helper.add_input(
            Submit(f"{self.prefix or 'action'}-submit", self.submit_label, css_class=self.submit_class)
        )


class ContactForm(_ActionForm):
    prefix = "contact"
    submit_label = "Log contact"
    kind = forms.ChoiceField(choices=ContactKind.choices, initial=ContactKind.CALL, label="How")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)


class QualifyForm(_ActionForm):
    prefix = "qualify"
    submit_label = "Qualify as SQL"
    submit_class = "btn-success"
    budget = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="Is there budget?")
    authority = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="Who decides, and are we talking to them?"
    )
    need = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="What problem?")
    timing = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="By when?")


class RejectForm(_ActionForm):
    prefix = "reject"
    submit_label = "Reject"
    submit_class = "btn-outline-danger"
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="Marketing sees this reason."
    )


class RecycleForm(_ActionForm):
    prefix = "recycle"
    submit_label = "Recycle to nurture"
    submit_class = "btn-outline-secondary"
    recycle_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Come back on")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_recycle_on(self) -> date:
        recycle_on: date = self.cleaned_data["recycle_on"]
        if recycle_on <= self.today:
            raise ValidationError("Pick a day after today.")
        return recycle_on


def _target_choices(members: list[Membership]) -> list[tuple[str, list[tuple[str, str]]]]:
    teams: dict[int, tuple[Team, list[Membership]]] = {}
    for membership in members:
        teams.setdefault(membership.team_id, (membership.team, []))[1].append(membership)
    return [
        (
            team.name,
            [(f"team:{team.pk}", f"Next in rotation ({team.name})")]
            + [(f"rep:{m.pk}", m.user.get_full_name() or m.user.get_username()) for m in team_members],
        )
        for team, team_members in teams.values()
    ]


class AssignForm(_ActionForm):
    """Where to send a lead: the next rep in a team's rotation, or a named rep of the manager's teams."""

    prefix = "assign"
    submit_label = "Assign"
    to = forms.ChoiceField(label="Assign to")
    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args: Any, members: list[Membership], reason_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {str(m.pk): m for m in members}
        self.teams = {str(m.team_id): m.team for m in members}
        to = self.fields["to"]
        assert isinstance(to, forms.ChoiceField)  # declared above
        to.choices = _target_choices(members)
        self.fields["reason"].required = reason_required

    def target(self) -> tuple[Team, Membership | None]:
        """The chosen team, and the chosen member (None for "next in rotation")."""
        kind, _, key = self.cleaned_data["to"].partition(":")
        if kind == "rep":
            membership = self.members[key]
            return membership.team, membership
        return self.teams[key], None


class ReassignForm(AssignForm):
    prefix = "reassign"
    submit_label = "Reassign"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, reason_required=True, **kwargs)


class IdListField(forms.Field):
    """A list of integer ids from ticked checkboxes of the same name."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(item) for item in value})
        except (TypeError, ValueError) as error:
            raise ValidationError("Tick leads from the list.", code="invalid") from error


class BulkAssignForm(AssignForm):
    """Assign the ticked unassigned leads. The view checks every id is in the manager's scope."""

    prefix = "bulk"
    ids = IdListField(error_messages={"required": "Tick at least one lead."})


class BulkReassignForm(ReassignForm):
    """Reassign the ticked assignments. The view checks every id is in the manager's scope."""

    prefix = "bulk"
    ids = IdListField(error_messages={"required": "Tick at least one lead."})
