"""The leads API's routes, included under /api/ (namespace "api") by integrations.urls.

Reads and explicit stage actions only: there is no PUT or PATCH of a lead. ``lead_id`` is matched as any
path segment and checked by the views, so a malformed id is the API's JSON 404 rather than Django's HTML one.
"""

from django.urls import path

from handoff.api import views

urlpatterns = [
    path("leads/", views.LeadListView.as_view(), name="leads"),
    path("leads/<str:lead_id>/", views.LeadDetailView.as_view(), name="lead"),
    path("leads/<str:lead_id>/accept/", views.AcceptLeadView.as_view(), name="lead_accept"),
    path("leads/<str:lead_id>/contact/", views.LogContactView.as_view(), name="lead_contact"),
    path("leads/<str:lead_id>/qualify/", views.QualifyLeadView.as_view(), name="lead_qualify"),
    path("leads/<str:lead_id>/reject/", views.RejectLeadView.as_view(), name="lead_reject"),
    path("leads/<str:lead_id>/recycle/", views.RecycleLeadView.as_view(), name="lead_recycle"),
]
