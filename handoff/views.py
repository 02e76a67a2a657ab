"""The reps' inbox, the lead page with its actions, and the managers' queue. Thin: check, parse, call, render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.typing import AuthenticatedHttpRequest
from handoff import forms, selectors, services
from handoff.models import Assignment, FollowUp, SavedView, Team
from handoff.pagination import keyset_page
from handoff.timeline import lead_timeline, timeline_items_html
from leads import services as lead_services
from leads.models import ProposedChange

work_inbox = permission_required("handoff.work_inbox", raise_exception=True)
manage_team = permission_required("handoff.manage_team", raise_exception=True)


# --- The rep's inbox -----------------------------------------------------------------------------


@require_GET
@login_required
@work_inbox
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    zone = selectors.viewer_timezone(user=request.user)
    teams = selectors.teams_of(user=request.user)
    filter_form = forms.InboxFilterForm(
        request.GET,
        sources=selectors.inbox_pick_values(user=request.user, column="source"),
        campaigns=selectors.inbox_pick_values(user=request.user, column="campaign"),
        teams=teams,
        zone=zone,
    )
    filters = filter_form.filters()
    sort = selectors.INBOX_SORTS[filters.sort]
    page = selectors.inbox_page(
        user=request.user, filters=filters, after=request.GET.get("after"), before=request.GET.get("before")
    )
    now = timezone.now()
    countdowns = selectors.countdowns(clocks=selectors.inbox_clocks(page.items), now=now, known_teams=teams)
    rows = selectors.inbox_rows(assignments=page.items, countdowns=countdowns, now=now)
    shareable = [team for team in teams if team.is_managed]  # type: ignore[attr-defined]
    query = _params_without_cursor(request)
    query_without_cursor = query.urlencode()
    context = {
        "filter_form": filter_form,
        "filters": filters,
        "sort": sort,
        "sort_links": _sort_links(query, filters.sort),
        "page": page,
        "rows": rows,
        "countdowns": countdowns,
        "is_manager": request.user.has_perm("handoff.manage_team"),
        "query_without_cursor": query_without_cursor,
        "saved_views": selectors.saved_views_for(user=request.user),
        "save_view_form": forms.SaveViewForm(initial={"query": query_without_cursor}, shareable_teams=shareable),
        "follow_ups": selectors.open_follow_ups(user=request.user),
        "bulk_actions": forms.REP_BULK_ACTIONS,
        "today": now.astimezone(zone).date(),
        "viewer_zone": zone,
        "now": now,
        "pulse_url": reverse("handoff:inbox_pulse"),
    }
    return render(request, "handoff/inbox.html", context)


# Each sortable column's two sorts: the one a first click gives, then the other way round.
SORT_COLUMNS = {
    "due": ("due", "-due"),
    "assigned": ("-assigned", "assigned"),
    "score": ("-score", "score"),
    "company": ("company", "-company"),
}


def _sort_links(query: QueryDict, current: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the link that sorts by it (toggling direction), its aria-sort value and arrow.

    ``query``: the page's query without its cursor, which this changes (its sort).
    """
    links = {}
    for column, (first, second) in SORT_COLUMNS.items():
        query["sort"] = second if current == first else first
        direction = "none"
        if current in (first, second):
            direction = "descending" if selectors.INBOX_SORTS[current].descending else "ascending"
        links[column] = {"url": f"?{query.urlencode()}", "aria_sort": direction, "arrow": SORT_ARROWS[direction]}
    return links


SORT_ARROWS = {"ascending": " ▲", "descending": " ▼", "none": ""}


def _params_without_cursor(request: HttpRequest) -> QueryDict:
    """The page's query string, as a mutable copy, without the keyset cursor (filters and sort kept)."""
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return query


@require_GET
@login_required
@work_inbox
def inbox_pulse(request: AuthenticatedHttpRequest) -> JsonResponse:
    """What the inbox polls: the rep's count awaiting contact, breaches and a version that changes with either."""
    pulse = selectors.inbox_pulse(user=request.user, now=timezone.now())
    return JsonResponse(
        {
            "count": str(pulse.todo),  # what the page puts in its title (static/js/handoff/live.js)
            "todo": pulse.todo,
            "breached": pulse.breached,
            "newest": pulse.newest_id,
            "newest_id": pulse.newest_id,
            "version": pulse.version,
        }
    )


@require_POST
@login_required
@work_inbox
def save_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = forms.SaveViewForm(request.POST, shareable_teams=selectors.managed_team_list(user=request.user))
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(
                    request,
                    f"{form.fields[field].label or field.title()}: {error}" if field != "__all__" else str(error),
                )
        return redirect(f"{reverse('handoff:inbox')}?{QueryDict(request.POST.get('query', '')).urlencode()}")
    team = form.shareable_teams.get(form.cleaned_data["team"]) if form.cleaned_data["team"] else None
    try:
        view = services.save_view(
            owner=request.user,
            name=form.cleaned_data["name"],
            query=form.cleaned_data["query"],
            team=team,
            now=timezone.now(),
        )
    except services.SavedViewNameTakenError as error:
        messages.error(request, str(error))
        return redirect(f"{reverse('handoff:inbox')}?{form.cleaned_data['query']}")
    shared = f" and shared with {team.name}" if team else ""
    messages.success(request, f"View “{view.name}” saved{shared}.")
    return redirect(f"{reverse('handoff:inbox')}?{view.query}")


@require_POST
@login_required
@work_inbox
def delete_view(request: AuthenticatedHttpRequest, view_id: int) -> HttpResponse:
    view = SavedView.objects.filter(pk=view_id, owner=request.user).first()
    if view is None:
        raise Http404("No such view of yours.")
    services.delete_view(view=view)
    messages.success(request, f"View “{view.name}” deleted.")
    return redirect("handoff:inbox")


@require_POST
@login_required
@work_inbox
def inbox_bulk(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Accept, reject or recycle the ticked leads: first a page saying what will happen, then, confirmed, do it."""
    now = timezone.now()
    today = now.astimezone(selectors.viewer_timezone(user=request.user)).date()
    form = forms.BulkActionForm(request.POST, today=today)
    scope = Assignment.objects.open().filter(rep=request.user).select_related("lead", "team", "sla")
    return _bulk(request, form, scope, back=reverse("handoff:inbox"), as_manager=False, now=now)


def _bulk(
    request: AuthenticatedHttpRequest,
    form: forms.BulkActionForm,
    scope: QuerySet[Assignment],
    *,
    back: str,
    as_manager: bool,
    now: datetime,
) -> HttpResponse:
    is_valid = form.is_valid()
    if "ids" in form.errors or "action" in form.errors:
        for field in ("ids", "action"):
            for error in form.errors.get(field, []):
                messages.error(request, str(error))
        return redirect(back)
    ids = form.cleaned_data["ids"]
    assignments = list(scope.filter(pk__in=ids).order_by("sla_due_at", "pk"))
    if len(assignments) != len(ids):
        raise Http404("Some of the ticked leads are not yours to change.")
    action = form.cleaned_data["action"]
    if not is_valid or not form.cleaned_data["confirm"]:
        label = dict(form.fields["action"].choices)[action]  # type: ignore[attr-defined]
        context = {"form": form, "assignments": assignments, "back": back, "action_label": label, "action": action}
        if action == "recycle":
            # The viewer's today (the form's check) and each lead's team's (the service's): the latest one counts.
            days = [form.today, *(now.astimezone(ZoneInfo(row.team.timezone)).date() for row in assignments)]
            context["first_recycle_day"] = forms.first_recycle_day(max(days))
        return render(request, "handoff/bulk_confirm.html", context, status=200 if is_valid else 400)
    arguments = {"reason": form.cleaned_data["reason"], "recycle_on": form.cleaned_data["recycle_on"], "now": now}
    # A manager acts for each assignment's own rep, and is recorded as the one who did it.
    result = services.bulk_rep_action(
        assignments=assignments,
        action=action,
        rep=None if as_manager else request.user,
        by=request.user if as_manager else None,
        **arguments,
    )
    _report_bulk(request, result, verb=BULK_VERBS[action])
    return redirect(back)


BULK_VERBS = {"accept": "accepted", "reject": "rejected", "recycle": "recycled to nurture"}


# --- The lead page -------------------------------------------------------------------------------


@require_GET
@login_required
@work_inbox
def lead_detail(request: AuthenticatedHttpRequest, lead_id: int) -> HttpResponse:
    page = selectors.lead_page(user=request.user, lead_id=lead_id)
    if page is None:
        raise Http404("No such lead in your inbox.")
    return render(request, "handoff/lead_detail.html", _lead_context(request, page))


@require_POST
@login_required
@work_inbox
def add_follow_up(request: AuthenticatedHttpRequest, lead_id: int) -> HttpResponse:
    lead = selectors.visible_leads(user=request.user).filter(pk=lead_id).first()
    if lead is None:
        raise Http404("No such lead in your inbox.")
    now = timezone.now()
    zone = selectors.viewer_timezone(user=request.user)
    with timezone.override(zone):  # the browser's datetime-local value is wall-clock time in the viewer's zone
        form = forms.FollowUpForm(request.POST, action=request.path, now=now)
        is_valid = form.is_valid()
    if not is_valid:
        page = selectors.lead_page(user=request.user, lead_id=lead_id)
        assert page is not None  # the same scope as above
        return render(
            request, "handoff/lead_detail.html", _lead_context(request, page, follow_up_form=form), status=400
        )
    follow_up = services.add_follow_up(
        lead=lead, rep=request.user, due_at=form.cleaned_data["due_at"], note=form.cleaned_data["note"], now=now
    )
    messages.success(request, f"Follow-up set for {follow_up.due_at.astimezone(zone):%a %d %b, %H:%M} ({zone.key}).")
    return redirect("handoff:lead", lead_id=lead_id)


@require_POST
@login_required
@work_inbox
def complete_follow_up(request: AuthenticatedHttpRequest, follow_up_id: int) -> HttpResponse:
    follow_up = FollowUp.objects.select_related("lead").filter(pk=follow_up_id, rep=request.user).first()
    if follow_up is None:
        raise Http404("No such follow-up of yours.")
    services.complete_follow_up(follow_up=follow_up, now=timezone.now())
    messages.success(request, f"Follow-up with {follow_up.lead} done.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("handoff:inbox")


@require_POST
@login_required
def set_timezone(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = forms.TimezoneForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("handoff:inbox")
    if not form.is_valid():
        messages.error(request, "Pick a time zone from the list.")
        return redirect(back)
    services.set_viewer_timezone(user=request.user, timezone_name=form.cleaned_data["timezone"])
    messages.success(request, f"Times are now shown in {form.cleaned_data['timezone']}.")
    return redirect(back)


def _lead_context(
    request: AuthenticatedHttpRequest, page: selectors.LeadPage, **bound_forms: Form
) -> dict[str, object]:
    """Everything the lead page shows; ``bound_forms`` replace the empty forms after an invalid POST."""
    now = timezone.now()
    lead, assignments, zone = page.lead, page.assignments, page.viewer_zone
    current = next((a for a in assignments if a.is_open), None)
    is_mine = current is not None and current.rep_id == request.user.pk
    is_manager = request.user.has_perm("handoff.manage_team")  # a rep's page asks nothing more about teams
    teams = selectors.managed_team_list(user=request.user) if is_manager else []
    # A manager reassigns the lead's open assignment when it is in one of their teams (``managed_assignment``).
    can_manage = current is not None and any(team.pk == current.team_id for team in teams)
    can_assign = current is None and lead.owner_id is None and is_manager
    countdowns = selectors.lead_countdowns(current=current, now=now)
    context: dict[str, object] = {
        "lead": lead,
        # Read here: in the template a lead never routed (no row) fails the lookup, which then searches the lead.
        "routing_decision": getattr(lead, "routing_decision", None),
        "consents": page.consents,
        "timeline_html": timeline_items_html(lead_timeline(page), zone),
        "viewer_zone": zone,
        "open_follow_ups": [f for f in page.history.follow_ups if f.done_at is None],
        "follow_up_form": forms.FollowUpForm(
            action=reverse("handoff:add_follow_up", args=[lead.pk]),
            now=now,
            initial={"due_at": (now + timedelta(days=1)).astimezone(zone).replace(minute=0, second=0, microsecond=0)},
        ),
        "timezone_options": forms.timezone_options(zone.key),
        "proposed_changes": page.proposed_changes,
        "can_decide_changes": selectors.may_decide_changes(user=request.user, lead=lead),
        "current": current,
        "is_mine": is_mine,
        "can_manage": can_manage,
        "can_assign": can_assign,
        "history": assignments,
        "first_touch": page.first_touch,
        "countdowns": countdowns,
        "current_clock": countdowns.clocks.get(current.pk) if current else None,
        **_action_forms(
            request, lead.pk, current, now, teams, is_mine=is_mine, can_manage=can_manage, can_assign=can_assign
        ),
    }
    context.update(bound_forms)
    return context


def _action_forms(
    request: AuthenticatedHttpRequest,
    lead_id: int,
    current: Assignment | None,
    now: datetime,
    teams: list[Team],
    *,
    is_mine: bool,
    can_manage: bool,
    can_assign: bool,
) -> dict[str, object]:
    """The empty forms of the actions the viewer may take on the lead, and only those (the page shows no other).

    ``teams``: the teams the viewer manages, read already.
    """

    def url(name: str) -> str:
        return reverse(f"handoff:{name}", args=[lead_id])

    action_forms: dict[str, object] = {}
    if is_mine:
        assert current is not None  # is_mine means the open assignment is the viewer's
        today = now.astimezone(ZoneInfo(current.team.timezone)).date()
        action_forms.update(
            accept_url=url("accept"),
            contact_form=forms.ContactForm(action=url("contact")),
            qualify_form=forms.QualifyForm(action=url("qualify")),
            reject_form=forms.RejectForm(action=url("reject")),
            recycle_form=forms.RecycleForm(action=url("recycle"), today=today),
        )
    if can_manage or can_assign:
        members = selectors.assignable_members(user=request.user, teams=teams)
        if can_manage:
            assert current is not None
            action_forms["reassign_form"] = forms.ReassignForm(
                action=url("reassign"), members=members, initial={"to": f"team:{current.team_id}"}
            )
        if can_assign:
            action_forms["assign_form"] = forms.AssignForm(action=url("assign"), members=members)
    return action_forms


# --- The rep's actions ---------------------------------------------------------------------------

RepAction = Callable[[AuthenticatedHttpRequest, Assignment], HttpResponse]


def rep_action(view: RepAction) -> Callable[[AuthenticatedHttpRequest, int], HttpResponse]:
    """POST-only, for the rep the lead was assigned to; a lead never theirs is a 404.

    A rep who lost the lead a moment ago (reassigned, or handled in another tab) still reaches the
    service, which explains what happened.
    """

    @require_POST
    @login_required
    @work_inbox
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, lead_id: int) -> HttpResponse:
        assignment = selectors.latest_assignment(user=request.user, lead_id=lead_id)
        if assignment is None:
            raise Http404("No such lead in your inbox.")
        try:
            return view(request, assignment)
        except services.HandoffError as error:
            messages.error(request, str(error))
            return _back_to(request, assignment.lead_id)

    return wrapper


def _back_to(request: AuthenticatedHttpRequest, lead_id: int) -> HttpResponse:
    """The lead page if the user may still see the lead, else the inbox."""
    if selectors.visible_leads(user=request.user).filter(pk=lead_id).exists():
        return redirect("handoff:lead", lead_id=lead_id)
    return redirect("handoff:inbox")


@rep_action
def accept(request: AuthenticatedHttpRequest, assignment: Assignment) -> HttpResponse:
    services.accept_assignment(assignment=assignment, rep=request.user, now=timezone.now())
    messages.success(request, f"You accepted {assignment.lead}. The SLA clock runs until your first contact.")
    return redirect("handoff:lead", lead_id=assignment.lead_id)


@rep_action
def log_contact(request: AuthenticatedHttpRequest, assignment: Assignment) -> HttpResponse:
    form = forms.ContactForm(request.POST, action=request.path)
    if not form.is_valid():
        return _invalid(request, assignment, contact_form=form)
    met_before = assignment.sla.met_at is not None
    contact = services.log_contact(
        assignment=assignment,
        rep=request.user,
        kind=form.cleaned_data["kind"],
        note=form.cleaned_data["note"],
        now=timezone.now(),
    )
    suffix = "" if met_before else " The SLA is met."
    messages.success(request, f"{contact.get_kind_display()} with {assignment.lead} logged.{suffix}")
    return redirect("handoff:lead", lead_id=assignment.lead_id)


@rep_action
def qualify(request: AuthenticatedHttpRequest, assignment: Assignment) -> HttpResponse:
    form = forms.QualifyForm(request.POST, action=request.path)
    if not form.is_valid():
        return _invalid(request, assignment, qualify_form=form)
    services.qualify_lead(
        assignment=assignment, rep=request.user, bant=services.BANT(**form.cleaned_data), now=timezone.now()
    )
    messages.success(request, f"{assignment.lead} is now a sales-qualified lead (SQL).")
    return redirect("handoff:lead", lead_id=assignment.lead_id)


@rep_action
def reject(request: AuthenticatedHttpRequest, assignment: Assignment) -> HttpResponse:
    form = forms.RejectForm(request.POST, action=request.path)
    if not form.is_valid():
        return _invalid(request, assignment, reject_form=form)
    services.reject_lead(
        assignment=assignment, rep=request.user, reason=form.cleaned_data["reason"], now=timezone.now()
    )
    messages.success(request, f"{assignment.lead} went back to marketing as rejected.")
    return redirect("handoff:inbox")


@rep_action
def recycle(request: AuthenticatedHttpRequest, assignment: Assignment) -> HttpResponse:
    now = timezone.now()
    today = now.astimezone(ZoneInfo(assignment.team.timezone)).date()
    form = forms.RecycleForm(request.POST, action=request.path, today=today)
    if not form.is_valid():
        return _invalid(request, assignment, recycle_form=form)
    services.recycle_lead(assignment=assignment, rep=request.user, now=now, **form.cleaned_data)
    messages.success(request, f"{assignment.lead} is back in nurture until {form.cleaned_data['recycle_on']:%d %b %Y}.")
    return redirect("handoff:inbox")


def _invalid(request: AuthenticatedHttpRequest, assignment: Assignment, **bound_forms: Form) -> HttpResponse:
    page = selectors.lead_page(user=request.user, lead_id=assignment.lead_id)
    if page is None:
        raise Http404("No such lead in your inbox.")
    return render(request, "handoff/lead_detail.html", _lead_context(request, page, **bound_forms), status=400)


# --- Proposed changes (the merge policy, ``leads.merge``) ------------------------------------


@require_POST
@login_required
def accept_change(request: AuthenticatedHttpRequest, lead_id: int, change_id: int) -> HttpResponse:
    change = _decidable_change(request, lead_id, change_id)
    try:
        lead_services.accept_proposed_change(change=change, by=request.user, now=timezone.now())
    except (lead_services.ChangeAlreadyDecidedError, ValidationError) as error:
        messages.error(request, " ".join(error.messages if isinstance(error, ValidationError) else [str(error)]))
    else:
        messages.success(request, f"{change.label} is now “{change.value_display}”.")
    return _after_decision(request, lead_id)


@require_POST
@login_required
def dismiss_change(request: AuthenticatedHttpRequest, lead_id: int, change_id: int) -> HttpResponse:
    change = _decidable_change(request, lead_id, change_id)
    try:
        lead_services.dismiss_proposed_change(change=change, by=request.user, now=timezone.now())
    except lead_services.ChangeAlreadyDecidedError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Dismissed the proposed {change.label.lower()}.")
    return _after_decision(request, lead_id)


def _decidable_change(request: AuthenticatedHttpRequest, lead_id: int, change_id: int) -> ProposedChange:
    """The proposed change, for the lead's owner or a marketer; a 404 for everyone else."""
    change = selectors.decidable_change(user=request.user, lead_id=lead_id, change_id=change_id)
    if change is None:
        raise Http404("No such proposed change on your leads.")
    return change


def _after_decision(request: AuthenticatedHttpRequest, lead_id: int) -> HttpResponse:
    # Marketers work in admin, not in the inbox: they go back to the lead there.
    if request.user.has_perm("handoff.work_inbox"):
        return _back_to(request, lead_id)
    return redirect("admin:leads_lead_change", lead_id)


# --- Managers: one lead --------------------------------------------------------------------------


@require_POST
@login_required
@manage_team
def reassign(request: AuthenticatedHttpRequest, lead_id: int) -> HttpResponse:
    assignment = selectors.managed_assignment(user=request.user, lead_id=lead_id)
    if assignment is None:
        raise Http404("No such lead in your teams.")
    form = forms.ReassignForm(
        request.POST, action=request.path, members=selectors.assignable_members(user=request.user)
    )
    if not form.is_valid():
        page = selectors.lead_page(user=request.user, lead_id=lead_id)
        assert page is not None  # its open assignment is in the manager's team, so the lead page shows it
        return render(request, "handoff/lead_detail.html", _lead_context(request, page, reassign_form=form), status=400)
    team, membership = form.target()
    try:
        successor = services.reassign_lead(
            assignment=assignment,
            now=timezone.now(),
            by=request.user,
            reason=form.cleaned_data["reason"],
            team=team,
            rep=membership.user if membership else None,
        )
    except services.HandoffError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{assignment.lead} reassigned to {_name(successor.rep)}.")
    return redirect("handoff:lead", lead_id=lead_id)


@require_POST
@login_required
@manage_team
def assign(request: AuthenticatedHttpRequest, lead_id: int) -> HttpResponse:
    lead = selectors.unassigned_mqls_for(user=request.user).filter(pk=lead_id).first()
    if lead is None:
        raise Http404("No such unassigned lead.")
    form = forms.AssignForm(request.POST, action=request.path, members=selectors.assignable_members(user=request.user))
    if not form.is_valid():
        page = selectors.lead_page(user=request.user, lead_id=lead_id)
        assert page is not None  # an unassigned MQL of the manager's teams is on their lead pages
        return render(request, "handoff/lead_detail.html", _lead_context(request, page, assign_form=form), status=400)
    team, membership = form.target()
    try:
        assignment = services.assign_lead(
            lead=lead,
            team=team,
            now=timezone.now(),
            by=request.user,
            reason=form.cleaned_data["reason"],
            rep=membership.user if membership else None,
            only_if_waiting=True,
        )
    except services.HandoffError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{lead} assigned to {_name(assignment.rep)}.")
    return redirect("handoff:lead", lead_id=lead_id)


def _name(user: object) -> str:
    return user.get_full_name() or user.get_username()  # type: ignore[attr-defined]


# --- Managers: the team queue --------------------------------------------------------------------


QUEUE_LABELS = {"breached": "Breached", "due_soon": "Due soon", "unassigned": "Unassigned", "open": "All open"}


@require_GET
@login_required
@manage_team
def team_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    requested = request.GET.get("show", "")
    show = requested if requested in QUEUE_LABELS else "breached"
    after, before = request.GET.get("after"), request.GET.get("before")
    now = timezone.now()
    zone = selectors.viewer_timezone(user=request.user)
    teams = selectors.managed_team_list(user=request.user)
    members = selectors.assignable_members(user=request.user, teams=teams)
    filter_form = forms.QueueFilterForm(request.GET, teams=teams, members=members)
    filters = filter_form.filters()
    if show == "unassigned":
        page = keyset_page(
            selectors.unassigned_mqls_for(user=request.user),
            field="stage_changed_at",
            key_type=datetime,
            after=after,
            before=before,
        )
        bulk_form: forms.AssignForm = forms.BulkAssignForm(action=reverse("handoff:team_assign"), members=members)
        countdowns = selectors.countdowns(clocks=[], now=now)
        rows = []
    else:
        page = selectors.team_queue_page(show=show, now=now, filters=filters, teams=teams, after=after, before=before)
        bulk_form = forms.BulkReassignForm(action=reverse("handoff:team_bulk"), members=members)
        countdowns = selectors.countdowns(clocks=selectors.inbox_clocks(page.items), now=now, known_teams=teams)
        rows = selectors.queue_rows(assignments=page.items, countdowns=countdowns, zone=zone, now=now)
    query = _params_without_cursor(request)
    query["show"] = show
    context = {
        "show": show,
        "views_labels": QUEUE_LABELS.items(),
        "page": page,
        "rows": rows,
        "bulk_form": bulk_form,
        "bulk_actions": forms.TEAM_BULK_ACTIONS,
        "countdowns": countdowns,
        "teams": teams,
        "filter_form": filter_form,
        "filters": filters,
        "query_without_cursor": query.urlencode(),
        "filter_query": urlencode([(key, value) for key, value in query.items() if key != "show" and value]),
        "viewer_zone": zone,
        "pulse_url": reverse("handoff:team_queue_pulse"),
    }
    return render(request, "handoff/team_queue.html", context)


@require_GET
@login_required
@manage_team
def team_queue_pulse(request: AuthenticatedHttpRequest) -> JsonResponse:
    """What the team queue polls (the same page script as the inbox's): breaches and new assignments, or on the
    unassigned tab (``?show=unassigned``) the MQLs waiting for a manager."""
    if request.GET.get("show") == "unassigned":
        waiting = selectors.unassigned_pulse(user=request.user)
        return JsonResponse(
            {"count": waiting.count_label, "breached": 0, "newest": waiting.newest, "version": waiting.version}
        )
    pulse = selectors.team_queue_pulse(user=request.user, now=timezone.now())
    return JsonResponse(
        {"count": pulse.count_label, "breached": pulse.breached, "newest": pulse.turns, "version": pulse.version}
    )


@require_POST
@login_required
@manage_team
def team_bulk(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The queue's bulk bar: reassign, reject or recycle the ticked leads, after a confirmation page."""
    show = request.POST.get("show") if request.POST.get("show") in QUEUE_LABELS else "breached"
    back = f"{reverse('handoff:team_queue')}?show={show}"
    action = request.POST.get("action", "reassign")
    scope = selectors.managed_open_assignments(user=request.user)
    if action == "reassign":
        form = forms.BulkReassignForm(request.POST, members=selectors.assignable_members(user=request.user))
        assignments = _bulk_selection(request, form, scope)
        if assignments is None:
            return redirect(back)
        team, membership = form.target()
        context = {
            "assignments": assignments,
            "back": back,
            "show": show,
            "target": membership.user if membership else f"the next rep in the rotation of {team.name}",
            "form": form,
        }
        return render(request, "handoff/team_reassign_confirm.html", context)
    now = timezone.now()
    today = now.astimezone(selectors.viewer_timezone(user=request.user)).date()
    data = request.POST.copy()
    if "ids" not in data:  # straight from the queue's bulk bar, whose fields share the reassign form's prefix
        data.setlist("ids", request.POST.getlist("bulk-ids"))
        data["reason"] = request.POST.get("bulk-reason", "")
    bulk_form = forms.BulkActionForm(data, today=today, actions=forms.TEAM_BULK_ACTIONS)
    return _bulk(request, bulk_form, scope.select_related("rep"), back=back, as_manager=True, now=now)


@require_POST
@login_required
@manage_team
def team_assign(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = forms.BulkAssignForm(request.POST, members=selectors.assignable_members(user=request.user))
    leads = _bulk_selection(request, form, selectors.unassigned_mqls_for(user=request.user))
    if leads is None:
        return redirect(f"{reverse('handoff:team_queue')}?show=unassigned")
    team, membership = form.target()
    result = services.assign_leads(
        leads=leads,
        team=team,
        now=timezone.now(),
        by=request.user,
        reason=form.cleaned_data["reason"],
        rep=membership.user if membership else None,
    )
    _report_bulk(request, result, verb="assigned")
    return redirect(f"{reverse('handoff:team_queue')}?show=unassigned")


@require_POST
@login_required
@manage_team
def team_reassign(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = forms.BulkReassignForm(request.POST, members=selectors.assignable_members(user=request.user))
    show = request.POST.get("show") if request.POST.get("show") in QUEUE_LABELS else "breached"
    back = f"{reverse('handoff:team_queue')}?show={show}"
    scope = selectors.managed_open_assignments(user=request.user)
    assignments = _bulk_selection(request, form, scope)
    if assignments is None:
        return redirect(back)
    team, membership = form.target()
    result = services.reassign_leads(
        assignments=assignments,
        team=team,
        now=timezone.now(),
        by=request.user,
        reason=form.cleaned_data["reason"],
        rep=membership.user if membership else None,
    )
    _report_bulk(request, result, verb="reassigned")
    return redirect(back)


def _bulk_selection(request: HttpRequest, form: forms.AssignForm, scope: QuerySet) -> list | None:
    """The ticked objects, all within ``scope``; a foreign id is a 404, an invalid form a message (None)."""
    if not form.is_valid():
        for errors in form.errors.values():
            # An ErrorList yields message strings (its stub also allows a ValidationError).
            for error in errors:
                messages.error(request, str(error))
        return None
    ids = form.cleaned_data["ids"]
    objects = list(scope.filter(pk__in=ids))
    if len(objects) != len(ids):
        raise Http404("Some of the ticked leads are not in your teams.")
    return objects


def _report_bulk(request: HttpRequest, result: services.BulkResult, *, verb: str) -> None:
    if result.done:
        messages.success(request, f"{result.done} lead{'s' if result.done != 1 else ''} {verb}.")
    for reason in result.refused:
        messages.error(request, reason)
