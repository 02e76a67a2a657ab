"""Input and output shapes of the leads API. Input serializers validate shape only; services do the work."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from core.validators import InstantField
from leads import capture_cache
from leads.forms import SubmissionForm, clean_attribution, hidden_field_values
from leads.models import (
    SHOWN_ENRICHMENT_STATUSES,
    ActivityKind,
    CaptureForm,
    Consent,
    ConsentStatus,
    ConsentText,
    FieldKind,
    FormField,
    SubmissionStatus,
)

# How far ahead of our clock an activity's time may be (the sender's clock may run a little fast).
CLOCK_SKEW = timedelta(minutes=5)
MAX_EXTERNAL_ID_LENGTH = 200
MAX_DB_INTEGER = 2**63 - 1
MAX_DB_POSITIVE_INTEGER = 2**31 - 1

# What another system may report a lead did. A withdrawal is recorded by withdrawing the consents
# (POST /api/leads/{id}/withdraw-consent/), never as a bare activity that would leave them active; an
# erasure only by erasing (``integrations.privacy.erase_lead``).
RECORDABLE_ACTIVITY_KINDS = [
    (kind, label)
    for kind, label in ActivityKind.choices
    if kind not in (ActivityKind.CONSENT_WITHDRAWN, ActivityKind.DATA_ERASED)
]


class ActivityInSerializer(serializers.Serializer):
    """One activity: who (email or lead_id), what (kind), when, and free-form metadata."""

    email = serializers.EmailField(
        required=False, max_length=254, help_text="The lead's email address. Give this or `lead_id`."
    )
    lead_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_DB_INTEGER, help_text="The lead's id. Give this or `email`."
    )
    kind = serializers.ChoiceField(choices=RECORDABLE_ACTIVITY_KINDS, help_text="What the lead did.")
    occurred_at = InstantField(help_text="When it happened: ISO 8601, with a UTC offset or Z.")
    metadata = serializers.DictField(
        required=False,
        help_text="A JSON object stored with the activity (webinar name, URL …). A string `external_id` "
        "makes a resend of the same activity idempotent: it is stored once.",
    )

    def validate_metadata(self, value: dict[str, Any]) -> dict[str, Any]:
        external_id = value.get("external_id")
        if external_id is not None and (
            not isinstance(external_id, str) or not external_id or len(external_id) > MAX_EXTERNAL_ID_LENGTH
        ):
            raise serializers.ValidationError(
                f"external_id must be a non-empty string of at most {MAX_EXTERNAL_ID_LENGTH} characters."
            )
        if _has_nul(value):
            # PostgreSQL cannot store a NUL character in JSON.
            raise serializers.ValidationError("Null characters are not allowed.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "email" in attrs and "lead_id" in attrs:
            raise serializers.ValidationError({"lead_id": "Give either email or lead_id, not both."})
        if "email" not in attrs and "lead_id" not in attrs:
            raise serializers.ValidationError({"email": "Give the lead's email or lead_id."})
        if attrs["occurred_at"] > self.context["now"] + CLOCK_SKEW:
            raise serializers.ValidationError({"occurred_at": "The time is in the future."})
        return attrs


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class ActivitiesQuerySerializer(serializers.Serializer):
    unknown = serializers.ChoiceField(
        choices=[("reject", "reject"), ("skip", "skip")],
        default="reject",
        help_text="What to do with items whose lead is unknown: `reject` the whole request (400, nothing "
        "stored), or `skip` them (the others are stored; the skipped ones are listed in the response).",
    )


class RecordedActivitySerializer(serializers.Serializer):
    """One stored activity, from ``{"index": …, "activity": Activity}``."""

    index = serializers.IntegerField(help_text="The item's position in the request (0 for a single object).")
    id = serializers.IntegerField(
        source="activity.id", help_text="The activity's id; a resend with the same external_id gets the same id."
    )
    lead_id = serializers.IntegerField(source="activity.lead_id")
    kind = serializers.ChoiceField(source="activity.kind", choices=RECORDABLE_ACTIVITY_KINDS)
    occurred_at = serializers.DateTimeField(source="activity.occurred_at")


class ItemErrorsSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in the request (0 for a single object).")
    # The serializer metaclass takes declared fields out of the class, so this does not hide Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), help_text="Messages by field name."
    )


class ActivitiesRecordedSerializer(serializers.Serializer):
    activities = RecordedActivitySerializer(many=True, help_text="The activities stored, in request order.")
    skipped = ItemErrorsSerializer(many=True, help_text="Items left out with `?unknown=skip`, and why.")


class ActivitiesAcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(
        help_text="How many activities were accepted. A capture-only key is not told which leads exist: an "
        "activity for an unknown lead is accepted the same way, and not kept."
    )


class ActivityErrorsSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong; nothing was stored.")
    items = ItemErrorsSerializer(many=True, required=False, help_text="The invalid items, by position.")


# --- Submissions ----------------------------------------------------------------------------------


# A serializer whose fields are built once per class; each instance gets copies that are not built again.
#
# DRF deep-copies the declared fields for every serializer instance, and a field's deep copy runs its ``__init__``
# again (its error messages, validators and choices, a nested serializer's arguments): for a submission through the
# API that cost more than validating it. Once built, a field changes only in what ``bind`` sets when a serializer
# takes it (its name, parent, label and source), so each instance gets shallow copies of fields built once, bound
# to it as DRF binds its deep copies. For serializers that change no field's lists or dicts in place (none here
# does): those would be every instance's.
# (A comment, not a docstring: the schema would show a docstring as the description of every subclass without one.)
class _FieldsBuiltOnce(serializers.Serializer):
    _built_fields: ClassVar[dict[str, serializers.Field]]

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        built = cls.__dict__.get("_built_fields")  # this class's own, never a base class's
        if built is None:
            built = cls._built_fields = copy.deepcopy(self._declared_fields)
        return {name: _copy_of(field) for name, field in built.items()}


def _copy_of(field: serializers.Field) -> serializers.Field:
    """A shallow copy of a built field, with a copy of its child (a dict's or list's items) whose parent it is."""
    # What copy.copy does, without its trip through the pickling protocol (three times the cost).
    copied = object.__new__(type(field))
    copied.__dict__ = field.__dict__.copy()
    child = getattr(field, "child", None)
    if isinstance(child, serializers.Field):
        # The child was bound when its parent was built (its name, label and source stay): only the parent is new.
        child = _copy_of(child)
        child.parent = copied  # type: ignore[assignment]  # the stubs have only serializers as parents
        copied.child = child  # type: ignore[attr-defined]
    return copied


class ConsentInSerializer(_FieldsBuiltOnce):
    given = serializers.BooleanField(
        help_text="Must be `true`: the person agreed to the form's consent text (on an opt-in form) or was shown "
        "its notice (legitimate interest). Send no submission for a person who did not."
    )
    text_version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DB_POSITIVE_INTEGER,
        help_text="The form's consent text version the person was shown (admin lists them under the form). "
        "Default: the current one. It must be a version of this form.",
    )

    def validate_given(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(
                "The person must agree to the consent text (given: true); nothing is stored without consent."
            )
        return value


class AttributionSerializer(_FieldsBuiltOnce):
    """Where the person came from, as the form page saw it; like the public form, it never costs a lead."""

    utm_source = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    utm_medium = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    utm_campaign = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    utm_term = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    utm_content = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    gclid = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="Google click id.")
    referrer = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="The page before the form's page (http/https)."
    )
    landing_page = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The page the form was on; `utm_*` values missing above are read from its query string.",
    )


class SubmissionInSerializer(_FieldsBuiltOnce):
    """A form filled in on another system: which form, the person's answers and consent, where they came from."""

    # validated_data holds the form and consent_text rows, the answers as the public form's class cleaned
    # them (by field key, as the public form stores them) and the cleaned attribution: ready for
    # leads.submissions.submit_form_from_api.

    form = serializers.CharField(max_length=80, help_text="The form's slug: its address is /f/<slug>/.")
    answers = serializers.DictField(
        help_text="The answers by field key: each field's lead attribute (`email`, `phone`, `first_name`, "
        "`last_name`, `company_name`, `job_title`, `country`) or its custom answer key (e.g. `team_size`), "
        "the names the public form posts. Every field of the form is accepted (progressive ones too); "
        "required fields are required, a key the form has no field for is refused, and a hidden field left "
        "out gets its default. Values: a string (a number for number fields), `true`/`false` for a checkbox, a "
        "list of strings for a multi-select; a country is an ISO 3166-1 alpha-2 code such as `GB`."
    )
    consent = ConsentInSerializer(help_text="The person's consent to the form's consent text.")
    attribution = AttributionSerializer(required=False, help_text="UTM values, click id, referrer, landing page.")
    ip_address = serializers.IPAddressField(
        required=False,
        allow_null=True,
        help_text="The person's address, as the system they used saw it; kept with the submission and consent.",
    )
    user_agent = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="The person's browser (User-Agent)."
    )
    submitted_at = InstantField(
        required=False, help_text="When the person sent the form: ISO 8601, with a UTC offset or Z. Default: now."
    )

    def validate_form(self, value: str) -> CaptureForm:
        entry = capture_cache.form_entry(value)
        form = entry.form if entry is not None else None
        if form is None:
            raise serializers.ValidationError(f"No form has the slug “{value}”.")
        if not form.is_active:
            raise serializers.ValidationError(f"The form “{value}” is not active; switch it on in admin first.")
        return form

    def validate_submitted_at(self, value: datetime) -> datetime:
        if value > self.context["now"] + CLOCK_SKEW:
            raise serializers.ValidationError("The time is in the future.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        form: CaptureForm = attrs["form"]
        consent_text = _consent_text(form, version=attrs["consent"].get("text_version"))
        return {
            **attrs,
            "consent_text": consent_text,
            "answers": _cleaned_answers(form, consent_text=consent_text, answers=attrs["answers"]),
            "attribution": clean_attribution(attrs.get("attribution") or {}),
            "user_agent": attrs.get("user_agent") or "",
        }


def _consent_text(form: CaptureForm, *, version: int | None) -> ConsentText:
    entry = capture_cache.form_entry(form.slug)
    if version is None:
        current = entry.current_consent_text if entry is not None else None
        if current is None:
            raise serializers.ValidationError({"form": ["This form has no consent text yet; add one in admin."]})
        return current
    named = entry.consent_text(version=version) if entry is not None else None
    if named is None:
        raise serializers.ValidationError({"consent": {"text_version": [f"This form has no consent text v{version}."]}})
    return named


def _cleaned_answers(form: CaptureForm, *, consent_text: ConsentText, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers checked by the public form's own form class, with every field of the form shown."""
    fields = list(form.fields.all())
    keys = {field.key: field for field in fields}
    problems = {key: [f"The form has no field “{key}”."] for key in answers if key not in keys}
    given = {key: value for key, value in answers.items() if key in keys and value is not None}
    for key, value in given.items():
        problem = _type_problem(keys[key], value)
        if problem:
            problems[key] = [problem]
    if problems:
        raise serializers.ValidationError({"answers": problems})
    data = {**given, **hidden_field_values(fields, given), "consent": True}
    django_form = SubmissionForm(data, fields=fields, consent_text=consent_text, legal_basis=form.legal_basis)
    if not django_form.is_valid():
        raise serializers.ValidationError(_form_errors(django_form))
    return django_form.answers()


def _type_problem(field: FormField, value: object) -> str | None:
    """What is wrong with the JSON type of an answer, before the form checks its value."""
    match field.kind:
        case FieldKind.MULTI_SELECT:
            ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
            return None if ok else "Give a list of the chosen options."
        case FieldKind.CHECKBOX:
            return None if isinstance(value, bool) else "Give true or false."
        case _:
            ok = isinstance(value, str | int | float) and not isinstance(value, bool)
            return None if ok else "Give a string."


def _form_errors(django_form: SubmissionForm) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    for key, messages in django_form.errors.items():
        if key == "consent":
            errors["consent"] = {"given": list(messages)}
        elif key == "__all__":
            errors.setdefault("answers", {})[api_settings.NON_FIELD_ERRORS_KEY] = list(messages)
        else:
            errors.setdefault("answers", {})[key] = list(messages)
    return errors


class SubmissionCapturedSerializer(_FieldsBuiltOnce):
    """The stored submission, what became of it, and of its consent."""

    # Its fields declared rather than read from the model: a ModelSerializer builds them again on every
    # response, a cost each capture through the API paid.
    id = serializers.IntegerField(read_only=True)
    lead_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The lead captured or updated; null when spam."
    )
    status = serializers.ChoiceField(
        read_only=True,
        choices=SubmissionStatus.choices,
        help_text="`captured`: the lead was captured and the pipeline queued. `spam`: held without a lead "
        "(the public form's spam checks; submissions through the API are not held).",
    )
    consent_status = serializers.ChoiceField(
        read_only=True,
        source="consent.status",
        choices=ConsentStatus.choices,
        allow_null=True,
        help_text="`pending` until the person confirms a double opt-in form's email; null when spam.",
    )


class SubmissionErrorsSerializer(_FieldsBuiltOnce):
    detail = serializers.CharField(help_text="What went wrong; nothing was stored.")
    # The serializer metaclass takes declared fields out of the class, so this does not hide Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages by field; nested fields are named with dots (`answers.email`, `consent.given`).",
    )


# --- Consent withdrawal -----------------------------------------------------------------------------


# "status" already names the submissions' choice set in the schema: documented as a string, like handoff's.
@extend_schema_field({"type": "string", "description": "One of: " + ", ".join(ConsentStatus.values)})
class ConsentStatusField(serializers.ChoiceField):
    pass


def shown_enrichment_status_field(**kwargs: Any) -> serializers.ChoiceField:
    """A lead's enrichment status as the API and webhooks show it (``Lead.shown_enrichment_status``): `erased` for an
    erased lead never enriched, which nothing will enrich."""
    return serializers.ChoiceField(
        source="shown_enrichment_status", choices=SHOWN_ENRICHMENT_STATUSES, read_only=True, **kwargs
    )


class ConsentSerializer(serializers.ModelSerializer[Consent]):
    """One consent as the lead's API shows it (``GET /api/leads/{id}/`` uses it too)."""

    status = ConsentStatusField(choices=ConsentStatus.choices, read_only=True, help_text="`pending` until confirmed.")

    class Meta:
        model = Consent
        fields = [
            "id",
            "legal_basis",
            "status",
            "text_version",
            "source",
            "source_ref",
            "given_at",
            "confirmed_at",
            "withdrawn_at",
        ]
        read_only_fields = fields


class WithdrawConsentInSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=1000,
        help_text="How the withdrawal reached you (“Phoned on 2 March”); kept with the lead's activity, never sent on.",
    )


class ConsentsWithdrawnSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField(help_text="The lead whose consents were withdrawn.")
    withdrawn = serializers.IntegerField(
        help_text="How many consents this request withdrew: 0 when every one already was (a repeat changes nothing)."
    )
    consents = ConsentSerializer(many=True, help_text="Every consent of the lead, newest first, as it is now.")
