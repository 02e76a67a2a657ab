from datetime import datetime
from typing import Any

from django.apps import AppConfig

from core.demo import DemoOptions


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    # What each role may do with this app's models; see core.roles.
    role_permissions = {
        "Marketing": [
            *(
                f"leads.{action}_{model}"
                for model in ("enrichmentprovider", "companydirectoryentry", "sizeband", "industry")
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
            # Lists staff bring in (badge scans): events, imports (undone, never edited), the suppression list.
            *(f"leads.{action}_importevent" for action in ("add", "change", "view")),
            *(f"leads.{action}_leadimport" for action in ("add", "change", "view")),
            *(f"leads.{action}_suppressedaddress" for action in ("add", "view")),
        ],
        "Sales manager": [
            "leads.view_lead",
            "leads.view_consent",
            "leads.view_activity",
            "leads.view_touch",
            "leads.view_stagechange",
            "leads.view_reports",
        ],
    }

    # Safety net: double opt-in emails whose task was lost (leads.submissions),
    # and an hourly refresh of enrichment older than ENRICHMENT_REFRESH_AGE_DAYS (leads.enrichment.services);
    # imports whose task was lost or whose worker died go on where they stopped (leads.imports).
    periodic_tasks = {
        "leads.tasks.send_unsent_confirmations": 5,
        "leads.tasks.refresh_stale_enrichment": 60,
        "leads.tasks.resume_stalled_imports": 5,
    }

    def load_demo(self, *, users: dict[str, Any], now: datetime, options: DemoOptions) -> str:
        """``manage.py load_demo`` calls this first (core.demo): the demo people, leads, forms and enrichment."""
        from leads import demo
        from leads.enrichment.demo import load_demo_enrichment

        users.update(demo.ensure_demo_users())
        reps = [user for name, user in users.items() if name.startswith("rep")]
        created = demo.load_demo_leads(count=options.demo_leads, reps=reps, now=now)
        forms_created = demo.ensure_demo_forms(now=now)
        enrichment = load_demo_enrichment(users=users, now=now)
        return (
            f"users {', '.join(users)}; {created} new demo leads ({options.demo_leads - created} already there); "
            f"{forms_created} new forms; {enrichment}"
        )

    def load_bulk_demo(self, *, users: dict[str, Any], now: datetime, total: int) -> int:
        """Synthetic leads up to ``total``, for benchmarks (``load_demo --leads N``)."""
        from leads import demo

        reps = [user for name, user in users.items() if name.startswith("rep")]
        return demo.bulk_create_leads(total=total, reps=reps, now=now)

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        # Enrichment keeps its admin beside its code; admin only autodiscovers leads.admin.
        import leads.enrichment.admin  # noqa: F401
        from leads import capture_cache
        from leads.models import CaptureForm, ChannelRule, ConsentText, FormField, Industry, SizeBand

        # What capture keeps per process (leads.capture_cache) is forgotten when admin changes it.
        for model in (CaptureForm, FormField, ConsentText, ChannelRule, SizeBand, Industry):
            for signal in (post_save, post_delete):
                signal.connect(capture_cache.clear, sender=model, dispatch_uid=f"leads.capture_cache.{model.__name__}")
