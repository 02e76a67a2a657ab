"""A step's email: Markdown with merge fields, rendered once per step, filled in per lead (no ORM, no clock).

`compile_step` renders the Markdown to sanitised HTML (markdown-it-py, raw HTML refused; nh3) and to plain
text with each merge field and link left as a placeholder; `CompiledStep.render` fills them for one lead.
Values are escaped where they land (HTML-escaped in the HTML body, URL-quoted inside a link), so a name
like ``<script>`` or ``**Evil**`` is shown as typed and never becomes markup, Markdown or a new link.
Every link is replaced by a link the caller makes (the signed click-tracking redirect).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

import nh3
from markdown_it import MarkdownIt

PERSON_FIELDS = ("first_name", "last_name", "company", "job_title")
FIELDS = (*PERSON_FIELDS, "asset_link")
FIELD_LIST = ", ".join(f"{{{{ {name} }}}}" for name in FIELDS)

# {{ first_name }} or {{ first_name|default:"there" }}
_MERGE = re.compile(r"\{\{\s*(\w+)\s*(?:\|\s*default\s*:\s*\"([^\"{}]*)\"\s*)?\}\}")
_ASSET_AS_DESTINATION = re.compile(r"\]\(\s*\{\{\s*asset_link\s*\}\}\s*\)")
_FIELD_TOKEN = re.compile(r"MRGFLD(\d+)END")
_LINK_TOKEN = re.compile(r"MRGLNK(\d+)END")
_HREF = re.compile(r'<a href="([^"]*)"')
_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_MARKDOWN = MarkdownIt("commonmark", {"html": False})
_ALLOWED_SCHEMES = {"http", "https", "mailto"}


def used_fields(source: str) -> list[str]:
    return [match.group(1) for match in _MERGE.finditer(source)]


def unknown_fields(source: str) -> list[str]:
    return sorted({name for name in used_fields(source) if name not in FIELDS})


@dataclass(frozen=True)
class MergeField:
    name: str
    default: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


LinkMaker = Callable[[str], str]


@dataclass(frozen=True)
class CompiledStep:
    """A step's subject and bodies with placeholders: MRGFLD<n>END for merge fields, MRGLNK<n>END for links."""

    subject: str
    html: str
    text: str
    fields: tuple[MergeField, ...]
    links: tuple[str, ...]

    def _filled(self, values: Mapping[str, str]) -> list[str]:
        return [(values.get(field.name) or "").strip() or field.default for field in self.fields]

    def render_subject(self, values: Mapping[str, str]) -> str:
        """The subject for one lead, on one line (a header never carries a line break)."""
        filled = self._filled(values)
        return " ".join(_FIELD_TOKEN.sub(lambda m: filled[int(m.group(1))], self.subject).split())

    def render(self, values: Mapping[str, str], *, link: LinkMaker) -> RenderedEmail:
        """Fill in one lead's ``values`` (field -> text); ``link(url)`` gives the address to put for each link."""
        filled = self._filled(values)
        urls = [_FIELD_TOKEN.sub(lambda m: quote(filled[int(m.group(1))], safe=""), url) for url in self.links]
        made: dict[str, str] = {}  # the HTML and the text body hold the same links: make each once
        targets = [made[url] if url in made else made.setdefault(url, link(url)) for url in urls]
        subject = self.render_subject(values)

        def in_html(match: re.Match[str]) -> str:
            return html.escape(filled[int(match.group(1))])

        body_html = _LINK_TOKEN.sub(lambda m: html.escape(targets[int(m.group(1))]), self.html)
        body_text = _LINK_TOKEN.sub(lambda m: targets[int(m.group(1))], self.text)
        return RenderedEmail(
            subject=subject,
            html=_FIELD_TOKEN.sub(in_html, body_html),
            text=_FIELD_TOKEN.sub(lambda m: filled[int(m.group(1))], body_text),
        )


def compile_step(*, subject: str, body: str, asset_url: str = "") -> CompiledStep:
    """Render ``body`` (Markdown) once, leaving the merge fields and links as placeholders."""
    fields: list[MergeField] = []

    def placeholder(match: re.Match[str]) -> str:
        fields.append(MergeField(name=match.group(1), default=match.group(2) or ""))
        return f"MRGFLD{len(fields) - 1}END"

    # The asset link is the same for every lead: it is put in as a link before rendering.
    body = _ASSET_AS_DESTINATION.sub(lambda _m: f"]({asset_url})", body)
    body = re.sub(r"\{\{\s*asset_link\s*\}\}", lambda _m: f"<{asset_url}>", body)
    subject_template = _MERGE.sub(placeholder, subject)
    source = _MERGE.sub(placeholder, body)

    links: list[str] = []

    def link_placeholder(url: str) -> str:
        links.append(url)
        return f"MRGLNK{len(links) - 1}END"

    safe_html = nh3.clean(_MARKDOWN.render(source), url_schemes=_ALLOWED_SCHEMES, link_rel="noopener")
    html_template = _HREF.sub(lambda m: f'<a href="{link_placeholder(html.unescape(m.group(1)))}"', safe_html)
    text_template = _MD_AUTOLINK.sub(lambda m: link_placeholder(m.group(1)), source)
    text_template = _MD_LINK.sub(lambda m: f"{m.group(1)} ({link_placeholder(m.group(2))})", text_template)
    return CompiledStep(
        subject=subject_template,
        html=html_template,
        text=text_template,
        fields=tuple(fields),
        links=tuple(links),
    )
