from datetime import datetime
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    # What each role may do with this app's models; see leads.roles.
    role_permissions = {
        "Marketing": [
            *(
                f"leads.{action}_{model}"
                for model in ("enrichmentprovider", "companydirectoryentry", "sizeband", "industry", "routingrule")
                for action in ("add", "change", "delete", "view")
            ),
            "leads.view_providerrun",
            # The forms builder: forms and their fields; consent text versions are added, never changed;
            # submissions are read and released from spam (a change), never added or deleted.
            *(f"leads.{action}_captureform" for action in ("add", "change", "view")),
            *(f"leads.{action}_formfield" for action in ("add", "change", "delete", "view")),
            "leads.add_consenttext",
            "leads.view_consenttext",
            "leads.view_submission",
            "leads.change_submission",
            "leads.view_lead",
            "leads.change_lead",
            "leads.view_consent",
            "leads.view_activity",
            "leads.add_activity",
            "leads.view_touch",
            "leads.view_stagechange",
            "leads.view_reports",
            # Data subject requests: export a person's data, and erase it (GDPR art. 15, 17 and 20).
            "leads.erase_lead",
        ],
        "Sales rep": ["leads.work_inbox"],
        "Sales manager": [
            "leads.view_routingrule",
            "leads.view_lead",
            "leads.view_consent",
            "leads.view_activity",
            "leads.view_touch",
            "leads.view_stagechange",
            "leads.view_reports",
            "leads.manage_team",
            "leads.work_inbox",
        ],
    }

    # Safety net: double opt-in emails whose task was lost (leads.submissions).
    periodic_tasks = {"leads.tasks.send_unsent_confirmations": 5}

    def load_demo(self, *, users: dict[str, Any], now: datetime) -> str:
        """``manage.py load_demo`` calls this after the apps before it in INSTALLED_APPS; returns a summary."""
        from leads.enrichment.demo import load_demo_enrichment

        return load_demo_enrichment(users=users, now=now)

    def ready(self) -> None:
        import leadsite.checks  # noqa: F401  # registers the project's deploy checks
        from leads.roles import sync_role_groups
        from leads.schedules import sync_periodic_tasks

        # Runs after every migrate and test-database flush, once permissions exist (auth's own
        # post_migrate receiver is connected first), so the groups can never drift from the code.
        post_migrate.connect(sync_role_groups, dispatch_uid="leads.sync_role_groups")
        post_migrate.connect(sync_periodic_tasks, dispatch_uid="leads.sync_periodic_tasks")

        # Enrichment and routing keep their admin beside their code; admin only autodiscovers leads.admin.
        import leads.enrichment.admin  # noqa: F401
