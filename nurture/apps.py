from datetime import datetime
from typing import Any

from django.apps import AppConfig

from core.demo import DemoOptions

_EDITED_BY_MARKETING = ("track", "step")


class NurtureConfig(AppConfig):
    name = "nurture"
    verbose_name = "Nurture"

    # What each role may do with this app's models; see core.roles. Marketing builds tracks and ends
    # enrollments; managers read them (and the report, with leads.view_reports).
    role_permissions = {
        "Marketing": [
            *(
                f"nurture.{action}_{model}"
                for model in _EDITED_BY_MARKETING
                for action in ("add", "change", "delete", "view")
            ),
            "nurture.send_test_email",
            "nurture.view_enrollment",
            "nurture.change_enrollment",
            "nurture.view_send",
        ],
        "Sales manager": ["nurture.view_track", "nurture.view_step", "nurture.view_enrollment", "nurture.view_send"],
    }

    # Every minute: the emails due now (each lead's daytime decides when within the day), and the clicks that
    # waited out the burst window (a person's are scored within a minute or so).
    periodic_tasks = {"nurture.tasks.send_due_steps": 1, "nurture.tasks.count_clicks": 1}

    def load_demo(self, *, users: dict[str, Any], now: datetime, options: DemoOptions) -> str:
        """``manage.py load_demo`` calls this after the apps before it in INSTALLED_APPS; returns a summary."""
        from nurture.demo import load_demo_nurture

        return load_demo_nurture(now=now)

    def timeline_entries(self, lead_id: int) -> list[Any]:
        """The lead page's timeline (handoff asks every app): enrollments, their ends and each email sent."""
        from nurture.selectors import timeline_entries

        return timeline_entries(lead_id)

    def ready(self) -> None:
        from leads import events
        from nurture import receivers, services

        events.register_nurture_tracks(services.live_track_choices)
        events.nurture_requested.connect(receivers.enroll_on_request, dispatch_uid="nurture.enroll")
        events.lead_event.connect(receivers.end_on_lead_event, dispatch_uid="nurture.exit")
