from django.urls import path

from leads import views

app_name = "leads"

urlpatterns = [
    # Before the form pages: "confirm" and "withdraw" are reserved form slugs.
    path("f/confirm/<str:token>/", views.confirm_consent, name="confirm"),
    path("f/withdraw/<str:token>/", views.withdraw_consent, name="withdraw"),
    path("f/<slug:slug>/", views.form_page, name="form"),
    path("f/<slug:slug>/embed/", views.form_embed, name="form_embed"),
    path("f/<slug:slug>/start/", views.form_start, name="form_start"),
    path("f/<slug:slug>/embed.js", views.form_embed_script, name="form_embed_script"),
    path("f/<slug:slug>/preview/", views.form_preview, name="form_preview"),
    path("a/<str:token>/", views.asset_download, name="asset"),
]
