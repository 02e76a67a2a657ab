"""The reports API's routes, included under /api/ (namespace "api") by integrations.urls."""

from django.urls import path

from reports.api import views

urlpatterns = [
    path("reports/funnel/", views.FunnelReportView.as_view(), name="report_funnel"),
    path("reports/attribution/", views.AttributionReportView.as_view(), name="report_attribution"),
]
