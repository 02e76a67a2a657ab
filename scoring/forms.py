"""Admin forms for scoring models and rules.

A rule's parameters get one input each, built from the kind's ``param_fields`` in the registry: every
kind has its own group of inputs (admin shows the chosen kind's; see ``static/js/scoring/rule_form.js``),
and only the chosen kind's inputs become the rule's ``params``. The kind's own validation (run by
``ScoringRule.clean``) reports each bad parameter beside its input.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from leads.models import ActivityKind
from scoring import rules
from scoring.baseline import baseline_choices
from scoring.models import ScoringModel, ScoringRule

RULE_FIELDS = ["scoring_model", "order", "name", "kind", "dimension", "points", "cap", "is_active"]
_PREFIX = "param"

# Parameters whose values the pure kinds cannot know but the database does: offered as a list.
PARAM_CHOICES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("activity", "activity_kind"): list(ActivityKind.choices),
}


def param_field_name(kind: str, param: str) -> str:
    """The form field of one parameter of one kind: ``param__numeric_range__min``."""
    return f"{_PREFIX}__{kind}__{param}"


def param_field_names(kind: str) -> list[str]:
    return [param_field_name(kind, spec.name) for spec in rules.RULE_KINDS[kind].param_fields]


def _form_field(spec: rules.ParamField, *, choices: list[tuple[str, str]] | None = None) -> forms.Field:
    # Not required here: "required" depends on the chosen kind, which the kind's validation knows.
    options: dict[str, Any] = {"required": False, "label": spec.name.replace("_", " ").capitalize()}
    if choices is not None:
        return forms.ChoiceField(choices=[("", "---------"), *choices], help_text=spec.help, **options)
    if spec.type == "int":
        return forms.IntegerField(help_text=spec.help, **options)
    if spec.type == "float":
        return forms.FloatField(help_text=spec.help, **options)
    if spec.type == "choice":
        return forms.ChoiceField(
            choices=[("", "---------"), *((c, c) for c in spec.choices)], help_text=spec.help, **options
        )
    if spec.type == "list":
        help_text = f"{spec.help} One value per line.".strip()
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 40}), help_text=help_text, **options)
    return forms.CharField(help_text=spec.help, **options)


def _initial(spec: rules.ParamField, value: Any) -> Any:
    if spec.type == "list" and isinstance(value, list | tuple):
        return "\n".join(str(item) for item in value)
    return value


def _param_value(spec: rules.ParamField, value: Any) -> Any:
    """A cleaned input as the JSON parameter; None when left empty."""
    if value in (None, ""):
        return None
    if spec.type == "list":
        return [line.strip() for line in str(value).splitlines() if line.strip()]
    return value


class ScoringRuleForm(forms.ModelForm):
    kind = forms.ChoiceField(help_text="What the rule looks at. The parameters below change with it.")

    class Meta:
        model = ScoringRule
        fields = RULE_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read from the registry on every form, so a kind registered later shows up without a deploy of forms.
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)
        kind_field.choices = [("", "---------"), *rules.kind_choices()]
        saved_kind, saved_params = self.instance.kind, self.instance.params or {}
        for kind_name, kind in rules.RULE_KINDS.items():
            for spec in kind.param_fields:
                name = param_field_name(kind_name, spec.name)
                self.fields[name] = _form_field(spec, choices=PARAM_CHOICES.get((kind_name, spec.name)))
                if kind_name == saved_kind and spec.name in saved_params:
                    self.initial[name] = _initial(spec, saved_params[spec.name])
                elif spec.default is not None:
                    self.initial[name] = spec.default

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = rules.RULE_KINDS.get(cleaned.get("kind", ""))
        if kind is not None:
            params = {
                spec.name: _param_value(spec, cleaned.get(param_field_name(kind.name, spec.name)))
                for spec in kind.param_fields
            }
            self.instance.params = {name: value for name, value in params.items() if value is not None}
        return cleaned

    def _update_errors(self, errors: ValidationError) -> None:
        # ScoringRule.clean() keys parameter errors "params" with the parameter's name attached;
        # show each beside its input (once: an input whose own type check failed keeps that message).
        error_dict = getattr(errors, "error_dict", None)
        if error_dict and "params" in error_dict:
            kind = self.cleaned_data.get("kind", "")
            unplaced = []
            for error in error_dict.pop("params"):
                field = param_field_name(kind, (error.params or {}).get("param", "")) if kind else ""
                if field in self.fields:
                    if field not in self.errors:
                        self.add_error(field, error.message)
                else:
                    unplaced.append(error)
            if unplaced:
                error_dict.setdefault(NON_FIELD_ERRORS, []).extend(unplaced)
        super()._update_errors(errors)  # type: ignore[misc]  # BaseModelForm's, missing from django-stubs


class ScoringModelForm(forms.ModelForm):
    baseline_fields = forms.MultipleChoiceField(
        label="Baseline qualification fields",
        choices=baseline_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=(
            "A lead becomes an MQL only with all of these, and always with a usable consent (double opt-in "
            "confirmed, not withdrawn); otherwise it waits under “MQL — missing fields”."
        ),
    )

    class Meta:
        model = ScoringModel
        fields = [
            "name",
            "is_active",
            "mql_threshold",
            "nurture_threshold",
            "engagement_half_life_days",
            "baseline_fields",
        ]
