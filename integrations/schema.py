"""How the OpenAPI schema describes our authentication (imported in IntegrationsConfig.ready)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from integrations.authentication import KEYWORD


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                f"`{KEYWORD} <key>`: an integration key (scoped: capture, read or full) made in admin, "
                "or a personal token made at /api/tokens/, which acts with its owner's permissions."
            ),
        }
