from django.http import HttpRequest
from django.urls import reverse


def navigation(request: HttpRequest) -> dict[str, list[dict[str, str]]]:
    """The navigation links this user's role may follow, for the base template."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = []
    if user.has_perm("leads.work_inbox"):
        links.append({"label": "My inbox", "url": reverse("handoff:inbox"), "key": "inbox"})
    if user.has_perm("leads.manage_team"):
        links.append({"label": "Team queue", "url": reverse("handoff:team_queue"), "key": "team_queue"})
    if user.has_perm("leads.view_reports"):
        links.append({"label": "Reports", "url": reverse("reports:index"), "key": "reports"})
    if user.is_staff:
        links.append({"label": "Admin", "url": reverse("admin:index"), "key": "admin"})
    return {"nav_links": links}
