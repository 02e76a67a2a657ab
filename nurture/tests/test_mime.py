"""A nurture email written out as bytes (pure code, no database): read back by the standard library's parser."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from nurture import mime

BOUNDARY = "==nurture-0123456789abcdef=="


def _parsed(*, text: str, html: str, headers: str = "Subject: Hi\r\n") -> EmailMessage:
    data = mime.multipart_alternative(headers=headers, text=text, html=html, boundary=BOUNDARY)
    return message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


@pytest.mark.parametrize("text", ["One line", "Two\nlines\n", "Windows\r\nline ends\r\n", "Zoë\n\n-- \nAcme"])
def test_both_parts_read_back_exactly_as_written(text: str) -> None:
    message = _parsed(text=text, html=f"<p>{text}</p>")

    plain, html = (part.get_content() for part in message.iter_parts())  # type: ignore[attr-defined]
    assert plain == text.replace("\r\n", "\n").replace("\n", "\r\n")
    assert html == f"<p>{text}</p>".replace("\r\n", "\n").replace("\n", "\r\n")


def test_a_part_holding_the_boundary_is_quoted_printable_so_the_message_keeps_two_parts() -> None:
    trap = f"Hello\n--{BOUNDARY}\nContent-Type: text/html\n\n<script>x</script>\n"

    message = _parsed(text=trap, html="<p>Hi</p>")

    parts = list(message.iter_parts())
    assert len(parts) == 2
    assert parts[0]["Content-Transfer-Encoding"] == "quoted-printable"
    assert parts[0].get_content() == trap.replace("\n", "\r\n")  # type: ignore[attr-defined]


def test_a_non_ascii_subject_is_encoded_and_reads_back() -> None:
    line = mime.header("Subject", "Zoë, the report for Müller & Söhne <GmbH>")

    assert line.isascii() and line.endswith("\r\n")
    assert _parsed(text="x", html="x", headers=line)["Subject"] == "Zoë, the report for Müller & Söhne <GmbH>"


def test_a_long_url_header_goes_on_a_line_of_its_own_and_unfolds_to_the_same_value() -> None:
    url = "<https://leads.example.com/n/u/" + "x" * 90 + "/>"

    line = mime.header("List-Unsubscribe", url)

    assert line == f"List-Unsubscribe:\r\n {url}\r\n"
    assert _parsed(text="x", html="x", headers=line)["List-Unsubscribe"].strip() == url


def test_a_control_character_in_a_subject_is_encoded_not_sent_raw() -> None:
    line = mime.header("Subject", "Ring\x07 the bell")

    assert "\x07" not in line
