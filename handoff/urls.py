from django.urls import path

from handoff import views

app_name = "handoff"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("pulse/", views.inbox_pulse, name="inbox_pulse"),
    path("bulk/", views.inbox_bulk, name="inbox_bulk"),
    path("views/", views.save_view, name="save_view"),
    path("views/<int:view_id>/delete/", views.delete_view, name="delete_view"),
    path("follow-ups/<int:follow_up_id>/done/", views.complete_follow_up, name="complete_follow_up"),
    path("settings/timezone/", views.set_timezone, name="set_timezone"),
    path("lead/<int:lead_id>/", views.lead_detail, name="lead"),
    path("lead/<int:lead_id>/accept/", views.accept, name="accept"),
    path("lead/<int:lead_id>/contact/", views.log_contact, name="contact"),
    path("lead/<int:lead_id>/qualify/", views.qualify, name="qualify"),
    path("lead/<int:lead_id>/reject/", views.reject, name="reject"),
    path("lead/<int:lead_id>/recycle/", views.recycle, name="recycle"),
    path("lead/<int:lead_id>/reassign/", views.reassign, name="reassign"),
    path("lead/<int:lead_id>/assign/", views.assign, name="assign"),
    path("lead/<int:lead_id>/follow-ups/", views.add_follow_up, name="add_follow_up"),
    path("lead/<int:lead_id>/changes/<int:change_id>/accept/", views.accept_change, name="accept_change"),
    path("lead/<int:lead_id>/changes/<int:change_id>/dismiss/", views.dismiss_change, name="dismiss_change"),
    path("team/", views.team_queue, name="team_queue"),
    path("team/pulse/", views.team_queue_pulse, name="team_queue_pulse"),
    path("team/assign/", views.team_assign, name="team_assign"),
    path("team/reassign/", views.team_reassign, name="team_reassign"),
    path("team/bulk/", views.team_bulk, name="team_bulk"),
]
