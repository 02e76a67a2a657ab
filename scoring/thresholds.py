"""Which stage a new score moves a lead to; one lead, bulk rescoring and the what-if preview all ask here.

- A lead in sales' hands (an owner, or stage sql or rejected) never moves: sales decides from there.
  A disqualified lead stays disqualified too: a person may have decided it.
- A matching "disqualify" rule moves a new, nurture or unassigned MQL lead to ``disqualified``.
- A lead a rep recycled is parked until the date they chose (``Lead.nurture_ends_at``, see `is_parked`):
  like a lead in sales' hands it is not promoted to MQL (nor held) before then, but unlike one it can
  still be disqualified: a disqualifier says the lead is no fit at all, which no date changes.
- At or above the MQL threshold a new or nurture lead becomes an MQL, but only with every baseline
  qualification field; without one it stays and is listed under "MQL — missing fields" ("held").
- Below the nurture threshold a new lead, or an MQL nobody has taken yet, goes to ``nurture``.
- Between the thresholds nothing moves, so a lead does not flap around one threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from leads.models import Stage
from scoring import rules

HELD = "held"  # would be an MQL, but lacks a baseline field; no stage change
_TO_MQL_FROM = (Stage.NEW, Stage.NURTURE)
_TO_NURTURE_FROM = (Stage.NEW, Stage.MQL)
_TO_DISQUALIFIED_FROM = MARKETING_STAGES = (Stage.NEW, Stage.NURTURE, Stage.MQL)


def target_stage(
    *,
    stage: str,
    is_owned: bool,
    is_parked: bool,
    total: int,
    is_disqualified: bool,
    has_baseline: Callable[[], bool],
    spec: rules.ScoringModelSpec,
) -> str:
    """The stage to move the lead to, `HELD`, or "" for no change.

    `has_baseline` is asked only of a lead that would become an MQL: most leads never are, and checking
    the baseline of every lead is a good part of a rescore.
    """
    if is_owned:
        return ""
    if is_disqualified:
        return Stage.DISQUALIFIED if stage in _TO_DISQUALIFIED_FROM else ""
    if total >= spec.mql_threshold and stage in _TO_MQL_FROM and not is_parked:
        return Stage.MQL if has_baseline() else HELD
    if total < spec.nurture_threshold and stage in _TO_NURTURE_FROM:
        return Stage.NURTURE
    return ""


def is_parked(*, nurture_ends_at: datetime | None, now: datetime) -> bool:
    """Whether a recycled lead is still parked in nurture at `now` (its rep's date has not come yet)."""
    return nurture_ends_at is not None and nurture_ends_at > now
