"""System checks of the project's own settings (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_site_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Emails and embed snippets link to SITE_URL: in production it must be the public address."""
    if settings.IS_SITE_URL_SET:
        return []
    return [
        Warning(
            f"SITE_URL is not set: links in emails and embed snippets point at {settings.SITE_URL}.",
            hint="Set SITE_URL to the public address, e.g. https://leads.example.com.",
            id="leadsite.W001",
        )
    ]
