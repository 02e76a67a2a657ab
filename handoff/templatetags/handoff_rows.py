"""The rows of the inbox and the team queue, and the SLA countdown: ``{% load handoff_rows %}``.

A page prints 50 rows of about 20 values each. Through the template language that is a thousand variable
nodes, each resolved, localised and escaped on its own, and it cost more than everything else the page
does; here each row is one string filled from values the selectors prepared (``InboxRow``, ``QueueRow``),
every value escaped. The markup is the one the templates used to print, attribute for attribute: the
browser tests, ``static/js/handoff/`` and the phone card layout (``data-label``) read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from handoff.countdown import SLAClock
from handoff.selectors import InboxRow, QueueRow

register = template.Library()

# Each row is one f-string of its markup (a ``str.format`` of a template string cost twice as much: it looks each
# field up by name). Every text goes through ``escape`` (what django.utils.html.escape runs, without its
# lazy-string wrapper); numbers (ids, the score, the clock's seconds) are printed as they are.


def sla_clock_html(clock: SLAClock, team_id: int) -> str:
    """The one SLA countdown markup (inbox, team queue, lead page), which static/js/handoff/countdown.js reads."""
    return (
        f'<span class="sla-clock sla-{escape(clock.urgency)}" data-sla-team="{int(team_id)}"'
        f' data-sla-state="{escape(clock.state)}" data-sla-balance="{int(clock.balance_seconds)}"'
        f' data-sla-target="{int(clock.target_seconds)}" data-testid="sla-clock" role="timer">'
        f"{escape(clock.label)}</span>"
    )


@register.simple_tag
def sla_clock(clock: SLAClock, team_id: int) -> SafeString:
    """``{% sla_clock clock team_id %}``: one countdown (the lead page's)."""
    return mark_safe(sla_clock_html(clock, team_id))  # every text escaped


@register.simple_tag
def inbox_rows(rows: Iterable[InboxRow]) -> SafeString:
    """``{% inbox_rows rows %}``: the inbox table's rows."""
    return mark_safe("".join(_inbox_row(row) for row in rows))  # every text escaped


def _inbox_row(row: InboxRow) -> str:
    url, state, name = escape(row.url), escape(row.state), escape(row.name)
    return f"""<tr data-lead-id="{int(row.lead_id)}" data-row data-url="{url}" data-state="{state}" data-accept-url="{url}accept/">
  <td class="ps-3 cell-select"><input class="form-check-input" type="checkbox" name="ids" value="{int(row.assignment_id)}" aria-label="Select {name}"></td>
  <td class="cell-sla">{sla_clock_html(row.clock, row.team_id)}</td>
  <td class="cell-lead"><a class="fw-semibold" href="{url}">{name}</a><div class="small text-body-secondary">{escape(row.detail)}</div></td>
  <td data-label="Company">{escape(row.company)}<div class="small text-body-secondary">{escape(row.company_detail)}</div></td>
  <td data-label="Source">{escape(row.source)}<div class="small text-body-secondary">{escape(row.medium)}</div></td>
  <td data-label="Score" class="text-end"><span class="badge rounded-pill text-bg-light border">{escape(str(row.score))}</span></td>
  <td data-label="Status"><span class="badge state-{state}">{escape(row.state_label)}</span><div class="small text-body-secondary">{escape(row.stage)}</div></td>
  <td data-label="Assigned" class="small text-body-secondary text-nowrap cell-assigned">{escape(row.assigned_ago)}<div class="text-truncate handoff-team">{escape(row.team_name)}</div></td>
</tr>
"""  # noqa: E501


@register.simple_tag
def queue_rows(rows: Iterable[QueueRow]) -> SafeString:
    """``{% queue_rows rows %}``: the team queue's rows (breached, due soon, all open)."""
    return mark_safe("".join(_queue_row(row) for row in rows))  # every text escaped


def _queue_row(row: QueueRow) -> str:
    name = escape(row.name)
    due_verb = "was due" if row.clock.state in ("breached", "overdue") else "due"
    return f"""<tr>
  <td class="ps-3 cell-select"><input class="form-check-input" type="checkbox" name="bulk-ids" value="{int(row.assignment_id)}" aria-label="Select {name}"></td>
  <td class="cell-sla">{sla_clock_html(row.clock, row.team_id)}<div class="small text-body-secondary mt-1" data-testid="due-wall-clock">{due_verb} <time datetime="{escape(row.due_at.isoformat())}">{escape(row.due_label)}</time></div></td>
  <td class="cell-lead"><a class="fw-semibold" href="{escape(row.url)}">{name}</a><div class="small text-body-secondary">{escape(row.company)}</div></td>
  <td data-label="Rep">{escape(row.rep_name)}<div class="small text-body-secondary">{escape(row.team_name)}</div></td>
  <td data-label="Status"><span class="badge state-{escape(row.state)}">{escape(row.state_label)}</span></td>
  <td data-label="Assigned" class="small text-body-secondary">{escape(row.assigned_ago)}</td>
</tr>
"""  # noqa: E501


@register.simple_tag
def select_options(
    choices: Iterable[tuple[object, object]], selected: object = None, ignore_case: bool = False
) -> SafeString:
    """``{% select_options choices selected %}``: a pick list's ``<option>`` tags, ``selected`` selected.

    The filter bars print a few dozen options; a template loop spent several template nodes on each. Values
    compare as text (a team id matches "3"), ``ignore_case`` as the source and campaign filters do; a None
    ``selected`` selects nothing.
    """
    wanted = None if selected is None else str(selected)
    if wanted is not None and ignore_case:
        wanted = wanted.lower()
    options = []
    for value, label in choices:
        text = str(value)
        chosen = wanted is not None and (text.lower() if ignore_case else text) == wanted
        options.append(f'<option value="{escape(text)}"{" selected" if chosen else ""}>{escape(str(label))}</option>')
    return mark_safe("".join(options))  # every value escaped
