"""Forms of the inbox: they check the shape of the input; the services do the work."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Self
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest, QueryDict
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from handoff.models import AssignmentState, ContactKind, Membership, Team, validate_timezone
from handoff.selectors import INBOX_SORTS, InboxFilters, QueueFilters
from leads.models import Stage


class _Shared:
    """A form field given to every instance of its form as it is, where Django deep-copies each field for each one.

    The list pages build their filter forms on every view (the lead page its action forms), and copying a field cost
    more than cleaning its value: only for fields that no instance changes (those whose choices each instance sets
    are copied as usual).
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self


class _SharedChoiceField(_Shared, forms.ChoiceField):
    pass


class _SharedCharField(_Shared, forms.CharField):
    pass


class _SharedDateField(_Shared, forms.DateField):
    pass


class _SharedDateTimeField(_Shared, forms.DateTimeField):
    pass


class _SharedIntegerField(_Shared, forms.IntegerField):
    pass


class InboxFilterForm(forms.Form):
    """The inbox's filter bar (GET). A value that does not fit is shown as an error and the others still apply."""

    show = _SharedChoiceField(choices=[("todo", "Awaiting contact"), ("contacted", "Contacted")], required=False)
    sort = _SharedChoiceField(choices=[(key, sort.label) for key, sort in INBOX_SORTS.items()], required=False)
    stage = _SharedChoiceField(choices=[("", "Any stage"), *Stage.choices], required=False)
    # Offered as pick lists of the values seen; any value is accepted, so a saved view never goes stale.
    source = _SharedCharField(max_length=200, required=False, strip=True)
    campaign = _SharedCharField(max_length=200, required=False, strip=True)
    team = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    assigned_from = _SharedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    assigned_to = _SharedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    min_score = _SharedIntegerField(required=False, min_value=0)
    max_score = _SharedIntegerField(required=False, min_value=0)
    q = _SharedCharField(max_length=100, required=False, strip=True)

    def __init__(
        self,
        *args: Any,
        sources: list[str],
        campaigns: list[str],
        teams: list[Team],
        zone: tzinfo,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.source_choices = self._pick_list("source", sources, "Any source")
        self.campaign_choices = self._pick_list("campaign", campaigns, "Any campaign")
        self._set_choices("team", [("", "Any team"), *((str(team.pk), team.name) for team in teams)])

    def _pick_list(self, name: str, values: list[str], blank: str) -> list[tuple[str, str]]:
        """The known values, and the one asked for (a saved view's) when it is not among them."""
        chosen = (self.data.get(name) or "").strip()
        extra = [chosen] if chosen and chosen.lower() not in {value.lower() for value in values} else []
        return [("", blank), *((value, value) for value in [*extra, *values])]

    def _set_choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)  # declared above
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("assigned_from"), data.get("assigned_to")
        if start and end and end < start:
            self.add_error("assigned_to", "The last day cannot be before the first.")
        return data

    def filters(self) -> InboxFilters:
        self.is_valid()
        # The fields that passed their checks; a bad one is reported on the bar and left out of the filter.
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        start, end = data.get("assigned_from"), data.get("assigned_to")
        return InboxFilters(
            show=data.get("show") or "todo",
            sort=data.get("sort") or "due",
            stage=data.get("stage") or "",
            source=data.get("source") or "",
            campaign=data.get("campaign") or "",
            team_id=data.get("team"),
            assigned_from=datetime.combine(start, time.min, tzinfo=self.zone) if start else None,
            assigned_until=datetime.combine(end + timedelta(days=1), time.min, tzinfo=self.zone) if end else None,
            min_score=data.get("min_score"),
            max_score=data.get("max_score"),
            search=data.get("q") or "",
        )


class QueueFilterForm(forms.Form):
    """The team queue's filter bar (GET): team, rep, state and a search; a bad value is reported and skipped."""

    team = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    rep = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    state = _SharedChoiceField(choices=[("", "Any status"), *AssignmentState.choices], required=False)
    q = _SharedCharField(max_length=100, required=False, strip=True)

    def __init__(self, *args: Any, teams: list[Team], members: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field, rep_field = self.fields["team"], self.fields["rep"]
        assert isinstance(team_field, forms.ChoiceField) and isinstance(rep_field, forms.ChoiceField)
        team_field.choices = [("", "All my teams"), *((str(team.pk), team.name) for team in teams)]
        reps = {m.user_id: m.user.get_full_name() or m.user.get_username() for m in members}
        by_name = sorted(reps.items(), key=lambda rep: rep[1])
        rep_field.choices = [("", "Any rep"), *((str(pk), name) for pk, name in by_name)]

    def filters(self) -> QueueFilters:
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        return QueueFilters(
            team_id=data.get("team"), rep_id=data.get("rep"), state=data.get("state") or "", search=data.get("q") or ""
        )


class SaveViewForm(forms.Form):
    """Name the inbox's current filters; a manager may share the view with one of their teams."""

    name = _SharedCharField(max_length=80, strip=True)
    query = _SharedCharField(max_length=1000, required=False, widget=forms.HiddenInput)
    team = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Share with")

    def __init__(self, *args: Any, shareable_teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Only me"), *((str(team.pk), f"Team {team.name}") for team in shareable_teams)]
        self.shareable_teams = {team.pk: team for team in shareable_teams}

    def clean_query(self) -> str:
        # Keep only the filter fields (never a cursor), so a saved view always opens on its first page.
        query = QueryDict(self.cleaned_data.get("query") or "", mutable=True)
        for key in list(query):
            if key not in SAVED_VIEW_KEYS:
                del query[key]
        return query.urlencode()


SAVED_VIEW_KEYS = frozenset(InboxFilterForm.base_fields)


class _LightWidgetRenderer(DjangoTemplates):
    """Django's form renderer, printing the text-like inputs and the textarea in Python.

    The same markup as Django's ``input.html``, ``attrs.html`` and ``textarea.html``: through the template
    language, each widget costs more than the rest of its form's markup. Other widgets (selects) keep theirs.
    """

    def render(self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None) -> str:
        # Only widget templates have a "widget" in their context; errors and whole forms go to Django as they are.
        if template_name in _INPUT_TEMPLATES:
            widget = context["widget"]
            value = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
            return format_html(
                '<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], value, _attrs_html(widget["attrs"])
            )
        if template_name == "django/forms/widgets/textarea.html":
            widget = context["widget"]
            attrs = _attrs_html(widget["attrs"])
            return format_html('<textarea name="{}"{}>\n{}</textarea>', widget["name"], attrs, widget["value"] or "")
        return super().render(template_name, context, request)


_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html" for name in ("text", "date", "datetime", "time", "number", "email", "url")
)


def _attrs_html(attrs: dict[str, Any]) -> SafeString:
    shown = (
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items()
        if value is not False
    )
    return mark_safe("".join(shown))  # each attribute escaped by format_html


class _ActionForm(forms.Form):
    """A form that posts to ``action`` with one submit button, in Bootstrap 5 markup (``fields_html``)."""

    default_renderer = _LightWidgetRenderer()

    submit_label = "Save"
    submit_class = "btn-primary"
    # True when an empty form prints the same markup for the same initial values (no choices of the request's):
    # its markup is then built once per process and initial values (as the active time zone shows them), as
    # Django renders each widget (each <option>) from a template.
    same_when_empty = False

    def __init__(self, *args: Any, action: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action
        self.form_id = f"{self.prefix or type(self).__name__.lower()}-form"

    def fields_html(self) -> SafeString:
        """The fields, their labels, help and errors, and the submit button: the markup crispy's bootstrap5 pack
        printed for these forms, built here in one pass (crispy renders several templates per field, which
        cost as much as the rest of the lead page). The page prints the ``<form>`` tag and the CSRF input.
        """
        if not self.same_when_empty or self.is_bound:
            return self._fields_html()
        key = (
            type(self),
            self.prefix,
            *self._markup_varies_with(),
            *((name, self[name].value()) for name in self.initial if name in self.fields),
        )
        html = _EMPTY_FORMS_HTML.get(key)
        if html is None:
            if len(_EMPTY_FORMS_HTML) >= _EMPTY_FORMS_KEPT:  # initial values that change (the follow-up's due time)
                _EMPTY_FORMS_HTML.clear()
            html = _EMPTY_FORMS_HTML[key] = self._fields_html()
        return html

    def _markup_varies_with(self) -> tuple[object, ...]:
        """What else than the initial values an empty form's markup depends on (part of its key)."""
        return ()

    def _fields_html(self) -> SafeString:
        errors = self.non_field_errors()
        parts = [_non_field_errors_html(errors)] if errors else []
        parts.extend(_field_html(field) for field in self)
        # A named button per form, so several forms on one page never share an element id.
        name = f"{self.prefix or 'action'}-submit"
        parts.append(
            format_html(
                '<div class="mb-3"><div class=""><input type="submit" name="{}" value="{}" class="btn {}" id="{}">'
                "</div></div>",
                name,
                self.submit_label,
                self.submit_class,
                f"submit-id-{name}",
            )
        )
        return mark_safe("".join(parts))  # every part is escaped by format_html or rendered by its widget


_EMPTY_FORMS_HTML: dict[tuple[object, ...], SafeString] = {}
_EMPTY_FORMS_KEPT = 256


def _field_html(field: forms.BoundField) -> str:
    if field.is_hidden:
        return str(field)
    widget = field.field.widget
    control = "form-select" if isinstance(widget, forms.Select) else "form-control"
    invalid = " is-invalid" if field.errors else ""
    css = f"{widget.attrs.get('class', '')} {type(widget).__name__.lower()} {control}{invalid}".strip()
    required = field.field.required
    label = format_html(
        '<label for="{}" class="form-label{}">{}{}</label>',
        field.id_for_label,
        " requiredField" if required else "",
        field.label,
        mark_safe('<span class="asteriskField">*</span>') if required else "",
    )
    errors = (
        format_html(
            '<div id="{}_error" class="invalid-feedback">{}</div>',
            field.auto_id,  # the id the widget's aria-describedby names
            format_html_join(
                "",
                '<span id="error_{}_{}"><strong>{}</strong></span>',
                ((number, field.auto_id, error) for number, error in enumerate(field.errors, start=1)),
            ),
        )
        if field.errors
        else ""
    )
    help_text = (
        format_html('<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text)
        if field.help_text
        else ""
    )
    return format_html(
        '<div id="div_{}" class="mb-3">{}{}{}{}</div>',
        field.auto_id,
        label,
        field.as_widget(attrs={"class": css}),
        errors,
        help_text,
    )


def _non_field_errors_html(errors: Iterable[object]) -> str:
    return format_html(
        '<div class="alert alert-block alert-danger"><ul class="m-0">{}</ul></div>',
        format_html_join("", "<li>{}</li>", ((error,) for error in errors)),
    )


class ContactForm(_ActionForm):
    prefix = "contact"
    same_when_empty = True
    submit_label = "Log contact"
    kind = _SharedChoiceField(choices=ContactKind.choices, initial=ContactKind.CALL, label="How")
    note = _SharedCharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)


class QualifyForm(_ActionForm):
    prefix = "qualify"
    same_when_empty = True
    submit_label = "Qualify as SQL"
    submit_class = "btn-success"
    budget = _SharedCharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="Is there budget?")
    authority = _SharedCharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="Who decides, and are we talking to them?"
    )
    need = _SharedCharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="What problem?")
    timing = _SharedCharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="By when?")


class RejectForm(_ActionForm):
    prefix = "reject"
    same_when_empty = True
    submit_label = "Reject"
    submit_class = "btn-outline-danger"
    reason = _SharedCharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="Marketing sees this reason."
    )


class RecycleForm(_ActionForm):
    prefix = "recycle"
    same_when_empty = True
    submit_label = "Recycle to nurture"
    submit_class = "btn-outline-secondary"
    # Not shared: each form offers no day before its own ``first_day``.
    recycle_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Come back on")
    reason = _SharedCharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        """``today``: the day it is in the team's timezone; the lead can come back from the next one."""
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["recycle_on"].widget.attrs["min"] = first_recycle_day(today).isoformat()

    def _markup_varies_with(self) -> tuple[object, ...]:
        return (self.today,)

    def clean_recycle_on(self) -> date:
        recycle_on: date = self.cleaned_data["recycle_on"]
        if recycle_on < first_recycle_day(self.today):
            raise ValidationError("Pick a day after today.")
        return recycle_on


def first_recycle_day(today: date) -> date:
    """The first day a lead can be recycled until: the day after ``today`` (a day already begun is refused)."""
    return today + timedelta(days=1)


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


class FollowUpForm(_ActionForm):
    """A follow-up task on the lead: when (in the viewer's time zone) and what to do."""

    prefix = "followup"
    same_when_empty = True
    submit_label = "Add follow-up"
    submit_class = "btn-outline-primary"
    due_at = _SharedDateTimeField(
        label="Due", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    note = _SharedCharField(max_length=500, label="What to do", widget=forms.TextInput)

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now

    def clean_due_at(self) -> datetime:
        due_at: datetime = self.cleaned_data["due_at"]  # aware: read in the active (viewer's) time zone
        if due_at <= self.now:
            raise ValidationError("Pick a time in the future.")
        return due_at


@functools.cache
def _timezone_choices() -> list[tuple[str, str]]:
    """Every IANA zone, read once per process: listing tzdata takes tens of milliseconds, on every lead page."""
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class TimezoneForm(forms.Form):
    """The time zone the viewer reads every time in."""

    timezone = forms.ChoiceField(label="Show times in")
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["timezone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _timezone_choices()
        field.validators.append(validate_timezone)


@functools.lru_cache(maxsize=64)
def timezone_options(selected: str) -> SafeString:
    """``TimezoneForm``'s zone picker as ``<option>`` tags, ``selected`` selected, for the page to print.

    About 600 zones: printed by a template loop, or even handed to a form's ChoiceField (which copies them
    into its widget), they cost as much as the rest of the lead page. Kept per process and selected zone: a
    handful of zones are in use, and the list changes with tzdata only.
    """
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == selected else "", label) for value, label in _timezone_choices()),
    )


REP_BULK_ACTIONS = {"accept": "Accept", "reject": "Reject", "recycle": "Recycle to nurture"}
TEAM_BULK_ACTIONS = {"reject": "Reject", "recycle": "Recycle to nurture"}


class BulkActionForm(forms.Form):
    """Accept, reject or recycle the ticked leads; the view shows what will happen before doing it."""

    action = forms.ChoiceField(choices=list(REP_BULK_ACTIONS.items()))
    ids = IdListField(error_messages={"required": "Tick at least one lead."})
    reason = forms.CharField(max_length=2000, required=False)
    recycle_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Come back on")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, today: date, actions: dict[str, str] = REP_BULK_ACTIONS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        field = self.fields["action"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = list(actions.items())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if not data.get("confirm"):
            return data  # the confirmation page asks for the reason and the date
        if action == "reject" and not data.get("reason"):
            self.add_error("reason", "Give marketing a reason for rejecting.")
        if action == "recycle":
            recycle_on = data.get("recycle_on")
            if recycle_on is None:
                self.add_error("recycle_on", "Pick the day the leads come back.")
            elif recycle_on < first_recycle_day(self.today):
                self.add_error("recycle_on", "Pick a day after today.")
        return data
