"""The API root, included once at /api/ from leadsite.urls; each app's API routes are included here."""

from django.urls import include, path

from integrations import proof_api, views

app_name = "api"

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.docs, name="docs"),
    path("tokens/", views.personal_tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_personal_token, name="revoke_token"),
    path("leads/<str:lead_id>/consent-proof/", proof_api.ConsentProofView.as_view(), name="lead_consent_proof"),
    path("", include("leads.api.urls")),
    path("", include("handoff.api.urls")),
    path("", include("reports.api.urls")),
]
