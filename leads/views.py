import logging
import mimetypes
from pathlib import Path

from csp.constants import SELF
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from core import link_scanners
from core.client import client_ip
from core.roles import landing_url_name
from leads import analytics, capture_cache, selectors, services, spam, submissions, tokens
from leads.forms import SubmissionForm, clean_attribution, hidden_field_values
from leads.models import CaptureForm, ConsentStatus, ConsentText, FormField, Lead, Submission
from leads.origins import allows_opaque_origin, is_allowed_origin, is_opaque_origin, origin_of

logger = logging.getLogger(__name__)

# Served inline (opened in the browser); any other uploaded asset is downloaded as an attachment.
INLINE_ASSET_TYPES = frozenset({"application/pdf", "text/plain", "image/png", "image/jpeg", "image/gif"})


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to where their role works: reps to the inbox, managers to reports, marketers to admin."""
    name = landing_url_name(request.user)
    if name == "no_role":
        return render(request, "leads/no_role.html", status=403)
    return redirect(name)


@require_safe  # uptime monitors and load balancers often ask with HEAD
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: the process is up and the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every page without a <link rel="icon"> (admin, the API's JSON)."""
    return redirect(static("favicon.svg"))


# --- Public forms -----------------------------------------------------------------------------------
# A form embedded in a customer's page gets no CSRF cookie (third-party cookies are blocked), so the
# submit views are CSRF-exempt and protected instead by the signed render token, an Origin/Referer
# check against the form's allowed origins, and the per-IP rate limit. Never cached: every render
# carries its own token, whose nonce makes one submission.


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The form on its own page: GET shows it, POST submits it."""
    return _form_view(request, slug=slug, embed=False)


@csrf_exempt
@never_cache
@xframe_options_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def form_embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The form inside a customer's iframe; only the form's allowed origins may frame it."""
    return _form_view(request, slug=slug, embed=True)


@require_safe
@cache_control(public=True, max_age=3600)
def form_embed_script(request: HttpRequest, slug: str) -> HttpResponse:
    """The snippet marketers paste into their pages; it inserts the iframe (see static/js/leads/embed.js)."""
    get_object_or_404(CaptureForm, slug=slug, is_active=True)
    return HttpResponse(_embed_script(), content_type="text/javascript; charset=utf-8")


@never_cache
@login_required(login_url="admin:login")
@permission_required("leads.view_captureform", raise_exception=True)
@require_GET
def form_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The form as a new visitor sees it, for marketers in admin; it cannot be submitted."""
    capture_form = get_object_or_404(selectors.forms_with_fields(), slug=slug)
    consent_text = selectors.current_consent_text(capture_form) or ConsentText(text="(No consent text yet.)")
    fields = selectors.fields_to_show(fields=capture_form.fields.all(), lead=None, max_new_questions=0)
    form = SubmissionForm(fields=fields, consent_text=consent_text, legal_basis=capture_form.legal_basis)
    return render(
        request,
        "leads/form_page.html",
        {"capture_form": capture_form, "form": form, "consent_text": consent_text, "is_preview": True},
    )


@require_safe  # a link checker's HEAD is answered too, and records nothing
@never_cache
def asset_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """The gated asset behind a signed, expiring link, for whoever asks; records an ``asset_downloaded`` activity
    unless a mail scanner asked (the link is in the double opt-in email, which gateways open on delivery)."""
    try:
        submission_id = tokens.read_asset_token(token)
    except tokens.TokenExpired:
        return _link_expired(request, submission_id=tokens.read_expired_asset_token(token))
    except tokens.TokenInvalid as error:
        raise Http404("No such link") from error
    submission = get_object_or_404(selectors.submissions_for_links(), pk=submission_id)
    capture_form = submission.form
    if not capture_form.has_asset:
        raise Http404("This form has no asset")
    scanner = link_scanners.automated_reason(
        method=request.method or "", user_agent=request.headers.get("User-Agent", "")
    )
    if not scanner:
        submissions.record_asset_download(submission=submission, now=timezone.now())
    if capture_form.asset_file:
        return _serve_file(capture_form.asset_file)
    # The address a marketer set on the form, not one from the request: no open redirect.
    return redirect(capture_form.asset_url)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_consent(request: HttpRequest, token: str) -> HttpResponse:
    """Double opt-in: GET shows a confirm button and POST confirms.

    A button rather than confirming on GET, because mail scanners open every link in an email.
    """
    try:
        submission_id = tokens.read_confirm_token(token)
    except tokens.TokenExpired:
        return _link_expired(request, submission_id=None)
    except tokens.TokenInvalid as error:
        raise Http404("No such link") from error
    submission = get_object_or_404(selectors.submissions_for_links(), pk=submission_id)
    consent = submission.consent
    if (consent is not None and consent.withdrawn_at is not None) or (submission.lead and submission.lead.erased_at):
        # Withdrawn (or the person erased) since the email went out: nothing is left for the link to confirm.
        return render(request, "leads/link_expired.html", {"capture_form": None, "is_withdrawn": True}, status=410)
    if request.method == "POST":
        consent = submissions.confirm_consent(submission=submission, now=timezone.now(), ip_address=client_ip(request))
    is_confirmed = consent is not None and consent.status == ConsentStatus.CONFIRMED
    context = {
        "capture_form": submission.form,
        "is_confirmed": is_confirmed,
        "asset_url": _asset_path(submission) if is_confirmed and submission.form.has_asset else "",
    }
    return render(request, "leads/confirm.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw_consent(request: HttpRequest, token: str) -> HttpResponse:
    """The withdraw link in our emails: GET says what will happen and shows a button, POST withdraws.

    Never on GET, because mail scanners open every link in an email. The page names nobody: whoever
    holds the link learns nothing about its person.
    """
    try:
        lead_id = tokens.read_withdraw_token(token)
    except tokens.TokenInvalid as error:
        raise Http404("No such link") from error
    lead = get_object_or_404(Lead.objects.only("id"), pk=lead_id)
    if request.method == "POST":
        services.withdraw_consents(lead=lead, now=timezone.now(), source="link")
        is_withdrawn = True
    else:
        is_withdrawn = not lead.consents.filter(withdrawn_at__isnull=True).exists()
    return render(request, "leads/withdraw.html", {"is_withdrawn": is_withdrawn})


def _form_view(request: HttpRequest, *, slug: str, embed: bool) -> HttpResponse:
    entry = capture_cache.form_entry(slug)
    if entry is None:
        raise Http404("No such form")
    capture_form = entry.form
    if request.method == "POST":
        # A visitor who opened the form before it was switched off can still send it.
        response = _submit(request, entry, embed=embed)
    elif capture_form.is_active:
        response = _show_new_form(request, capture_form, embed=embed)
        if request.method == "GET":  # a HEAD (a link checker, a monitor) is nobody seeing the form
            analytics.record_form_view(
                form_id=capture_form.pk, user_agent=_user_agent(request), is_staff=_is_staff(request),
                is_prefetch=analytics.is_prefetch(request.headers), now=timezone.now(),
            )  # fmt: skip
    else:
        raise Http404("This form is not active")
    return _apply_form_policy(response, capture_form, embed=embed)


@csrf_exempt
@require_http_methods(["POST"])
def form_start(request: HttpRequest, slug: str) -> HttpResponse:
    """The form page's script reports that a visitor started filling it in (form analytics; nothing stored
    about them). CSRF-exempt like the form itself: an embedded form has no CSRF cookie, and this only counts."""
    capture_form = get_object_or_404(CaptureForm.objects.only("id"), slug=slug, is_active=True)
    if not _is_staff(request):
        analytics.record_form_start(form_id=capture_form.pk, user_agent=_user_agent(request), now=timezone.now())
    return HttpResponse(status=204)


def _is_staff(request: HttpRequest) -> bool:
    # Only a request that carries a session cookie can be staff: a visitor's costs no session lookup.
    return settings.SESSION_COOKIE_NAME in request.COOKIES and bool(getattr(request.user, "is_staff", False))


def _show_new_form(request: HttpRequest, capture_form: CaptureForm, *, embed: bool) -> HttpResponse:
    consent_text, fields, token = _new_render(request, capture_form)
    form = SubmissionForm(
        fields=fields,
        consent_text=consent_text,
        legal_basis=capture_form.legal_basis,
        initial=hidden_field_values(fields, request.GET),
    )
    # On its own page the form is the landing page and the Referer is where the visitor came from; in
    # an iframe embed.js passes both, and the Referer is the embedding page.
    referer = request.headers.get("referer", "")
    attribution = clean_attribution(
        request.GET,
        referrer="" if embed else referer,
        landing_page=referer if embed else request.build_absolute_uri(),
    )
    return _render_form(
        request, capture_form, form=form, consent_text=consent_text, token=token, attribution=attribution, embed=embed
    )


def _new_render(request: HttpRequest, capture_form: CaptureForm) -> tuple[ConsentText, list[FormField], str]:
    """The consent text and fields this visitor is shown now, and the render token that vouches for them."""
    entry = capture_cache.form_entry(capture_form.slug)
    consent_text = entry.current_consent_text if entry is not None else None
    if consent_text is None:
        raise Http404("This form has no consent text yet")
    fields = selectors.fields_to_show(
        fields=capture_form.fields.all(),
        lead=selectors.visitor_lead(_visitor_lead_id(request)),
        max_new_questions=capture_form.progressive_questions,
    )
    token = tokens.issue_render_token(form=capture_form, consent_text=consent_text, fields=fields, now=timezone.now())
    return consent_text, fields, token


def _submit(request: HttpRequest, entry: capture_cache.FormEntry, *, embed: bool) -> HttpResponse:
    capture_form = entry.form
    if not _posted_from_allowed_origin(request, capture_form):
        return HttpResponseForbidden("This form cannot be sent from that site.")
    token = request.POST.get("token", "")
    try:
        render_token = tokens.read_render_token(token, form=capture_form)
    except (tokens.TokenExpired, tokens.TokenInvalid):
        return _show_again_with_new_token(request, capture_form, embed=embed)
    consent_text = entry.consent_text(pk=render_token.consent_text_id)
    if consent_text is None:
        raise Http404("No such consent text")
    fields = selectors.shown_fields(capture_form, render_token.field_ids)
    form = SubmissionForm(request.POST, fields=fields, consent_text=consent_text, legal_basis=capture_form.legal_basis)
    attribution = clean_attribution(request.POST)
    if form.is_valid():
        try:
            result = submissions.submit_form(
                form=capture_form,
                render=render_token,
                consent_text=consent_text,
                answers=form.answers(),
                attribution=attribution,
                honeypot=request.POST.get(spam.HONEYPOT_FIELD, ""),
                client=submissions.ClientInfo(ip_address=client_ip(request), user_agent=_user_agent(request)),
                now=timezone.now(),
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            return _after_submit(request, entry, result.submission, embed=embed)
    return _render_form(
        request,
        capture_form,
        form=form,
        consent_text=consent_text,
        token=token,
        attribution=attribution,
        embed=embed,
        status=400,
    )


def _show_again_with_new_token(request: HttpRequest, capture_form: CaptureForm, *, embed: bool) -> HttpResponse:
    """The render token expired (or was tampered with): show the answers again with a fresh token."""
    consent_text, fields, token = _new_render(request, capture_form)
    form = SubmissionForm(request.POST, fields=fields, consent_text=consent_text, legal_basis=capture_form.legal_basis)
    form.add_error(None, "This page was open for a long time. Please check your answers and send the form again.")
    attribution = clean_attribution(request.POST)
    return _render_form(
        request,
        capture_form,
        form=form,
        consent_text=consent_text,
        token=token,
        attribution=attribution,
        embed=embed,
        status=400,
    )


def _render_form(
    request: HttpRequest,
    capture_form: CaptureForm,
    *,
    form: SubmissionForm,
    consent_text: ConsentText,
    token: str,
    attribution: dict[str, str],
    embed: bool,
    status: int = 200,
) -> HttpResponse:
    context = {
        "capture_form": capture_form,
        "form": form,
        "consent_text": consent_text,
        "token": token,
        "attribution": attribution,
        "honeypot_field": spam.HONEYPOT_FIELD,
        "action": reverse("leads:form_embed" if embed else "leads:form", args=[capture_form.slug]),
        "embed": embed,
    }
    return render(request, "leads/form_page.html", context, status=status)


def _after_submit(
    request: HttpRequest, entry: capture_cache.FormEntry, submission: Submission, *, embed: bool
) -> HttpResponse:
    capture_form = entry.form
    redirect_url = _safe_redirect_url(request, capture_form)
    if redirect_url:
        response: HttpResponse = redirect(redirect_url)
    else:
        # Suspected spam gets the same page: a person wrongly held still gets the asset, a bot learns nothing.
        show_asset = capture_form.has_asset and not capture_form.is_double_opt_in
        asset_url = _asset_path(submission) if show_asset else ""
        response = HttpResponse(_thank_you_page(entry, embed=embed, asset_url=asset_url))
    if submission.lead_id is not None and _is_visitors_lead(request, submission):
        _remember_visitor(request, response, lead_id=submission.lead_id)
    return response


def _is_visitors_lead(request: HttpRequest, submission: Submission) -> bool:
    """Whether the submission's lead may be remembered for this browser: the lead it just created, or the one the
    browser was remembering already. Anyone can send someone else's address; remembered for them, that person's
    lead would show, by the fields the next form leaves out, that it exists and what it holds."""
    lead = submission.lead
    # The new lead first: it needs no second reading of the signed cookie.
    is_new = lead is not None and lead.created_at == submission.submitted_at
    return is_new or _visitor_lead_id(request) == submission.lead_id


# Stands for the asset link in a thank-you page kept for later visitors; autoescaping leaves it as it is.
_ASSET_URL_SLOT = "__thank_you_asset_url__"


def _thank_you_page(entry: capture_cache.FormEntry, *, embed: bool, asset_url: str) -> str:
    """The thank-you page of the form in ``entry``: the same for every visitor but for their own asset link.

    Rendered once per variant and kept with that cached copy of the form (``capture_cache.FormEntry.pages``), so an
    edit in admin, which replaces the copy, is shown from the next visitor on; the visitor's link goes into its slot.
    The template reads nothing of the request (no context processors run for it): what it shows comes from the form.
    """
    key = ("thank_you", embed, bool(asset_url))
    page = entry.pages.get(key)
    if page is None:
        context = {"capture_form": entry.form, "asset_url": _ASSET_URL_SLOT if asset_url else "", "embed": embed}
        page = entry.pages[key] = render_to_string("leads/thank_you.html", context)
    return page.replace(_ASSET_URL_SLOT, escape(asset_url)) if asset_url else page


def _asset_path(submission: Submission) -> str:
    # Relative, so it works on whatever host served the form (emails use SITE_URL instead).
    return reverse("leads:asset", args=[tokens.asset_token(submission_id=submission.pk)])


def _apply_form_policy(response: HttpResponse, capture_form: CaptureForm, *, embed: bool) -> HttpResponse:
    """Let the form post to (and redirect to) its allowed origins and, embedded, be framed by them only."""
    origins = capture_form.allowed_origin_list
    policy = {"form-action": [SELF, *origins]}
    if embed:
        policy["frame-ancestors"] = [SELF, *origins]
    response._csp_replace = policy  # type: ignore[attr-defined]  # django-csp's per-response override
    return response


def _own_origins(request: HttpRequest) -> list[str]:
    return [origin for origin in (origin_of(request.build_absolute_uri("/")), origin_of(settings.SITE_URL)) if origin]


def _posted_from_allowed_origin(request: HttpRequest, capture_form: CaptureForm) -> bool:
    """Browsers send Origin (or at least Referer) with a form POST; it must be us or an allowed origin.

    A request with neither is not a browser form post; the signed token and rate limit still apply.
    """
    allowed = [*_own_origins(request), *capture_form.allowed_origin_list]
    origin = request.headers.get("origin", "")
    if is_opaque_origin(origin):
        # A sandboxed frame on any site sends "null" (and can hide its Referer): only a form that lists
        # null among its allowed origins takes it.
        return allows_opaque_origin(capture_form.allowed_origins)
    if origin:
        return is_allowed_origin(origin, allowed)
    referer = request.headers.get("referer", "")
    if referer:
        return is_allowed_origin(origin_of(referer), allowed)
    return True


def _safe_redirect_url(request: HttpRequest, capture_form: CaptureForm) -> str | None:
    """The form's redirect URL when it is on our own or an allowed origin; never an open redirect."""
    url = capture_form.redirect_url
    if not url:
        return None
    allowed = [*_own_origins(request), *capture_form.allowed_origin_list]
    hosts = {origin.split("://", 1)[1] for origin in allowed}
    if url_has_allowed_host_and_scheme(url, allowed_hosts=hosts, require_https=request.is_secure()) and (
        origin_of(url) in allowed
    ):
        return url
    logger.warning(
        "Form %s redirects to %s, which is not an allowed origin; showing the thank-you page", capture_form.slug, url
    )
    return None


def _remember_visitor(request: HttpRequest, response: HttpResponse, *, lead_id: int) -> None:
    """Set the signed visitor cookie that progressive profiling reads on the next form.

    Inside a customer's iframe it is a third-party cookie, which browsers send only with
    SameSite=None and Secure, so that is what it gets over HTTPS.
    """
    secure = request.is_secure()
    response.set_signed_cookie(
        tokens.VISITOR_COOKIE,
        str(lead_id),
        salt=tokens.VISITOR_COOKIE_SALT,
        max_age=int(tokens.VISITOR_COOKIE_MAX_AGE.total_seconds()),
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )


def _visitor_lead_id(request: HttpRequest) -> int | None:
    value = request.get_signed_cookie(
        tokens.VISITOR_COOKIE,
        default=None,
        salt=tokens.VISITOR_COOKIE_SALT,
        max_age=tokens.VISITOR_COOKIE_MAX_AGE,
    )
    return int(value) if value and value.isdigit() else None


def _user_agent(request: HttpRequest) -> str:
    return request.headers.get("user-agent", "")[:500]


def _serve_file(asset: FieldFile) -> FileResponse:
    assert asset.name, "only called for a form with an asset file"
    name = Path(asset.name).name
    content_type, _ = mimetypes.guess_type(name)
    try:
        handle = asset.open("rb")
    except FileNotFoundError as error:
        logger.error("Asset file %s is missing from storage", asset.name)
        raise Http404("The file is missing") from error
    return FileResponse(handle, as_attachment=content_type not in INLINE_ASSET_TYPES, filename=name)


def _link_expired(request: HttpRequest, *, submission_id: int | None) -> HttpResponse:
    submission = Submission.objects.select_related("form").filter(pk=submission_id).first() if submission_id else None
    context = {"capture_form": submission.form if submission and submission.form.is_active else None}
    return render(request, "leads/link_expired.html", context, status=410)


def _embed_script() -> str:
    path = finders.find("js/leads/embed.js")
    return Path(path).read_text(encoding="utf-8")  # type: ignore[arg-type]
