"""Marketers edit scoring models and rules in admin: parameter inputs per kind, errors, preview, rescoring."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from leads.models import Lead, Stage, StageChange
from leads.tests.factories import LeadFactory
from scoring import services
from scoring.forms import param_field_name
from scoring.models import RescoreJob, RescoreStatus, ScoringModel, ScoringRule
from scoring.tests.factories import RescoreJobFactory, ScoringModelFactory, ScoringRuleFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

ADD_RULE = "admin:scoring_scoringrule_add"

# kind -> (its parameter inputs as typed, the dimension, the params stored)
VALID_RULES: dict[str, tuple[dict[str, str], str, dict[str, Any]]] = {
    "attribute_equals": (
        {"field": "industry", "value": "Software"},
        "fit",
        {"field": "industry", "value": "Software"},
    ),
    "attribute_in": (
        {"field": "country", "values": "DE\r\nAT\r\n\r\n"},
        "fit",
        {"field": "country", "values": ["DE", "AT"]},
    ),
    "attribute_contains": (
        {"field": "job_title", "substring": "market"},
        "fit",
        {"field": "job_title", "substring": "market"},
    ),
    "numeric_range": (
        {"field": "employee_count", "min": "200", "max": "5000"},
        "fit",
        {"field": "employee_count", "min": 200.0, "max": 5000.0},
    ),
    "ordered_at_least": (
        {"field": "seniority", "order": "manager\ndirector\nvp", "minimum": "director"},
        "fit",
        {"field": "seniority", "order": ["manager", "director", "vp"], "minimum": "director"},
    ),
    "activity": (
        {"activity_kind": "webinar_attended", "within_days": "30"},
        "engagement",
        {"activity_kind": "webinar_attended", "within_days": 30},
    ),
    "free_mail": ({"effect": "floor", "floor_score": "10"}, "fit", {"effect": "floor", "floor_score": 10}),
    "competitor_domain": (
        {"domains": "rival.com\nrival.io", "effect": "disqualify", "floor_score": ""},
        "fit",
        {"domains": ["rival.com", "rival.io"], "effect": "disqualify"},
    ),
    "student": ({"effect": "disqualify", "floor_score": "0"}, "fit", {"effect": "disqualify", "floor_score": 0}),
}

# kind -> (parameter inputs, the parameter whose input shows the error, the error)
INVALID_RULES: dict[str, tuple[dict[str, str], str, str]] = {
    "attribute_equals": ({"field": "industry", "value": "  "}, "value", "This parameter is required."),
    "attribute_in": ({"field": "country", "values": ""}, "values", "This parameter is required."),
    "attribute_contains": ({"field": "job_title", "substring": " "}, "substring", "This parameter is required."),
    "numeric_range": (
        {"field": "employee_count", "min": "5000", "max": "200"},
        "max",
        "The maximum must not be below the minimum.",
    ),
    "ordered_at_least": (
        {"field": "seniority", "order": "manager\nvp", "minimum": "cto"},
        "minimum",
        "Must be one of the values in the order.",
    ),
    "activity": ({"activity_kind": "webinar_attended", "within_days": "0"}, "within_days", "Enter at least 1 day."),
    "free_mail": ({"effect": ""}, "effect", "This parameter is required."),
    "competitor_domain": ({"domains": "not a domain", "effect": "floor"}, "domains", "Not a domain: not a domain."),
    "student": ({"effect": "delete"}, "effect", "Select a valid choice. delete is not one of the available choices."),
}


def _rule_post(model: ScoringModel, kind: str, params: dict[str, str], **fields: Any) -> dict[str, Any]:
    data = {
        "scoring_model": model.pk,
        "name": f"A {kind} rule",
        "order": "10",
        "is_active": "on",
        "kind": kind,
        "dimension": "fit",
        "points": "15",
        "cap": "",
        **{param_field_name(kind, name): value for name, value in params.items()},
    }
    return {**data, **fields}


def _form_errors(response: Any) -> dict[str, list[str]]:
    return response.context["adminform"].form.errors


@pytest.fixture
def marketer_client(marketer: object) -> Client:
    return client_for(marketer)


@pytest.mark.parametrize("kind", sorted(VALID_RULES))
def test_marketer_adds_a_rule_of_each_kind(marketer_client: Client, scoring_model: ScoringModel, kind: str) -> None:
    inputs, dimension, stored = VALID_RULES[kind]

    response = marketer_client.post(reverse(ADD_RULE), _rule_post(scoring_model, kind, inputs, dimension=dimension))

    assert response.status_code == 302, _form_errors(response)
    assert ScoringRule.objects.get().params == stored


@pytest.mark.parametrize("kind", sorted(INVALID_RULES))
def test_bad_parameters_show_an_error_beside_their_input(
    marketer_client: Client, scoring_model: ScoringModel, kind: str
) -> None:
    inputs, param, message = INVALID_RULES[kind]
    dimension = VALID_RULES[kind][1]

    response = marketer_client.post(reverse(ADD_RULE), _rule_post(scoring_model, kind, inputs, dimension=dimension))

    assert response.status_code == 200
    assert _form_errors(response)[param_field_name(kind, param)] == [message]
    assert not ScoringRule.objects.exists()


def test_a_number_input_with_text_shows_its_own_error_once(
    marketer_client: Client, scoring_model: ScoringModel
) -> None:
    inputs = {"field": "employee_count", "min": "two hundred"}

    response = marketer_client.post(reverse(ADD_RULE), _rule_post(scoring_model, "numeric_range", inputs))

    assert _form_errors(response)[param_field_name("numeric_range", "min")] == ["Enter a number."]


def test_activity_rule_counting_towards_fit_is_refused(marketer_client: Client, scoring_model: ScoringModel) -> None:
    inputs = VALID_RULES["activity"][0]

    response = marketer_client.post(reverse(ADD_RULE), _rule_post(scoring_model, "activity", inputs, dimension="fit"))

    assert _form_errors(response)["dimension"] == ["A Activity, decayed by age rule counts towards: engagement."]


def test_only_the_chosen_kinds_inputs_become_parameters(marketer_client: Client, scoring_model: ScoringModel) -> None:
    data = _rule_post(scoring_model, "student", {"effect": "disqualify"})
    data[param_field_name("attribute_equals", "field")] = "industry"

    marketer_client.post(reverse(ADD_RULE), data)

    assert ScoringRule.objects.get().params == {"effect": "disqualify"}


def test_add_form_groups_parameter_inputs_by_kind(marketer_client: Client) -> None:
    response = marketer_client.get(reverse(ADD_RULE))

    html = response.content.decode()
    assert 'class="module aligned scoring-params scoring-kind-numeric_range"' in html
    assert 'name="param__numeric_range__max"' in html
    assert "js/scoring/rule_form.js" in html


def test_activity_kind_is_chosen_from_the_known_activities(marketer_client: Client) -> None:
    response = marketer_client.get(reverse(ADD_RULE))

    html = response.content.decode()
    assert '<option value="pricing_page_view">Pricing page view</option>' in html
    assert '<script id="scoring-kind-dimensions" type="application/json">' in html


def test_change_form_shows_the_saved_parameters(marketer_client: Client, scoring_model: ScoringModel) -> None:
    rule = ScoringRuleFactory(
        scoring_model=scoring_model, kind="attribute_in", params={"field": "country", "values": ["DE", "AT"]}
    )

    response = marketer_client.get(reverse("admin:scoring_scoringrule_change", args=[rule.pk]))

    form = response.context["adminform"].form
    assert form.initial[param_field_name("attribute_in", "values")] == "DE\nAT"


def test_saving_a_rule_of_the_active_model_queues_a_rescore(
    marketer_client: Client, scoring_model: ScoringModel
) -> None:
    inputs = VALID_RULES["attribute_equals"][0]

    marketer_client.post(reverse(ADD_RULE), _rule_post(scoring_model, "attribute_equals", inputs))

    job = RescoreJob.objects.get()
    assert (job.status, job.reason, job.requested_by.username) == (
        RescoreStatus.QUEUED,
        "Rule “A attribute_equals rule” saved",
        "marketer",
    )


def test_saving_a_rule_of_an_inactive_model_queues_nothing(marketer_client: Client) -> None:
    model = ScoringModelFactory(is_active=False)

    marketer_client.post(reverse(ADD_RULE), _rule_post(model, "student", {"effect": "disqualify"}))

    assert ScoringRule.objects.exists()
    assert not RescoreJob.objects.exists()


def test_deleting_a_rule_of_the_active_model_queues_a_rescore(
    marketer_client: Client, scoring_model: ScoringModel
) -> None:
    rule = ScoringRuleFactory(scoring_model=scoring_model)

    marketer_client.post(reverse("admin:scoring_scoringrule_delete", args=[rule.pk]), {"post": "yes"})

    assert not ScoringRule.objects.exists()
    assert RescoreJob.objects.get().reason == f"Rule “{rule.name}” deleted"


# --- What-if preview --------------------------------------------------------------------------------


def _leads_for_preview() -> None:
    LeadFactory.create_batch(3, industry="Software", stage=Stage.NURTURE)
    LeadFactory(industry="Software", first_name="")  # held: the active model requires a first name
    LeadFactory(industry="Retail")


def test_preview_shows_the_impact_without_saving(
    marketer_client: Client, scoring_model: ScoringModel, now: datetime
) -> None:
    _leads_for_preview()
    rule = ScoringRuleFactory(
        scoring_model=scoring_model, points=30, params={"field": "industry", "values": ["Software"]}
    )
    data = _rule_post(
        scoring_model, "attribute_in", {"field": "industry", "values": "Software"}, points="70", _preview="1"
    )

    with time_machine.travel(now, tick=False):
        response = marketer_client.post(reverse("admin:scoring_scoringrule_change", args=[rule.pk]), data)

    what_if = response.context["what_if"]
    assert (what_if.entering_mql, what_if.held_missing_fields, what_if.lead_count) == (3, 1, 5)
    assert b'data-what-if="entering_mql">3<' in response.content
    assert ScoringRule.objects.get().points == 30
    assert not RescoreJob.objects.exists()


def test_preview_numbers_equal_what_saving_does(
    marketer_client: Client,
    scoring_model: ScoringModel,
    now: datetime,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    _leads_for_preview()
    rule = ScoringRuleFactory(
        scoring_model=scoring_model, points=30, params={"field": "industry", "values": ["Software"]}
    )
    url = reverse("admin:scoring_scoringrule_change", args=[rule.pk])
    data = _rule_post(scoring_model, "attribute_in", {"field": "industry", "values": "Software"}, points="70")

    with time_machine.travel(now, tick=False):
        what_if = marketer_client.post(url, {**data, "_preview": "1"}).context["what_if"]
        with django_capture_on_commit_callbacks(execute=True):
            marketer_client.post(url, data)

    assert RescoreJob.objects.get().status == RescoreStatus.DONE
    assert what_if.entering_mql == StageChange.objects.filter(to_stage=Stage.MQL).count()
    assert what_if.to_nurture == StageChange.objects.filter(to_stage=Stage.NURTURE).count()
    after = {bucket.low: bucket.after for bucket in what_if.histogram if bucket.after}
    assert after == {70: 4, 0: 1}
    assert sorted(Lead.objects.values_list("score", flat=True)) == [0, 70, 70, 70, 70]


def test_preview_with_bad_parameters_shows_the_errors(marketer_client: Client, scoring_model: ScoringModel) -> None:
    data = _rule_post(
        scoring_model, "activity", {"activity_kind": "webinar_attended", "within_days": "0"}, _preview="1"
    )

    response = marketer_client.post(reverse(ADD_RULE), data)

    assert response.context["what_if"] is None
    assert _form_errors(response)[param_field_name("activity", "within_days")] == ["Enter at least 1 day."]


def test_model_preview_shows_the_impact_of_a_new_threshold(
    marketer_client: Client, scoring_model: ScoringModel, now: datetime
) -> None:
    _leads_for_preview()
    ScoringRuleFactory(scoring_model=scoring_model, points=40, params={"field": "industry", "values": ["Software"]})
    data = {
        "name": scoring_model.name, "is_active": "on", "mql_threshold": "40", "nurture_threshold": "20",
        "engagement_half_life_days": "30", "baseline_fields": ["first_name"], "_preview": "1",
    }  # fmt: skip

    response = marketer_client.post(reverse("admin:scoring_scoringmodel_change", args=[scoring_model.pk]), data)

    assert response.context["what_if"].entering_mql == 3
    assert ScoringModel.objects.get().mql_threshold == 60


def test_rep_cannot_preview(rep: object, scoring_model: ScoringModel) -> None:
    data = _rule_post(scoring_model, "student", {"effect": "disqualify"}, _preview="1")

    response = client_for(rep).post(reverse(ADD_RULE), data)

    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- Models, jobs and held MQLs ---------------------------------------------------------------------


def test_activating_a_model_deactivates_the_active_one(marketer_client: Client, scoring_model: ScoringModel) -> None:
    data = {
        "name": "Next year", "is_active": "on", "mql_threshold": "70", "nurture_threshold": "25",
        "engagement_half_life_days": "45", "baseline_fields": ["first_name", "country"],
    }  # fmt: skip

    response = marketer_client.post(reverse("admin:scoring_scoringmodel_add"), data)

    assert response.status_code == 302
    assert list(ScoringModel.objects.filter(is_active=True).values_list("name", flat=True)) == ["Next year"]
    assert ScoringModel.objects.get(name="Next year").baseline_fields == ["first_name", "country"]


def test_model_form_refuses_a_nurture_threshold_above_the_mql_threshold(marketer_client: Client) -> None:
    data = {"name": "Odd", "mql_threshold": "20", "nurture_threshold": "60", "engagement_half_life_days": "30"}

    response = marketer_client.post(reverse("admin:scoring_scoringmodel_add"), data)

    assert _form_errors(response)["nurture_threshold"] == ["The nurture threshold must not be above the MQL threshold."]


def test_model_page_lists_its_rules_with_links(marketer_client: Client, scoring_model: ScoringModel) -> None:
    rule = ScoringRuleFactory(scoring_model=scoring_model, name="ICP industry")

    response = marketer_client.get(reverse("admin:scoring_scoringmodel_change", args=[scoring_model.pk]))

    assert reverse("admin:scoring_scoringrule_change", args=[rule.pk]).encode() in response.content
    assert f"?scoring_model={scoring_model.pk}".encode() in response.content


def test_rescore_jobs_show_their_progress(marketer_client: Client) -> None:
    RescoreJobFactory(status=RescoreStatus.RUNNING, total=200, done=50)

    response = marketer_client.get(reverse("admin:scoring_rescorejob_changelist"))

    assert b'<progress max="100" value="25"></progress> 25% (50 of 200)' in response.content


def test_held_mqls_list_the_fields_they_miss(marketer_client: Client, scoring_model: ScoringModel) -> None:
    LeadFactory(email="held@acme.example", first_name="", company_name="", score=80)
    LeadFactory(email="fine@acme.example", score=80)

    response = marketer_client.get(reverse("admin:scoring_leadmissingmqlfields_changelist"))

    html = response.content.decode()
    assert "held@acme.example" in html
    assert "First name, Company name" in html
    assert "fine@acme.example" not in html


def test_rescore_now_action_queues_a_job(marketer_client: Client, scoring_model: ScoringModel) -> None:
    marketer_client.post(
        reverse("admin:scoring_scoringmodel_changelist"),
        {"action": "rescore_now", "_selected_action": [scoring_model.pk]},
    )

    assert RescoreJob.objects.get().reason == "Requested in admin"


def test_rule_list_query_count_does_not_grow_with_rules(
    marketer_client: Client, scoring_model: ScoringModel, django_assert_max_num_queries: Any
) -> None:
    ScoringRuleFactory.create_batch(20, scoring_model=scoring_model)

    with django_assert_max_num_queries(12):
        marketer_client.get(reverse("admin:scoring_scoringrule_changelist"))


def test_held_lead_link_opens_the_lead(marketer_client: Client, scoring_model: ScoringModel) -> None:
    lead = LeadFactory(first_name="", score=80, stage=Stage.NURTURE)

    response = marketer_client.get(reverse("admin:scoring_leadmissingmqlfields_changelist"))

    assert reverse("admin:leads_lead_change", args=[lead.pk]).encode() in response.content
    assert Lead.objects.get().stage == Stage.NURTURE


# --- Leads held from MQL ----------------------------------------------------------------------------


def lead_change_form(lead: Lead, **changes: str) -> dict[str, str]:
    """The lead's admin change form as a marketer sends it back, with ``changes`` typed in."""
    fields = ("email", "first_name", "last_name", "job_title", "company_name", "company_domain", "country")
    inlines = ("consents", "touches", "activities", "stage_changes")
    return {
        **{name: getattr(lead, name) or "" for name in fields},
        "custom_answers": "{}",
        **{f"{prefix}-TOTAL_FORMS": "0" for prefix in inlines},
        **{f"{prefix}-INITIAL_FORMS": "0" for prefix in inlines},
        **changes,
    }


def test_completing_a_held_leads_field_in_admin_makes_it_an_mql_at_once(
    marketer_client: Client, scoring_model: ScoringModel, now: datetime, django_capture_on_commit_callbacks: Callable
) -> None:
    ScoringRuleFactory(
        scoring_model=scoring_model,
        kind="attribute_in",
        points=70,
        params={"field": "industry", "values": ["Software"]},
    )
    lead = LeadFactory(industry="Software", company_name="")
    services.score_lead(lead_id=lead.pk, now=now)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.NEW

    with django_capture_on_commit_callbacks(execute=True):  # the task queue runs tasks in-process in tests
        response = marketer_client.post(
            reverse("admin:leads_lead_change", args=[lead.pk]),
            {**lead_change_form(lead, company_name="Acme"), "industry": "Software"},
        )

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL
