from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core import health
from leads import views as lead_views
from scoring import views as scoring_views

admin.site.site_header = "Leadsite administration"
admin.site.site_title = "Leadsite"

urlpatterns = [
    path("", lead_views.home, name="home"),
    path("healthz/", lead_views.healthz, name="healthz"),
    path("healthz/ready/", health.ready, name="healthz_ready"),
    path("favicon.ico", lead_views.favicon, name="favicon"),
    path("", include("leads.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("inbox/", include("handoff.urls")),
    path("reports/", include("reports.urls")),
    path("", include("nurture.urls")),
    path("api/nurture/", include("nurture.api.urls")),
    path("api/", include("integrations.urls")),
    # Before admin's own URLs, whose catch-all would answer this path with a 404.
    path("admin/status/", admin.site.admin_view(health.status_page), name="admin_status"),
    path(
        "admin/scoring/rule-effectiveness/",
        admin.site.admin_view(scoring_views.rule_effectiveness),
        name="scoring_rule_effectiveness",
    ),
    path("admin/", admin.site.urls),
]
