from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time, timedelta

import factory
from django.contrib.auth.models import Group

from core import roles
from handoff.models import (
    BreachAction,
    Membership,
    RepPool,
    RoutingDecision,
    RoutingDestination,
    SLAPolicy,
    Team,
    TeamHours,
)
from leads.models import Lead, Stage
from leads.tests.factories import FIXED_NOW, LeadFactory, UserFactory

Hours = Mapping[int, Iterable[tuple[time, time]]]

OFFICE_HOURS: Hours = dict.fromkeys(range(5), ((time(9), time(17)),))
ALWAYS_OPEN: Hours = dict.fromkeys(range(7), ((time(0), time(0)),))


class RepFactory(UserFactory):
    """A user in the sales rep group."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def in_rep_group(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.groups.add(Group.objects.get(name=roles.SALES_REP))


class TeamFactory(factory.django.DjangoModelFactory):
    """A London team open Monday to Friday, 09:00-17:00, with no public holidays unless told."""

    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    timezone = "Europe/London"

    @factory.post_generation
    def hours(self, create: bool, extracted: Hours | None, **kwargs: object) -> None:
        if not create:
            return
        TeamHours.objects.bulk_create(
            TeamHours(team=self, weekday=weekday, opens_at=opens, closes_at=closes)
            for weekday, intervals in (OFFICE_HOURS if extracted is None else extracted).items()
            for opens, closes in intervals
        )

    @factory.post_generation
    def members(self, create: bool, extracted: Iterable[object] | None, **kwargs: object) -> None:
        for user in extracted or ():
            Membership.objects.create(team=self, user=user)

    @factory.post_generation
    def managers(self, create: bool, extracted: Iterable[object] | None, **kwargs: object) -> None:
        if create and extracted:
            self.managers.add(*extracted)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(RepFactory)
    capacity_weight = 1


class SLAPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SLAPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    priority = 100
    target_duration = timedelta(hours=24)
    reminder_percent = 75
    on_breach = BreachAction.NOTIFY_MANAGER


class MQLFactory(LeadFactory):
    """An unowned marketing-qualified lead, as the pipeline hands it to assignment."""

    stage = Stage.MQL


def route(
    lead: Lead, *, team: Team | None = None, pool: RepPool | None = None, track: str = "", at: object = FIXED_NOW
) -> RoutingDecision:
    """Record that routing sent ``lead`` to ``team``, ``pool`` or the nurture ``track`` (no rule involved)."""
    destination = RoutingDestination.NURTURE if track else RoutingDestination.POOL if pool else RoutingDestination.TEAM
    return RoutingDecision.objects.create(
        lead=lead,
        destination=destination,
        team=pool.team if pool is not None else team,
        pool=pool,
        nurture_track=track,
        decided_at=at,
    )
