"""A step's Markdown with merge fields, rendered to HTML and plain text (pure code, no database)."""

from __future__ import annotations

from nurture import rendering


def _render(body: str, values: dict[str, str] | None = None, *, asset_url: str = "") -> rendering.RenderedEmail:
    compiled = rendering.compile_step(subject="Hi {{ first_name }}", body=body, asset_url=asset_url)
    return compiled.render(values or {}, link=lambda url: f"https://t.example/?u={url}")


def test_markdown_becomes_html_and_stays_markdown_in_the_text_body() -> None:
    email = _render("Hello **{{ first_name }}**", {"first_name": "Ada"})

    assert email.html == "<p>Hello <strong>Ada</strong></p>\n"
    assert email.text == "Hello **Ada**"


def test_a_merge_value_is_escaped_in_html_and_never_becomes_markdown_or_a_link() -> None:
    email = _render("Hello {{ company }}", {"company": "<script>x</script> [win](https://evil.example) **A**"})

    assert "&lt;script&gt;x&lt;/script&gt; [win](https://evil.example) **A**" in email.html
    assert "<a" not in email.html


def test_raw_html_in_the_body_is_shown_as_text() -> None:
    email = _render("<img src=x onerror=alert(1)>")

    assert "<img" not in email.html
    assert "&lt;img" in email.html


def test_an_empty_merge_field_takes_its_default() -> None:
    email = _render('Hi {{ first_name|default:"there" }}', {"first_name": "  "})

    assert email.text == "Hi there"


def test_every_link_goes_through_the_link_maker_with_merge_values_url_quoted() -> None:
    email = _render("[Visit](https://acme.example/?c={{ company }})", {"company": "A&B"})

    assert 'href="https://t.example/?u=https://acme.example/?c=A%26B"' in email.html
    assert "Visit (https://t.example/?u=https://acme.example/?c=A%26B)" in email.text


def test_the_asset_link_is_the_steps_asset_url() -> None:
    email = _render("[Get it]({{ asset_link }}) or {{ asset_link }}", asset_url="https://cdn.example/r.pdf")

    assert email.html.count('href="https://t.example/?u=https://cdn.example/r.pdf"') == 2


def test_a_subject_never_carries_a_line_break() -> None:
    compiled = rendering.compile_step(subject="Hi {{ first_name }}", body="")

    assert compiled.render_subject({"first_name": "Ada\r\nBcc: x@evil.example"}) == "Hi Ada Bcc: x@evil.example"


def test_unknown_merge_fields_are_named() -> None:
    assert rendering.unknown_fields("{{ first_name }} {{ firstname }} {{ salary }}") == ["firstname", "salary"]
