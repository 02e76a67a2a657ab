from django.urls import path

from nurture.api import views

app_name = "nurture_api"

urlpatterns = [
    path("tracks/", views.TrackListView.as_view(), name="tracks"),
    path("leads/<str:lead_id>/", views.LeadNurtureView.as_view(), name="lead"),
]
