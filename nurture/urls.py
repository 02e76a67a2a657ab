from django.urls import path

from nurture import views

app_name = "nurture"

urlpatterns = [
    path("n/c/<str:token>/", views.click, name="click"),
    path("n/u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("n/bounces/", views.BounceView.as_view(), name="bounces"),
    path("reports/nurture/", views.report, name="report"),
]
