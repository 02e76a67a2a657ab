"""Reads for the personal-token page."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from integrations.models import ApiKey


def personal_tokens(*, user: AbstractBaseUser) -> QuerySet[ApiKey]:
    """The person's own tokens, newest first; revoked ones stay listed."""
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-id")
