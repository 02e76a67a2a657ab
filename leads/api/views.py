"""The leads app's API views. Each checks access (by its declared scope and permissions), parses input
through a serializer, and calls the same services as the pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core import roles
from core.api import ErrorDetailSerializer
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, IDEMPOTENCY_RESPONSES, idempotent
from leads import services, submissions
from leads.api.schema import (
    ACTIVITIES_EXAMPLES,
    AUTH_RESPONSES,
    INVALID_INPUT,
    INVALID_SUBMISSION_DETAIL,
    LEAD_ID_PARAMETER,
    SUBMISSION_EXAMPLES,
    SUPPRESSED_SUBMISSION_DETAIL,
    WITHDRAW_CONSENT_EXAMPLES,
)
from leads.api.serializers import (
    ActivitiesAcceptedSerializer,
    ActivitiesQuerySerializer,
    ActivitiesRecordedSerializer,
    ActivityErrorsSerializer,
    ActivityInSerializer,
    ConsentsWithdrawnSerializer,
    SubmissionCapturedSerializer,
    SubmissionErrorsSerializer,
    SubmissionInSerializer,
    WithdrawConsentInSerializer,
)
from leads.models import CaptureForm, Lead
from leads.normalise import normalise_email

MAX_BATCH = 500


class _ApiKey(Protocol):
    """What these views read of ``request.auth`` when it is an API key (``integrations.models.ApiKey``)."""

    def allows(self, scope: str) -> bool: ...


@extend_schema(tags=["activities"])
class RecordActivitiesView(APIView):
    required_scope = "capture"
    required_permissions = ("leads.add_activity",)

    @extend_schema(
        operation_id="activities_create",
        summary="Record activities",
        description=(
            "Record what leads did (a webinar attended, an email clicked …), one activity or a batch of up to "
            f"{MAX_BATCH}. Each lead is named by `email` or `lead_id`; activities create no leads. Every lead "
            "that got an activity is rescored in the background.\n\n"
            "A batch is all or nothing: with any invalid item (or, by default, an unknown lead) nothing is "
            "stored and the 400 response lists each invalid item by its position. With `?unknown=skip`, items "
            "whose lead is unknown are left out and listed under `skipped`.\n\n"
            "Resending is safe: an activity with the same `metadata.external_id` (for the same lead and kind) "
            "is stored once, and an `Idempotency-Key` header replays the first response.\n\n"
            "A key with the `capture` scope alone may not learn which leads exist, so it gets the same answer "
            "whatever the leads: `202` with the number of activities accepted. Those of known leads are "
            "recorded; those of unknown leads are dropped, not kept for later, and `unknown` does not apply.\n\n"
            "Needs an integration key with the `capture` or `full` scope, or a person allowed to add activities."
        ),
        parameters=[
            OpenApiParameter(
                "unknown",
                enum=["reject", "skip"],
                default="reject",
                description=ActivitiesQuerySerializer().fields["unknown"].help_text or "",
            ),
            IDEMPOTENCY_KEY_PARAMETER,
        ],
        request=PolymorphicProxySerializer(
            component_name="ActivityInput",
            serializers=[ActivityInSerializer, ActivityInSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: ActivitiesRecordedSerializer,
            202: OpenApiResponse(ActivitiesAcceptedSerializer, description="Accepted from a capture-only key."),
            400: OpenApiResponse(ActivityErrorsSerializer, description="Invalid input; nothing was stored."),
            **AUTH_RESPONSES,
            **IDEMPOTENCY_RESPONSES,
        },
        examples=ACTIVITIES_EXAMPLES,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        query = ActivitiesQuerySerializer(data=request.query_params)
        if not query.is_valid():
            return _invalid("The query parameter unknown must be “reject” or “skip”.")
        items = _items_of(request.data)
        if items is None:
            return _invalid(f"Send one activity object, or a list of 1 to {MAX_BATCH} of them.")
        now = timezone.now()
        serializer = ActivityInSerializer(data=items, many=True, context={"now": now})
        if not serializer.is_valid():
            return _invalid_items(_item_errors(serializer.errors), total=len(items))
        validated: list[dict[str, Any]] = serializer.validated_data
        leads = _leads_for(validated, among=roles.scoped_leads(request.user, Lead.objects.all()))
        if not _may_learn_which_leads_exist(request):
            _record_all(validated, leads, now=now)
            return Response(ActivitiesAcceptedSerializer({"accepted": len(validated)}).data, status=202)
        unknown = [{"index": i, "errors": _unknown_lead(item)} for i, item in enumerate(validated) if leads[i] is None]
        if unknown and query.validated_data["unknown"] == "reject":
            return _invalid_items(unknown, total=len(items))
        recorded = _record_all(validated, leads, now=now)
        return Response(ActivitiesRecordedSerializer({"activities": recorded, "skipped": unknown}).data, status=201)


def _may_learn_which_leads_exist(request: Request) -> bool:
    """Whether the caller may be told which leads exist: a key that may read them, or a person who sees them.

    A capture-only key may not: a different answer for a known and an unknown email would tell whoever holds
    a webinar tool's key who is a lead. Refusing both would stop it recording by email, which is its job.
    """
    # drf-stubs type request.auth as DRF's own Token; ours is an integrations ApiKey (or None for a session).
    api_key = cast("_ApiKey | None", request.auth)
    if api_key is not None and not api_key.allows("read"):
        return False
    return getattr(api_key, "is_integration", False) or request.user.has_perm("leads.view_lead")


def _items_of(data: object) -> list[Any] | None:
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list) and 0 < len(data) <= MAX_BATCH:
        return data
    return None


def _record_all(
    items: Sequence[dict[str, Any]], leads: Sequence[Lead | None], *, now: datetime
) -> list[dict[str, Any]]:
    """Record each item whose lead is known, in one transaction: a batch is stored whole or not at all."""
    recorded = []
    with transaction.atomic():
        for index, (item, lead) in enumerate(zip(items, leads, strict=True)):
            if lead is None:
                continue
            activity = services.record_activity(
                lead=lead, kind=item["kind"], occurred_at=item["occurred_at"], now=now, metadata=item.get("metadata")
            )
            recorded.append({"index": index, "activity": activity})
    return recorded


def _invalid(detail: str, items: Sequence[dict[str, Any]] = ()) -> Response:
    return Response(ActivityErrorsSerializer({"detail": detail, "items": list(items)}).data, status=400)


def _invalid_items(items: Sequence[dict[str, Any]], *, total: int) -> Response:
    return _invalid(f"No activity was stored: {len(items)} of {total} items are invalid.", items)


def _item_errors(errors: Mapping[int, Any] | Sequence[Any]) -> list[dict[str, Any]]:
    # DRF reports a list serializer's errors by position: a dict of the invalid ones, or a list of all.
    pairs = errors.items() if isinstance(errors, Mapping) else enumerate(errors)
    return [{"index": index, "errors": item} for index, item in sorted(pairs) if item]


def _unknown_lead(item: dict[str, Any]) -> dict[str, list[str]]:
    if "email" in item:
        return {"email": ["No lead has this email address."]}
    return {"lead_id": ["No lead has this id."]}


def _leads_for(items: Sequence[dict[str, Any]], *, among: QuerySet[Lead]) -> list[Lead | None]:
    """Each item's lead in ``among``, found in two queries for the whole batch; None where there is none."""
    emails = {normalise_email(item["email"]) for item in items if "email" in item}
    by_email = {lead.email: lead for lead in among.filter(email__in=emails)} if emails else {}
    # An erased lead takes no new activities: to this API it is gone (erased leads have no email anyway).
    by_id = among.filter(erased_at__isnull=True).in_bulk({item["lead_id"] for item in items if "lead_id" in item})
    return [
        by_email.get(normalise_email(item["email"])) if "email" in item else by_id.get(item["lead_id"])
        for item in items
    ]


# --- Submissions ----------------------------------------------------------------------------------


@extend_schema(tags=["submissions"])
class SubmitFormView(APIView):
    required_scope = "capture"
    # Nobody's role has it: a submission vouches for a person's consent, so integration keys send them.
    required_permissions = ("leads.add_submission",)

    @extend_schema(
        operation_id="submissions_create",
        summary="Submit a form",
        description=(
            "Capture a lead from a form filled in on another system (a site on another stack, a webinar "
            "platform, an event app), exactly as if the person had sent the form's own page: the submission is "
            "stored first, then the lead is created or updated with its consent (the exact consent text version "
            "shown), a touch with the attribution data and a `form_submitted` activity, and the pipeline "
            "(enrich, score, route, assign) runs in the background. On a double opt-in form the person is "
            "emailed a confirmation link and the consent stays `pending` until they follow it.\n\n"
            "`answers` are validated against the form's fields like the public form's: every field of the "
            "form is accepted (progressive profiling does not apply), required fields are required, and a "
            "key the form has no field for is refused. `consent.given` must be `true`.\n\n"
            "The public form's spam checks (hidden honeypot, time trap, submissions per address) need a "
            "browser and do not apply; the API key's own rate limit does. Each request is a new submission "
            "(two identical posts are two, like two form fills); send an `Idempotency-Key` header to make a "
            "retry return the first response instead.\n\n"
            "A submission synced late (`submitted_at` more than a few minutes ago) whose person was erased, or "
            "objected, after sending it (their email, or their phone when they gave no email, went on the "
            "suppression list since) is refused with a 409 naming that answer, and nothing is stored: capturing "
            "it would bring them back. One they sent after that is their own new request, and a new lead. A 409 "
            "is not kept for the `Idempotency-Key`.\n\n"
            "Needs an integration key with the `capture` or `full` scope (a person's token works only for "
            "an account allowed to add submissions, which no role is by default)."
        ),
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=SubmissionInSerializer,
        responses={
            201: SubmissionCapturedSerializer,
            400: OpenApiResponse(SubmissionErrorsSerializer, description="Invalid input; nothing was stored."),
            409: OpenApiResponse(
                SubmissionErrorsSerializer,
                description="Sent before the person was erased, or objected; nothing was stored.",
            ),
            **AUTH_RESPONSES,
            **IDEMPOTENCY_RESPONSES,
        },
        examples=SUBMISSION_EXAMPLES,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        now = timezone.now()
        serializer = SubmissionInSerializer(data=request.data, context={"now": now})
        if not serializer.is_valid():
            return _invalid_submission(_flat_errors(serializer.errors))
        data = serializer.validated_data
        try:
            result = submissions.submit_form_from_api(
                form=data["form"],
                consent_text=data["consent_text"],
                answers=data["answers"],
                attribution=data["attribution"],
                client=submissions.ClientInfo(ip_address=data.get("ip_address"), user_agent=data["user_agent"]),
                submitted_at=data.get("submitted_at"),
                now=now,
            )
        except submissions.SuppressedSinceSent as error:
            # Valid, but the person was erased (or objected) after sending it: a conflict with what happened since.
            errors = _capture_errors(error, form=data["form"])
            return _invalid_submission(errors, detail=SUPPRESSED_SUBMISSION_DETAIL, status=409)
        except ValidationError as error:
            # The answers passed the form but the lead could not be captured (no usable email or phone).
            return _invalid_submission(_capture_errors(error, form=data["form"]))
        return Response(SubmissionCapturedSerializer(result.submission).data, status=201)


def _invalid_submission(
    errors: dict[str, list[str]], *, detail: str = INVALID_SUBMISSION_DETAIL, status: int = 400
) -> Response:
    body = {"detail": detail, "errors": errors}
    return Response(SubmissionErrorsSerializer(body).data, status=status)


def _flat_errors(errors: Mapping[str, Any] | Sequence[Any], name: str = "") -> dict[str, list[str]]:
    """DRF's nested errors by dotted field name (``answers.email``)."""
    if not isinstance(errors, Mapping):
        return {name or api_settings.NON_FIELD_ERRORS_KEY: [str(message) for message in errors]}
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        for field, messages in _flat_errors(value, _field_name(name, str(key))).items():
            flat.setdefault(field, []).extend(messages)
    return flat


def _field_name(parent: str, key: str) -> str:
    if not parent:
        return key
    # A nested object's own errors ("Invalid data. Expected a dictionary …") go under its name.
    return parent if key == api_settings.NON_FIELD_ERRORS_KEY else f"{parent}.{key}"


def _capture_errors(error: ValidationError, *, form: CaptureForm) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {"answers": error.messages}
    keys = {field.key for field in form.fields.all()}
    flat: dict[str, list[str]] = {}
    for key, messages in error.message_dict.items():
        flat.setdefault(f"answers.{key}" if key in keys else "answers", []).extend(messages)
    return flat


# --- Consent withdrawal ---------------------------------------------------------------------------


@extend_schema(tags=["leads"])
class WithdrawConsentView(APIView):
    """Marketing's record of a withdrawal it received (by phone, by email, from the email tool's unsubscribe).

    Consent records are marketing's: a marketer's token (``leads.change_lead``, which reps and managers do
    not have) or an integration key with the ``full`` scope. A rep who hears "stop calling me" sees the
    lead page's warning once marketing has recorded it, and rejects or recycles the lead.
    """

    required_scope = "full"
    required_permissions = ("leads.change_lead",)

    @extend_schema(
        operation_id="leads_withdraw_consent",
        summary="Record a consent withdrawal",
        description=(
            "Withdraw every consent of the lead that is not withdrawn yet (GDPR art. 7(3)): for a withdrawal "
            "the person sent you by phone, by email or through another system. It records a `consent_withdrawn` "
            "activity (with `note`) and sends the `lead.consent_withdrawn` webhook; the lead is then never "
            "passed to sales, and a rep who has it sees a do-not-contact warning. Its stage and owner do not "
            "change.\n\n"
            "Repeating it is safe: a lead whose consents are all withdrawn already answers `withdrawn: 0` and "
            "nothing is recorded. The answer lists every consent of the lead as it is now.\n\n"
            "Needs an integration key with the `full` scope, or a marketer's token (the `leads.change_lead` "
            "permission); sales reps and managers get 403."
        ),
        parameters=[
            LEAD_ID_PARAMETER,
            IDEMPOTENCY_KEY_PARAMETER,
        ],
        request=WithdrawConsentInSerializer,
        responses={
            200: ConsentsWithdrawnSerializer,
            400: INVALID_INPUT,
            404: OpenApiResponse(ErrorDetailSerializer, description="No lead has this id."),
            **AUTH_RESPONSES,
            **IDEMPOTENCY_RESPONSES,
        },
        examples=WITHDRAW_CONSENT_EXAMPLES,
    )
    @idempotent
    def post(self, request: Request, lead_id: str) -> Response:
        lead = lead_or_404(lead_id, among=roles.scoped_leads(request.user, Lead.objects.only("id")))
        serializer = WithdrawConsentInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # An integration key acts for no person; a token or session for its person (never anonymous here).
        user = request.user
        by = user if user.is_authenticated and not getattr(request.auth, "is_integration", False) else None
        withdrawn = services.withdraw_consents(
            lead=lead, now=timezone.now(), source="api", by=by, note=serializer.validated_data["note"]
        )
        result = {"lead_id": lead.pk, "withdrawn": withdrawn, "consents": lead.consents.all()}
        return Response(ConsentsWithdrawnSerializer(result).data)


def lead_or_404(lead_id: str, *, among: QuerySet[Lead]) -> Lead:
    """The lead named in the URL among those the caller may see (every lead for a marketer or a key)."""
    # Matched as any path segment, so a malformed id is this JSON 404 rather than Django's HTML one.
    lead = None
    if lead_id.isascii() and lead_id.isdigit() and len(lead_id) <= 18:
        lead = among.filter(pk=int(lead_id)).first()
    if lead is None:
        raise NotFound("No lead has this id.")
    return lead
