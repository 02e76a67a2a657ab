"""The score breakdown as HTML, for admin and the inbox."""

from __future__ import annotations

from django.template import Context, Template

from scoring.templatetags.scoring_tags import render_score_breakdown

BREAKDOWN = [
    {"rule_id": 1, "name": "ICP industry", "kind": "attribute_in", "dimension": "fit", "points": 20,
     "reason": "Industry is Software, one of the listed values (+20)"},
    {"rule_id": 2, "name": "Free mail", "kind": "free_mail", "dimension": "fit", "points": 0,
     "reason": "Free-mail address (gmail.com): score capped at 10"},
]  # fmt: skip


def test_breakdown_renders_one_row_per_rule_with_signed_points() -> None:
    html = render_score_breakdown(BREAKDOWN)

    assert html.count("<tr class=") == 2
    assert '<td class="score-points">+20</td>' in html
    assert "Free-mail address (gmail.com): score capped at 10" in html


def test_breakdown_escapes_what_leads_typed() -> None:
    html = render_score_breakdown([{**BREAKDOWN[0], "reason": "Job title '<script>' contains 'x' (+5)"}])

    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_empty_or_malformed_breakdown_says_no_rule_scored() -> None:
    assert "No rule has scored this lead." in render_score_breakdown([])
    assert "No rule has scored this lead." in render_score_breakdown({"not": "a list"})


def test_filter_is_available_in_templates() -> None:
    template = Template("{% load scoring_tags %}{{ breakdown|score_breakdown }}")

    html = template.render(Context({"breakdown": BREAKDOWN}))

    assert "ICP industry" in html
