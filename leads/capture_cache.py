"""Per-process copies of what only admin changes and every capture reads: the forms (with their fields and
consent text versions), the channel rules, and the size bands and industries a form's select offers.

Reading them from the database on every submission was most of a capture's queries. Each process keeps
its own copy: a save or delete in this process clears it at once (``clear``, connected to the models'
``post_save`` and ``post_delete`` in ``LeadsConfig.ready``), and the other processes, which no signal
reaches, load theirs again at most ``REFRESH_AFTER_SECONDS`` later. A render token names the consent text
version it showed, so a version this copy does not know yet is read from the database
(``FormEntry.consent_text``): a consent always keeps the exact words its person saw.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from leads import selectors
from leads.channels import ChannelCondition
from leads.models import CaptureForm, ChannelRule, ConsentText, Industry, SizeBand

REFRESH_AFTER_SECONDS = 30.0

ChannelRules = list[tuple[str, ChannelCondition, bool]]
T = TypeVar("T")


@dataclass(frozen=True)
class PickLists:
    """The admin-edited lists a form's company-size and industry selects offer, in their order."""

    size_bands: tuple[str, ...]
    industries: tuple[str, ...]


@dataclass(frozen=True)
class FormEntry:
    """A form with its fields prefetched in order, and its consent text versions, newest first."""

    form: CaptureForm
    consent_texts: tuple[ConsentText, ...]
    # Pages rendered from this copy of the form, by whoever renders them (``leads.views``): cleared with it.
    pages: dict[Any, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def current_consent_text(self) -> ConsentText | None:
        return self.consent_texts[0] if self.consent_texts else None

    def consent_text(self, *, pk: int | None = None, version: int | None = None) -> ConsentText | None:
        """The form's consent text with this id or version; one this copy lacks is read from the database."""
        for text in self.consent_texts:
            if text.pk == pk or (version is not None and text.version == version):
                return text
        lookup = {"pk": pk} if pk is not None else {"version": version}
        return self.form.consent_texts.filter(**lookup).first()


_lock = threading.Lock()
_forms: dict[str, tuple[float, FormEntry]] = {}
# What ``kept`` loaded, by loader: when, and what.
_kept: dict[Callable[[], Any], tuple[float, Any]] = {}
# Bumped by every clear, so a load that overlapped a clear is used once but never kept.
_generation = 0


def form_entry(slug: str) -> FormEntry | None:
    """The form with this slug (active or not) and its consent texts; None when there is none."""
    cached = _forms.get(slug)
    if cached is not None and time.monotonic() - cached[0] < REFRESH_AFTER_SECONDS:
        return cached[1]
    generation = _generation
    form = selectors.forms_with_fields().prefetch_related("consent_texts").filter(slug=slug).first()
    if form is None:
        return None
    texts = sorted(form.consent_texts.all(), key=lambda text: text.version, reverse=True)
    entry = FormEntry(form=form, consent_texts=tuple(texts))
    with _lock:
        if generation == _generation:
            _forms[slug] = (time.monotonic(), entry)
    return entry


def kept(load: Callable[[], T]) -> T:
    """What ``load()`` returns, kept in this process like the forms: loaded again after ``clear`` or once
    ``REFRESH_AFTER_SECONDS`` have passed. Share nothing mutable from it: every request gets the same value."""
    cached = _kept.get(load)
    if cached is not None and time.monotonic() - cached[0] < REFRESH_AFTER_SECONDS:
        return cached[1]
    generation = _generation
    value = load()
    with _lock:
        if generation == _generation:
            _kept[load] = (time.monotonic(), value)
    return value


def channel_rules() -> ChannelRules:
    """The active channel rules in order, as (channel, condition, is_meaningful)."""
    return kept(_load_channel_rules)


def _load_channel_rules() -> ChannelRules:
    return [
        (
            rule.channel,
            ChannelCondition.build(
                mediums=rule.mediums,
                sources=rule.sources,
                referrer_domains=rule.referrer_domains,
                needs_click_id=rule.needs_click_id,
                needs_no_utm=rule.needs_no_utm,
                needs_referrer=rule.needs_referrer,
            ),
            rule.is_meaningful,
        )
        for rule in ChannelRule.objects.filter(is_active=True).order_by("order", "id")
    ]


def pick_lists() -> PickLists:
    """The size band names (smallest first) and industry names (by name)."""
    return kept(_load_pick_lists)


def _load_pick_lists() -> PickLists:
    return PickLists(
        size_bands=tuple(SizeBand.objects.order_by("min_employees", "name").values_list("name", flat=True)),
        industries=tuple(Industry.objects.order_by("name").values_list("name", flat=True)),
    )


def clear(*args: Any, **kwargs: Any) -> None:
    """Forget this process's copies; a signal receiver (any sender) and what tests call between tests."""
    global _generation
    with _lock:
        _generation += 1
        _forms.clear()
        _kept.clear()
