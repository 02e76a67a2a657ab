"""A nurture email as the bytes an SMTP server receives, written without ``email.mime`` (pure code, no ORM, no clock).

Django's ``EmailMultiAlternatives.message().as_bytes()`` builds a tree of ``email`` objects and folds every header
again for each email: about half of the worker's CPU time per email (bench/nurture_send.py). A nurture email always
has the same shape, multipart/alternative with a plain-text and an HTML part, so it is written out here directly:

- a part that is ASCII with lines of at most 998 characters goes as it is (7bit); any other (a merge value with
  accents, a very long line) in UTF-8 quoted-printable (``binascii.b2a_qp``): 7-bit clean either way. The boundary
  is random per batch and checked against each part (a quoted-printable part can never hold it: its ``=`` are
  escaped, and the boundary starts with ``==``);
- a header value that is printable ASCII is written as it is (folded when it is long); any other is encoded as
  RFC 2047 words the way Django does it (``email.header.Header``); address headers come in already encoded
  (``django.core.mail.message.sanitize_address``);
- every line ends in CRLF, as SMTP wants it.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from email.header import Header

CRLF = "\r\n"
MAX_LINE = 78  # RFC 5322: a line SHOULD hold at most 78 characters
MAX_7BIT_LINE = 998  # RFC 5322: and MUST hold at most 998
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


@dataclass(frozen=True)
class RawEmail:
    """An email ready for ``smtplib.SMTP.sendmail``: the envelope and the message's bytes."""

    envelope_from: str
    recipient: str
    data: bytes


def header(name: str, value: str) -> str:
    """One header line (CRLF included) for an unstructured value such as a subject or a List-Unsubscribe."""
    if _PRINTABLE_ASCII.fullmatch(value):
        if len(name) + 2 + len(value) <= MAX_LINE:
            return f"{name}: {value}{CRLF}"
        if " " not in value and len(value) < MAX_7BIT_LINE:  # one long word (a URL): on a line of its own
            return f"{name}:{CRLF} {value}{CRLF}"
        folded = Header(value, header_name=name, maxlinelen=MAX_LINE).encode(linesep=CRLF)
    else:
        folded = Header(value, "utf-8", header_name=name, maxlinelen=MAX_LINE).encode(linesep=CRLF)
    return f"{name}: {folded}{CRLF}"


def multipart_alternative(*, headers: str, text: str, html: str, boundary: str) -> bytes:
    """The whole message: ``headers`` (complete lines), then the plain-text part and the HTML part.

    ``boundary`` must not start a line of any 7bit part: a random one per batch cannot, and a part holding it
    anyway is quoted-printable.
    """
    start = f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"{CRLF}MIME-Version: 1.0{CRLF}{CRLF}'
    delimiter = f"--{boundary}{CRLF}".encode("ascii")
    return b"".join(
        (
            (headers + start).encode("ascii"),
            delimiter,
            _part("text/plain", text, boundary=boundary),
            delimiter,
            _part("text/html", html, boundary=boundary),
            f"--{boundary}--{CRLF}".encode("ascii"),
        )
    )


def _part(content_type: str, body: str, *, boundary: str) -> bytes:
    """A part's headers and body, up to (not including) the CRLF before the next boundary (RFC 2046)."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n")
    ends_with_newline = lines.endswith("\n")
    if not ends_with_newline:
        lines += "\n"
    if _is_7bit(lines) and boundary not in lines:
        encoding, encoded = "7bit", lines.replace("\n", CRLF).encode("ascii")
    else:
        # The body ends with a line break here, so b2a_qp breaks long lines with CRLF (it uses the first it meets).
        encoding, encoded = "quoted-printable", binascii.b2a_qp(lines.replace("\n", CRLF).encode(), istext=True)
    head = f'Content-Type: {content_type}; charset="utf-8"{CRLF}Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}'
    # The CRLF the encoded body ends with belongs to the delimiter: one more keeps the body's own last line break.
    return head.encode("ascii") + encoded + (b"\r\n" if ends_with_newline else b"")


def _is_7bit(lines: str) -> bool:
    if not lines.isascii() or "\0" in lines:
        return False
    return len(lines) <= MAX_7BIT_LINE or max(map(len, lines.split("\n"))) <= MAX_7BIT_LINE
