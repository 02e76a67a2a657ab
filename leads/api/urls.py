"""The leads app's API routes, included under /api/ (namespace "api") by integrations.urls."""

from django.urls import path

from leads.api import views

urlpatterns = [
    path("activities/", views.RecordActivitiesView.as_view(), name="activities"),
    path("submissions/", views.SubmitFormView.as_view(), name="submissions"),
    # Any path segment as the id, so a malformed one is the API's JSON 404 (as handoff.api.urls does).
    path("leads/<str:lead_id>/withdraw-consent/", views.WithdrawConsentView.as_view(), name="lead_withdraw_consent"),
]
