"""A request's audited changes carry who made them and from where, and nothing of it outlives the request."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import User
from django.db.models.signals import post_save, pre_save
from django.test import Client
from django.urls import reverse

from integrations.tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db


def rename_key_in_admin(client: Client, marketer: User, name: str) -> LogEntry:
    key = ApiKeyFactory(name="Webinar sync", created_by=marketer)
    client.force_login(marketer)
    client.post(
        reverse("admin:integrations_apikey_change", args=[key.pk]),
        {"name": name, "scope": key.scope, "expires_at": ""},
        REMOTE_ADDR="198.51.100.7",
    )
    return LogEntry.objects.get_for_object(key).latest("timestamp")


def test_a_change_made_in_a_request_names_its_actor(marketer: User, client: Client) -> None:
    entry = rename_key_in_admin(client, marketer, "Event app sync")

    assert entry.actor == marketer


def test_a_change_made_after_the_request_names_neither(marketer: User, client: Client) -> None:
    rename_key_in_admin(client, marketer, "Event app sync")
    key = ApiKeyFactory(name="Badge scans", created_by=marketer)

    key.name = "Badge scans 2026"
    key.save()

    assert LogEntry.objects.get_for_object(key).latest("timestamp").actor is None


def test_a_request_keeps_django_s_cache_of_which_receivers_hear_a_model(marketer: User, client: Client) -> None:
    rename_key_in_admin(client, marketer, "Event app sync")
    known = (dict(pre_save.sender_receivers_cache), dict(post_save.sender_receivers_cache))

    rename_key_in_admin(client, marketer, "Event app sync 2")

    # Connecting or disconnecting a receiver empties these caches; a request does neither.
    assert known[0] and known[1]
    assert dict(pre_save.sender_receivers_cache).items() >= known[0].items()
    assert dict(post_save.sender_receivers_cache).items() >= known[1].items()
