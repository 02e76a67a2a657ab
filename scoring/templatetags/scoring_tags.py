"""Template helpers that explain a lead's score: ``{% load scoring_tags %}``.

``{{ lead.score_breakdown|score_breakdown }}`` renders the stored breakdown as a table (rule, what it
counts towards, points, why). ``render_score_breakdown`` is the same as a function, for admin's
readonly fields. Both read only the JSON stored on the lead: no query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from scoring.models import Dimension

register = template.Library()

_DIMENSIONS = dict(Dimension.choices)


@register.filter(name="score_breakdown")
def score_breakdown(breakdown: Any) -> SafeString:
    """The breakdown as an HTML table (escaped); a short sentence when there is none."""
    return render_score_breakdown(breakdown)


def render_score_breakdown(breakdown: Any) -> SafeString:
    items = [item for item in breakdown if isinstance(item, Mapping)] if isinstance(breakdown, list) else []
    if not items:
        return format_html('<p class="score-breakdown score-breakdown-empty">{}</p>', "No rule has scored this lead.")
    rows = format_html_join(
        "",
        '<tr class="{}"><td>{}</td><td>{}</td><td class="score-points">{}</td><td>{}</td></tr>',
        (
            (
                "score-negative" if _points(item) < 0 else "score-positive" if _points(item) > 0 else "score-zero",
                item.get("name", ""),
                _DIMENSIONS.get(str(item.get("dimension", "")), item.get("dimension", "")),
                f"{_points(item):+d}" if _points(item) else "—",
                item.get("reason", ""),
            )
            for item in items
        ),
    )
    return format_html(
        '<table class="score-breakdown table table-sm"><thead><tr><th scope="col">Rule</th>'
        '<th scope="col">Counts towards</th><th scope="col">Points</th><th scope="col">Why</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        rows,
    )


def _points(item: Mapping[str, Any]) -> int:
    points = item.get("points")
    return points if isinstance(points, int) and not isinstance(points, bool) else 0
