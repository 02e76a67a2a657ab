"""Reads for the public forms and admin: which form, which consent text version, which fields a visitor sees."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.db import connections, router
from django.db.models import CharField, Exists, F, Model, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, StrIndex, Upper
from django.db.models.lookups import GreaterThan
from django.utils.text import smart_split, unescape_string_literal

from leads.models import (
    CaptureForm,
    ConsentText,
    FieldKind,
    FormField,
    Lead,
    LeadAttribute,
    Stage,
    StageChange,
    Submission,
)

# The columns a search of leads reads: admin's, the inbox's and the team queue's.
LEAD_SEARCH_FIELDS = ("first_name", "last_name", "email", "company_name")
# pg_trgm finds a word in a text by its runs of three letters or digits (``[^\W_]``, as its ISWORDCHR): a term without
# one gives it no trigram to look for.
TRIGRAM = re.compile(r"[^\W_]{3}")


def contains_q(term: str, texts: Mapping[str, Any], *, model: type[Model]) -> Q:
    """Rows of ``model`` with ``term`` in any of ``texts``, whatever the case.

    ``texts``: each text's lookup path, as ``icontains`` takes it, and the text itself as an expression (``F`` of a
    column, ``KT`` of a JSON key). ``icontains`` is what a trigram index of the path's upper-cased text serves on
    PostgreSQL (leads migrations 0029 and 0030). A term without three letters or digits in a row ("ab", "a b",
    "@@@") gives such an index no trigram, and a plan on it reads the index whole: 2.5 to 5 s at a million leads.
    PostgreSQL chose such a plan for a prepared search (the site prepares statements, and after five runs PostgreSQL
    may plan one for any term) and, for a manager's search, even planned for the term itself. On PostgreSQL such a
    term is looked for by its place in the upper-cased text (``STRPOS``), the same test in words no index serves:
    the table is read (0.9 s at a million leads, as every search was before the indexes).
    """
    untrigrammed = connections[router.db_for_read(model)].vendor == "postgresql" and not TRIGRAM.search(term)
    condition = Q()
    for path, text in texts.items():
        if untrigrammed:
            # A row without the text is one without the term, negated too (as Django's exclude() of icontains).
            upper = Upper(Coalesce(text, Value(""), output_field=CharField()))
            condition |= Q(GreaterThan(StrIndex(upper, Upper(Value(term))), 0))
        else:
            condition |= Q(**{f"{path}__icontains": term})
    return condition


def lead_search_q(term: str, *, prefix: str = "") -> Q:
    """Leads (or, with ``prefix`` such as "lead__", rows whose lead) with ``term`` in the name, e-mail or company
    (``contains_q``): admin's search, the inbox's and the team queue's."""
    paths = [f"{prefix}{field}" for field in LEAD_SEARCH_FIELDS]
    return contains_q(term, {path: F(path) for path in paths}, model=Lead)


def search_words(text: str) -> list[str]:
    """The words of a search box as Django admin's search splits them: by spaces, a quoted phrase one word."""
    words = []
    for word in smart_split(text):
        if word.startswith(('"', "'")) and word[0] == word[-1]:
            word = unescape_string_literal(word)
        words.append(word)
    return words


def lead_words_search_q(text: str, *, prefix: str = "") -> Q:
    """Leads with every word of ``text`` somewhere in their name, e-mail or company (``lead_search_q`` for each):
    "Ada Lovelace" finds the lead whose first name is Ada and last name Lovelace, as admin's search does."""
    condition = Q()
    for word in search_words(text):
        condition &= lead_search_q(word, prefix=prefix)
    return condition


def submission_search_q(term: str) -> Q:
    """Submissions with ``term`` in their lead's e-mail or in the e-mail they sent, or, when ``term`` is an IP
    address, sent from it: admin's search of the submissions.

    Asked as one ``OR`` of the three, as admin's ``search_fields`` ask it, no index serves it: the lead's e-mail is
    across a join, the sent one in the payload, and every submission was read with its lead (2.0 s at a million on
    PostgreSQL, 1.1 s on SQLite). An address is looked up by its own index (no e-mail is an address). On PostgreSQL
    the e-mails are asked as a union of two parts, each served by a trigram index: the leads' e-mails, then their
    submissions by lead; and the e-mail in the payload (leads 0030). SQLite has no such index and keeps the ``OR``:
    there the union read both tables anyway, and the list then read it again for its page.
    """
    try:
        ipaddress.ip_address(term)
    except ValueError:
        pass
    else:  # written as the field writes an address (IPv6 in its short form)
        return Q(ip_address=Submission._meta.get_field("ip_address").to_python(term))
    if connections[router.db_for_read(Submission)].vendor != "postgresql":
        return Q(lead__email__icontains=term) | Q(payload__email__icontains=term)
    leads = Lead.objects.filter(contains_q(term, {"email": F("email")}, model=Lead)).values("pk")
    by_lead = Submission.objects.filter(lead__in=leads).order_by().values("pk")
    sent = Submission.objects.filter(contains_q(term, {"payload__email": KT("payload__email")}, model=Submission))
    return Q(pk__in=by_lead.union(sent.order_by().values("pk"), all=True))


def forms_with_fields() -> QuerySet[CaptureForm]:
    """Forms with their fields in order, fetched in one extra query."""
    return CaptureForm.objects.prefetch_related(Prefetch("fields", queryset=FormField.objects.order_by("order", "id")))


def current_consent_text(form: CaptureForm) -> ConsentText | None:
    """The form's newest consent text version, the one new visitors are shown."""
    return form.consent_texts.order_by("-version").first()


def shown_fields(form: CaptureForm, field_ids: Iterable[int]) -> list[FormField]:
    """The form's fields among ``field_ids`` (those a render showed), in form order; deleted ones drop out."""
    wanted = set(field_ids)
    return [field for field in form.fields.all() if field.pk in wanted]


def visitor_lead(lead_id: int | None) -> Lead | None:
    """The lead a returning visitor's cookie names, if it still exists."""
    if lead_id is None:
        return None
    return Lead.objects.filter(pk=lead_id).only("id", *_ATTRIBUTE_COLUMNS, "custom_answers").first()


_ATTRIBUTE_COLUMNS = tuple(LeadAttribute.values)
# What scoring and routing read about the firm and the role: a returning visitor is asked these first.
FIRMOGRAPHICS = frozenset(
    {LeadAttribute.INDUSTRY, LeadAttribute.SIZE_BAND, LeadAttribute.COUNTRY, LeadAttribute.JOB_TITLE}
)


def fields_to_show(*, fields: Collection[FormField], lead: Lead | None, max_new_questions: int) -> list[FormField]:
    """The fields to ask this visitor, in form order (progressive profiling).

    A new visitor gets every field except the progressive ones. A returning visitor (``lead``) is
    not asked again what we know (typed, or found by enrichment), and instead gets up to
    ``max_new_questions`` progressive fields not yet answered: the firmographics scoring and routing
    need (industry, company size, country, job title) first, then the others in form order. The field
    that says who the person is (email, or phone on a form without email) and hidden fields are always
    included.
    """
    has_email = any(field.lead_attribute == LeadAttribute.EMAIL for field in fields)
    identity = LeadAttribute.EMAIL if has_email else LeadAttribute.PHONE
    unanswered = [f for f in fields if lead is not None and f.is_progressive and not _is_known(lead, f)]
    firmographics_first = sorted(unanswered, key=lambda field: field.lead_attribute not in FIRMOGRAPHICS)
    asked = {id(field) for field in firmographics_first[: max(max_new_questions, 0)]}
    shown: list[FormField] = []
    for field in fields:
        if field.lead_attribute == identity or field.kind == FieldKind.HIDDEN:
            shown.append(field)
        elif lead is None:
            if not field.is_progressive:
                shown.append(field)
        elif field.is_progressive:
            if id(field) in asked:
                shown.append(field)
        elif not _is_known(lead, field):
            shown.append(field)
    return shown


def _is_known(lead: Lead, field: FormField) -> bool:
    if field.lead_attribute:
        return bool(getattr(lead, field.lead_attribute))
    return lead.custom_answers.get(field.answer_key) not in (None, "", [])


def submissions_for_links() -> QuerySet[Submission]:
    """Submissions with what the asset and confirm pages show."""
    return Submission.objects.select_related("form", "lead", "consent")


# --- Reached MQL / SQL: one definition for the reports, form analytics and rule effectiveness ------------
# Each answers (the stage now, ever moved there): either is enough. ``lead`` prefixes the stage lookup from a
# related model ("lead__" from a submission); ``outer`` names the lead's id in the outer query.


def reached_mql(*, lead: str = "", outer: str = "pk") -> tuple[Q, Exists]:
    """The lead is in MQL or beyond now, or has ever moved there."""
    changed = StageChange.objects.filter(lead=OuterRef(outer), to_stage__in=[Stage.MQL, Stage.SQL])
    return Q(**{f"{lead}stage__in": [Stage.MQL, Stage.SQL]}), Exists(changed)


def reached_sql(*, lead: str = "", outer: str = "pk") -> tuple[Q, Exists]:
    """The lead is in SQL now, or has ever moved there."""
    changed = StageChange.objects.filter(lead=OuterRef(outer), to_stage=Stage.SQL)
    return Q(**{f"{lead}stage": Stage.SQL}), Exists(changed)
