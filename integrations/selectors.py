"""Reads for the personal-token page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from integrations.models import ApiKey

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def personal_tokens(*, user: User) -> QuerySet[ApiKey]:
    """The person's own tokens, newest first; revoked ones stay listed."""
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-id")
