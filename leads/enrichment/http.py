"""The HTTP provider: a JSON enrichment API (Clearbit / Cognism style) keyed by email or domain.

Everything is configured in admin: the URL template, the auth header, and a mapping from response
fields (dotted paths) to lead attributes. Requests have connect and read timeouts, 5xx answers and
transport errors are retried a bounded number of times with exponential backoff, and a circuit
breaker shared by all workers refuses calls while the service is down.

The URL may not point into the server's own network (``core.outbound``): checked when the settings are
saved and again before each request. A refused call is a provider error at once, without retries; it
counts towards the circuit breaker like any other failure.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from core import outbound
from leads.enrichment.breaker import CircuitBreaker
from leads.enrichment.providers import (
    ENRICHABLE_FIELDS,
    Found,
    LeadSnapshot,
    OutOfTime,
    ProviderContext,
    ProviderError,
    ProviderKind,
    ProviderResult,
    provider_kind,
)
from leads.enrichment.values import RefusedValue, clean_value

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
# An attempt connects within the timeout but at most this long, waits at most the timeout for the answer, and reads
# its body until the timeout has passed since the attempt began (plus the read in hand): ``longest_attempt``.
CONNECT_SECONDS = 3.0
# Below this, an attempt shortened to end before the caller's deadline is not worth making.
SHORTEST_TIMEOUT = 0.5


def longest_attempt(timeout: float) -> float:
    """The longest one attempt with ``timeout`` can take, in seconds."""
    return 2 * timeout + min(timeout, CONNECT_SECONDS)


def attempt_timeout(timeout: float, *, wait: float, left: timedelta | None) -> float | None:
    """The timeout for an attempt made after ``wait`` seconds of backoff, with ``left`` before the caller's deadline:
    the provider's own, or shorter so that the attempt ends in time; None when no attempt fits any more."""
    if left is None:
        return timeout
    room = left.total_seconds() - wait
    if longest_attempt(timeout) <= room:
        return timeout
    fitting = room / 3 if room <= 3 * CONNECT_SECONDS else (room - CONNECT_SECONDS) / 2  # longest_attempt's inverse
    return fitting if fitting >= SHORTEST_TIMEOUT else None


class _ServerError(Exception):
    """A 5xx answer: tried again."""


def _dig(data: Any, path: str) -> Any:
    """``_dig({"company": {"size": 40}}, "company.size") == 40``; None when any step is missing."""
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


# The numeric settings, their bounds and whether they are whole numbers (``validate_settings``).
NUMBER_SETTINGS: tuple[tuple[str, float, float, bool], ...] = (
    ("confidence", 0.0, 1.0, False),
    ("backoff_seconds", 0.0, 10.0, False),
    ("failure_threshold", 1, 1000, True),
    ("reset_seconds", 1, 86_400, False),
)


def _is_number_between(value: Any, low: float, high: float, *, whole: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if whole and not isinstance(value, int):
        return False
    return math.isfinite(value) and low <= value <= high


@provider_kind("http")
class HttpProvider(ProviderKind):
    label = "HTTP enrichment API (JSON)"
    help_text = (
        "Calls url (with {email} or {domain} filled in) and maps response fields to lead attributes, "
        'e.g. mapping = {"industry": "company.category.industry", "employee_count": "company.metrics.employees"}.'
    )
    default_settings: ClassVar[Mapping[str, Any]] = {
        "url": "",
        "key": "email",
        "auth_header": "Authorization",
        "auth_value": "",
        "mapping": {},
        "confidence": 0.7,
        "retries": 2,
        "backoff_seconds": 0.5,
        "failure_threshold": 5,
        "reset_seconds": 60,
    }
    # Tests swap this for a no-op so retries do not slow the suite down.
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def validate_settings(self, settings: Mapping[str, Any]) -> dict[str, str]:
        errors = super().validate_settings(settings)
        if errors.get("settings"):
            return errors
        url = settings.get("url", "")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            errors["url"] = "Give the service's http(s) URL, with {email} or {domain} in it."
        elif "{email}" not in url and "{domain}" not in url:
            errors["url"] = "Put {email} or {domain} in the URL where the lookup key goes."
        else:
            try:
                outbound.check_url(url)
            except outbound.OutboundRefused as exc:
                errors["url"] = str(exc)
        if settings.get("key", "email") not in ("email", "domain"):
            errors["key"] = 'Use "email" or "domain".'
        mapping = settings.get("mapping", {})
        if not isinstance(mapping, Mapping) or not mapping:
            errors["mapping"] = "Map at least one lead attribute to a response field."
        elif bad := sorted(set(mapping) - set(ENRICHABLE_FIELDS)):
            errors["mapping"] = f"Not lead attributes a provider may set: {', '.join(bad)}."
        retries = settings.get("retries", 2)
        if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= MAX_RETRIES:
            errors["retries"] = f"A whole number from 0 to {MAX_RETRIES}."
        # Each number as the provider reads it (float() takes "NaN" and "1e999"): out of range, a confidence
        # broke every lead's enrichment record, and a backoff or reset could stall a worker past its lease.
        for name, low, high, whole in NUMBER_SETTINGS:
            value = settings.get(name, self.default_settings[name])
            if not _is_number_between(value, low, high, whole=whole):
                kind = "A whole number" if whole else "A number"
                errors[name] = f"{kind} from {low:g} to {high:g}."
        return errors

    def enrich(self, snapshot: LeadSnapshot, context: ProviderContext) -> ProviderResult:
        settings = {**self.default_settings, **context.settings}
        lookup = snapshot.email if settings["key"] == "email" else snapshot.company_domain
        if not lookup:
            return ProviderResult()
        breaker = CircuitBreaker(
            key=f"http:{context.provider_key}",
            failure_threshold=int(settings["failure_threshold"]),
            reset_after=timedelta(seconds=float(settings["reset_seconds"])),
        )
        if breaker.is_open(now=context.now):
            raise ProviderError("Circuit open: the service failed repeatedly; not calling it for now.")
        try:
            payload = self._fetch(settings, lookup, context=context)
        except OutOfTime:
            raise  # the service was not called: nothing to hold against it
        except ProviderError:
            breaker.record_failure(now=context.now)
            raise
        breaker.record_success()
        return self._map(payload, settings)

    def _fetch(self, settings: Mapping[str, Any], lookup: str, *, context: ProviderContext) -> Any:
        """The service's JSON answer, with retries; none starts that could end after ``context.deadline``."""
        url = settings["url"].replace("{email}", quote(lookup, safe="@")).replace("{domain}", quote(lookup))
        headers = {"Accept": "application/json"}
        if settings["auth_value"]:
            headers[settings["auth_header"]] = settings["auth_value"]
        attempts = int(settings["retries"]) + 1
        last_error = "no attempt made"
        with httpx.Client(
            headers=headers,
            follow_redirects=False,  # httpx's default, said out loud: a 3xx is an answer, not a hop
            transport=outbound.CheckedTransport(),
        ) as client:
            for attempt in range(attempts):
                wait = float(settings["backoff_seconds"]) * 2 ** (attempt - 1) if attempt else 0.0
                timeout = attempt_timeout(context.timeout_seconds, wait=wait, left=context.time_left())
                if timeout is None and not attempt:
                    raise OutOfTime("Not called: the lead's lease in the pipeline would run out before an answer.")
                if timeout is None:
                    raise ProviderError(
                        f"Gave up after {attempt} attempt(s): {last_error}; no time left for another before the "
                        "lead's lease in the pipeline runs out"
                    )
                if wait:
                    self.sleep(wait)
                try:
                    return self._get(client, url, timeout=timeout)
                except outbound.OutboundRefused as exc:
                    raise ProviderError(f"Refused: {exc}") from exc
                except httpx.TimeoutException:
                    last_error = f"timed out after {timeout:g}s"
                except httpx.TransportError as exc:
                    last_error = f"connection failed: {exc.__class__.__name__}"
                except _ServerError as exc:
                    last_error = str(exc)
        raise ProviderError(f"Gave up after {attempts} attempt(s): {last_error}")

    def _get(self, client: httpx.Client, url: str, *, timeout: float) -> Any:
        """One attempt; its body is read until ``timeout`` after it began, so it ends within ``longest_attempt``."""
        ends = time.monotonic() + timeout
        with client.stream(
            "GET", url, timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_SECONDS))
        ) as response:
            if response.status_code == 404:
                return {}  # the service knows nothing of this lead: an answer, not a failure
            if response.status_code >= 500:
                raise _ServerError(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise ProviderError(f"HTTP {response.status_code}: check the URL and credentials")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if time.monotonic() > ends:  # a service trickling its answer would hold the lead past its lease
                    raise httpx.ReadTimeout("the answer took longer than the timeout")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ProviderError("The service answered with malformed JSON.") from exc

    def _map(self, payload: Any, settings: Mapping[str, Any]) -> ProviderResult:
        """The mapped response fields that pass the checks a typed value would; the others are left out."""
        confidence = float(settings["confidence"])
        values = {}
        for attribute, path in settings["mapping"].items():
            raw = _dig(payload, path)
            if raw in (None, ""):
                continue
            try:
                values[attribute] = Found(clean_value(attribute, raw), confidence)
            except RefusedValue as error:
                # Logged, not a failed run: the service answered, and the rest of its answer is good.
                logger.warning("HTTP provider: ignored %s from response field %s: %s", attribute, path, error)
        return ProviderResult(values)
