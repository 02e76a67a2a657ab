from datetime import datetime
from typing import Any

from django.apps import AppConfig

from core.demo import DemoOptions
from core.navigation import NavLink

# Managers run their teams and SLA policies in admin; the calendar rows are edited inline on a team.
_MANAGED_IN_ADMIN = ("team", "teamhours", "closeddate", "membership", "slapolicy", "reppool")


class HandoffConfig(AppConfig):
    name = "handoff"
    verbose_name = "Sales handoff"

    # What each role may do with this app's models; see core.roles. Reps work only in the inbox, which
    # checks handoff.work_inbox and scopes every lead by assignment; managers also run their teams'
    # queues (handoff.manage_team). Both are declared on Assignment, where the inbox's rows live.
    role_permissions = {
        "Sales rep": ["handoff.work_inbox"],
        # Marketers route leads: the routing rules are theirs (checked by handoff's admin, where they live).
        "Marketing": [
            "handoff.view_team",
            "handoff.view_slapolicy",
            "handoff.view_reppool",
            *(f"handoff.{action}_routingrule" for action in ("add", "change", "delete", "view")),
        ],
        "Sales manager": [
            *(f"handoff.{action}_{model}" for model in _MANAGED_IN_ADMIN for action in ("add", "change", "view")),
            *(f"handoff.delete_{model}" for model in ("teamhours", "closeddate", "membership", "reppool")),
            "handoff.view_routingrule",
            "handoff.view_assignment",
            "handoff.view_slarecord",
            "handoff.view_notification",
            "handoff.work_inbox",
            "handoff.manage_team",
        ],
    }

    # The pages reps and managers work in, in the navigation bar (core.navigation).
    nav_links = [
        NavLink(key="inbox", label="My inbox", url_name="handoff:inbox", permission="handoff.work_inbox"),
        NavLink(key="team_queue", label="Team queue", url_name="handoff:team_queue", permission="handoff.manage_team"),
    ]

    # Interval in minutes. Every minute: the pipeline (it also runs on every capture's wake-up; this run
    # takes what a lost wake-up left), the SLA sweep (reminders and breaches), and the safety net that
    # assigns MQLs made by bulk rescoring. Every 5: recycled leads whose date has come (a day-long
    # date needs no finer grain).
    periodic_tasks = {
        "handoff.tasks.run_pipeline": 1,
        "handoff.tasks.check_sla": 1,
        "handoff.tasks.assign_waiting_leads": 1,
        "handoff.tasks.return_recycled_leads": 5,
    }

    def load_demo(self, *, users: dict[str, Any], now: datetime, options: DemoOptions) -> str:
        """``manage.py load_demo`` calls this after the apps before it in INSTALLED_APPS; returns a summary."""
        from handoff.demo import load_demo_handoff

        return load_demo_handoff(users=users, now=now)

    def ready(self) -> None:
        from core import health
        from handoff import pipeline, receivers
        from leads import events

        # Readiness reads the backlog from the leads, not from the broker.
        health.register_backlog(pipeline.backlog)
        # Capture records the work on the lead; this only wakes a worker to do it.
        events.pipeline_work_due.connect(receivers.wake_pipeline, dispatch_uid="handoff.wake_pipeline")
        # Saving a lead in admin runs its pipeline at once, so the page shows the new score, stage and owner.
        from leads.admin import LeadAdmin

        LeadAdmin.process_now = staticmethod(pipeline.process_lead)
