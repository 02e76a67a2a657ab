"""The API's pages for people: the interactive docs, and each person's own API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.typing import AuthenticatedHttpRequest
from integrations import selectors, services
from integrations.forms import PersonalTokenForm


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, JSON unless YAML is asked for (``?format=yaml``): errors (a 401) come as JSON too."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI, self-hosted (drf-spectacular-sidecar), its start-up script served as a file.

    Everything it loads comes from our own origin, so the site-wide Content-Security-Policy applies
    unchanged: our template links a stylesheet where drf-spectacular's inlines a <style> block.
    """

    template_name = "integrations/swagger_ui.html"
    url_name = "api:schema"
    title = "Leadsite API"


# Signed-in people only: the page fetches the schema, and tries requests, with their session.
docs = login_required(DocsView.as_view())


@never_cache  # the response shows a new token
@login_required
@require_http_methods(["GET", "POST"])
def personal_tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    """List the person's own API tokens and make a new one, shown on this response only."""
    form = PersonalTokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        issued = services.create_api_key(
            name=form.cleaned_data["name"], scope=form.cleaned_data["scope"],
            expires_at=form.cleaned_data["expires_at"], user=request.user, created_by=request.user,
            now=timezone.now(),
        )  # fmt: skip
        form = PersonalTokenForm()
    context = {"form": form, "issued": issued, "tokens": selectors.personal_tokens(user=request.user)}
    return render(request, "integrations/tokens.html", context)


@require_POST
@login_required
def revoke_personal_token(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(selectors.personal_tokens(user=request.user), pk=token_id)
    services.revoke_api_keys(
        api_keys=selectors.personal_tokens(user=request.user).filter(pk=token.pk), now=timezone.now()
    )
    messages.success(request, f"Revoked “{token.name}”.")
    return redirect("api:tokens")
