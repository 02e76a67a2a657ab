from datetime import datetime
from typing import Any

from django.apps import AppConfig

from core.demo import DemoOptions
from core.navigation import NavLink


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    # Marketers own the channel rules and the spend; managers read them and may correct a lead's
    # first touch (recorded). Viewing the report page itself is leads.view_reports (see leads.apps).
    role_permissions = {
        "Marketing": [
            "leads.view_channelrule",
            "leads.add_channelrule",
            "leads.change_channelrule",
            "leads.delete_channelrule",
            "reports.view_spend",
            "reports.add_spend",
            "reports.change_spend",
            "reports.delete_spend",
            "reports.view_firsttouchcorrection",
        ],
        "Sales manager": [
            "leads.view_channelrule",
            "reports.view_spend",
            "reports.view_firsttouchcorrection",
            "reports.correct_first_touch",
        ],
    }

    nav_links = [NavLink(key="reports", label="Reports", url_name="reports:index", permission="leads.view_reports")]

    # Every minute: fold the recent and the changed days into the report rollups (reports.rollups).
    periodic_tasks = {"reports.tasks.refresh_report_rollups": 1}

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from handoff.models import ContactLog
        from leads import events
        from leads.models import Activity, Lead, StageChange, Submission, Touch
        from reports import receivers

        post_save.connect(receivers.lead_saved, sender=Lead, dispatch_uid="reports.lead_saved")
        post_delete.connect(receivers.lead_saved, sender=Lead, dispatch_uid="reports.lead_deleted")
        for model in (Touch, StageChange, Submission, Activity):
            post_save.connect(receivers.lead_row_saved, sender=model, dispatch_uid=f"reports.{model.__name__}_saved")
        events.lead_event.connect(receivers.lead_assigned, dispatch_uid="reports.lead_assigned")
        events.leads_routed.connect(receivers.leads_written_in_bulk, dispatch_uid="reports.leads_routed")
        events.lead_rows_written.connect(receivers.leads_written_in_bulk, dispatch_uid="reports.lead_rows_written")
        post_save.connect(receivers.contact_logged, sender=ContactLog, dispatch_uid="reports.contact_logged")

    def load_demo(self, *, users: dict[str, Any], now: datetime, options: DemoOptions) -> str:
        """``manage.py load_demo`` calls this after the apps before it in INSTALLED_APPS; returns a summary."""
        from reports.demo import load_demo_reports

        return load_demo_reports(users=users, now=now)
