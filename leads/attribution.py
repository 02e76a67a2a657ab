"""Touches and the first meaningful touch: which channel a touch belongs to, and which touch a lead is credited to."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Case, F, Q, Value, When

from core.bulk import update_each
from core.inserts import insert
from leads import capture_cache
from leads.channels import Channel, ChannelCondition, TouchFacts, condition_holds, referrer_domain
from leads.models import Lead, Touch


def active_channel_rules() -> list[tuple[str, ChannelCondition, bool]]:
    """The admin-edited channel rules in order, as (channel, condition, is_meaningful); kept per process
    (``leads.capture_cache``), since every touch reads them and only admin changes them."""
    return capture_cache.channel_rules()


def classify_touch(facts: TouchFacts) -> tuple[str, bool]:
    """The channel of a touch, and whether it may be a first touch, from the first rule that holds."""
    for channel, condition, is_meaningful in active_channel_rules():
        if condition_holds(condition, facts):
            return channel, is_meaningful
    return Channel.OTHER, True


def record_touch(
    *, lead: Lead, fields: dict[str, str], now: datetime, is_meaningful: bool | None = None, is_new_lead: bool = False
) -> Touch:
    """Store a touch with its channel, and fix it as the lead's first touch if the lead has none yet.

    The first touch is set with a conditional UPDATE (only while ``first_touch`` is empty), so a
    later touch, or a concurrent capture, never overwrites it. ``is_meaningful`` overrides what the
    channel rule says (a touch a manager enters by hand always counts). ``is_new_lead``: the lead was
    inserted in this transaction, so it has no touch yet and the UPDATE needs no conditions.
    """
    facts = TouchFacts(
        source=fields.get("source", ""),
        medium=fields.get("medium", ""),
        campaign=fields.get("campaign", ""),
        click_id=fields.get("click_id", ""),
        referrer=fields.get("referrer", ""),
    )
    channel, meaningful = classify_touch(facts)
    if is_meaningful is not None:
        meaningful = is_meaningful
    touch = insert(
        Touch(
            lead=lead,
            occurred_at=now,
            **{**fields, "channel": fields.get("channel") or channel},
            is_meaningful=meaningful,
        )
    )
    if is_new_lead:
        # Nobody else can see the lead before the commit: plain values in a plain UPDATE (``core.bulk``), which
        # cost a capture far less to build than the ORM's, let alone the conditional expressions below. The lead
        # in memory gets them too: it is the capture's new lead, and now holds what its row holds.
        plain = {"last_touch_at": now, **(_first_touch_fields(touch) if meaningful else {})}
        for name, value in plain.items():
            setattr(lead, name, value)
        update_each([lead], list(plain))
        return touch
    # One UPDATE for both: the last touch only moves forward, the first touch is set only while empty.
    later = Q(last_touch_at__isnull=True) | Q(last_touch_at__lt=now)
    values = {"last_touch_at": _set_when(later, "last_touch_at", now)}
    if meaningful:
        unset = Q(first_touch__isnull=True)
        first = {**_first_touch_fields(touch), "first_touch": touch.pk}
        values |= {name: _set_when(unset, name, value) for name, value in first.items()}
    Lead.objects.filter(pk=lead.pk).update(**values)
    return touch


def _set_when(condition: Q, name: str, value: object) -> Case:
    """``value`` where ``condition`` holds, else the column's own value: a conditional column in one UPDATE."""
    field = Lead._meta.get_field(name)
    assert isinstance(field, models.Field), "a column of the lead"
    return Case(When(condition, then=Value(value, output_field=field)), default=F(name), output_field=field)


def credit_first_touch(*, lead: Lead, touch: Touch) -> Lead:
    """Make ``touch`` the lead's first touch, replacing whatever was fixed before.

    Only for a manager's correction (``reports.services.correct_first_touch``, which records who,
    when and why); capture never replaces a first touch.
    """
    values = _first_touch_fields(touch)
    Lead.objects.filter(pk=lead.pk).update(**values)
    for name, value in values.items():
        setattr(lead, name, value)
    return lead


def _first_touch_fields(touch: Touch) -> dict[str, object]:
    return {
        "first_touch": touch,
        "first_touch_at": touch.occurred_at,
        "first_touch_source": touch.source or referrer_domain(touch.referrer),
        "first_touch_medium": touch.medium,
        "first_touch_campaign": touch.campaign,
        "first_touch_channel": touch.channel,
    }
