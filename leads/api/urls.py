"""The leads app's API routes, included under /api/ (namespace "api") by integrations.urls."""

from django.urls import path

from leads.api import views

urlpatterns = [
    path("activities/", views.RecordActivitiesView.as_view(), name="activities"),
    path("submissions/", views.SubmitFormView.as_view(), name="submissions"),
]
