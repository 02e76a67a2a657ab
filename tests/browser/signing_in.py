"""Signing a demo user in, on the site's own form or on admin's, for every browser test."""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.sync_api import Page

DEMO_PASSWORD = "demo"  # what the browser tests give ``demo.ensure_demo_users``


def sign_in(page: Page, base_url: str, username: str, next_path: str | None = None) -> None:
    """Sign ``username`` in on the site's form and wait until the page they land on has loaded.

    With ``next_path`` the form sends them there, and the helper waits for exactly that URL. Without it they
    start at the front door as a visitor does, and land wherever the site sends their role.
    """
    if next_path is None:
        page.goto(f"{base_url}/")  # a visitor is sent on to the sign-in form
    else:
        page.goto(f"{base_url}/accounts/login/?{urlencode({'next': next_path})}")
    _submit(page, username, button="button[type=submit]")
    if next_path is None:
        page.wait_for_url(lambda url: "/accounts/login/" not in url)  # and for that page's load event
    else:
        _wait_for_exact_url(page, f"{base_url}{next_path}")


def sign_in_to_admin(page: Page, base_url: str, next_path: str) -> None:
    """Sign the demo marketer (the staff user) in on admin's form and wait until ``next_path`` has loaded."""
    page.goto(f"{base_url}/admin/login/?{urlencode({'next': next_path})}")
    _submit(page, "marketer", button="input[type=submit]")
    _wait_for_exact_url(page, f"{base_url}{next_path}")


def _submit(page: Page, username: str, *, button: str) -> None:
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click(button)


def _wait_for_exact_url(page: Page, url: str) -> None:
    # A predicate, not a string: Playwright reads a string as a glob, and next paths carry "?".
    # wait_for_url also waits for that page's load event.
    page.wait_for_url(lambda current: current == url)
