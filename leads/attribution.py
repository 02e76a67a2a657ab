"""Touches and the first meaningful touch: which channel a touch belongs to, and which touch a lead is credited to."""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from core.bulk import column, db_value, update_each
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
    # One UPDATE for both: the last touch only moves forward, the first touch is set only while empty. Each CASE reads
    # the row as it was before the UPDATE (SQL's rule, on both databases), so the first touch's columns agree.
    # Written as SQL: the ORM's conditional expressions cost a returning person's capture more CPU to build than
    # the rest of the capture's statements together.
    last_touch_at = column(Lead, "last_touch_at")
    assignments = [
        f"{last_touch_at} = CASE WHEN {last_touch_at} IS NULL OR {last_touch_at} < %s THEN %s ELSE {last_touch_at} END"
    ]
    at = db_value(Lead, "last_touch_at", now)
    params = [at, at]
    if meaningful:
        unset = f"{column(Lead, 'first_touch')} IS NULL"
        for name, value in {**_first_touch_fields(touch), "first_touch": touch.pk}.items():
            assignments.append(f"{column(Lead, name)} = CASE WHEN {unset} THEN %s ELSE {column(Lead, name)} END")
            params.append(db_value(Lead, name, value))
    table, pk = connection.ops.quote_name(Lead._meta.db_table), column(Lead, "id")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {', '.join(assignments)} WHERE {pk} = %s", [*params, lead.pk])
    return touch


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
