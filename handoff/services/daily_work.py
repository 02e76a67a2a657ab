"""The rep's and manager's daily tools: saved inbox views, follow-up tasks, their time zone, bulk actions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from handoff.models import Assignment, FollowUp, SavedView, Team, ViewerSettings
from handoff.services.actions import accept_assignment, recycle_lead, reject_lead
from handoff.services.assignment import BulkResult
from handoff.services.errors import HandoffError
from leads.models import Lead

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class SavedViewNameTakenError(HandoffError):
    """The person already has a view of that name."""


def save_view(*, owner: User, name: str, query: str, team: Team | None, now: datetime) -> SavedView:
    """Name the inbox filters in ``query``; with ``team``, every member of the team sees the view too.

    The caller checks that ``owner`` manages ``team``.
    """
    view = SavedView(owner=owner, name=name, query=query, team=team, created_at=now)
    view.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError as error:
        raise SavedViewNameTakenError(f"You already have a view called “{name}”: pick another name.") from error
    return view


def delete_view(*, view: SavedView) -> None:
    view.delete()


def add_follow_up(*, lead: Lead, rep: User, due_at: datetime, note: str, now: datetime) -> FollowUp:
    """A task for ``rep`` on ``lead`` at ``due_at``; it shows in their inbox until they mark it done."""
    follow_up = FollowUp(lead=lead, rep=rep, due_at=due_at, note=note, created_at=now)
    follow_up.full_clean()
    follow_up.save()
    return follow_up


def complete_follow_up(*, follow_up: FollowUp, now: datetime) -> FollowUp:
    """Mark the task done; done twice keeps the first time."""
    FollowUp.objects.filter(pk=follow_up.pk, done_at__isnull=True).update(done_at=now)
    follow_up.refresh_from_db(fields=["done_at"])
    return follow_up


def set_viewer_timezone(*, user: User, timezone_name: str) -> ViewerSettings:
    settings, _ = ViewerSettings.objects.update_or_create(user=user, defaults={"timezone": timezone_name})
    return settings


def bulk_rep_action(
    *,
    assignments: Iterable[Assignment],
    action: str,
    rep: User | None,
    now: datetime,
    reason: str = "",
    recycle_on: date | None = None,
    by: User | None = None,
) -> BulkResult:
    """Accept, reject or recycle each assignment as its rep would; one refused lead does not stop the others.

    A rep passes themself as ``rep``. A manager acting from the team queue passes ``rep=None`` (each
    assignment's own rep) and themself as ``by``.
    """
    acting_rep = rep
    done, refused = 0, []
    for assignment in assignments:
        rep = acting_rep or assignment.rep
        try:
            if action == "accept":
                accept_assignment(assignment=assignment, rep=rep, now=now)
            elif action == "reject":
                reject_lead(assignment=assignment, rep=rep, reason=reason, now=now, by=by)
            elif action == "recycle":
                assert recycle_on is not None  # the form requires it for this action
                recycle_lead(assignment=assignment, rep=rep, recycle_on=recycle_on, reason=reason, now=now, by=by)
            else:
                raise ValueError(f"Unknown bulk action {action!r}")
            done += 1
        except HandoffError as error:
            refused.append(str(error))
    return BulkResult(done, refused)
