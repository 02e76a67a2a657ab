"""Stored responses for ``Idempotency-Key``: claim a key, keep the first successful response, prune old ones."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from integrations.models import IdempotencyRecord

# A retry with the same key this long after the first request is treated as a new request.
KEEP_FOR = timedelta(hours=24)


def claim_key(*, credential: str, key: str, request_hash: str, now: datetime) -> IdempotencyRecord | None:
    """Claim ``key`` for this credential inside the caller's transaction; returns the earlier record if taken.

    Call it inside ``transaction.atomic()``: the claim is a row the caller completes with
    ``keep_response`` or deletes with ``release_key`` in the same transaction, so nobody else ever
    sees a half-done request. A concurrent request with the same key waits on the unique index
    (PostgreSQL) or the write lock (SQLite) until the first one commits, then gets its record.
    """
    earlier = IdempotencyRecord.objects.filter(credential=credential, key=key).first()
    if earlier is not None and earlier.created_at >= now - KEEP_FOR:
        return earlier
    if earlier is not None:  # too old to replay, and not pruned yet
        earlier.delete()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(credential=credential, key=key, request_hash=request_hash, created_at=now)
    except IntegrityError:
        return IdempotencyRecord.objects.get(credential=credential, key=key)
    return None


def keep_response(*, credential: str, key: str, status_code: int, body: str, content_type: str) -> None:
    IdempotencyRecord.objects.filter(credential=credential, key=key).update(
        status_code=status_code, body=body, content_type=content_type
    )


def release_key(*, credential: str, key: str) -> None:
    IdempotencyRecord.objects.filter(credential=credential, key=key).delete()


def prune_idempotency_records(*, now: datetime, keep_for: timedelta = KEEP_FOR) -> int:
    """Forget responses older than ``keep_for``; returns how many were deleted."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - keep_for).delete()
    return deleted
