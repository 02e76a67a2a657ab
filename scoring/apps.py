from datetime import datetime
from typing import Any

from django.apps import AppConfig

from core.demo import DemoOptions

_EDITED_BY_MARKETING = ("scoringmodel", "scoringrule")


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Scoring"

    # What each role may do with this app's models; see core.roles. Marketing owns the rules;
    # managers may read them, to see why a lead in their team's queue scored what it did.
    role_permissions = {
        "Marketing": [
            *(
                f"scoring.{action}_{model}"
                for model in _EDITED_BY_MARKETING
                for action in ("add", "change", "delete", "view")
            ),
            "scoring.view_rescorejob",
            "scoring.view_leadmissingmqlfields",
        ],
        "Sales manager": [f"scoring.view_{model}" for model in _EDITED_BY_MARKETING],
    }

    # The decay pass (scoring.services.start_decay_pass): engagement points fade with age, every hour; the
    # rule-effectiveness rollups fold in the recent and the changed days every minute.
    periodic_tasks = {"scoring.tasks.decay_scores": 60, "scoring.tasks.refresh_rule_effectiveness": 1}

    def ready(self) -> None:
        # The lead list and page in admin say why a lead is not an MQL yet; leads imports no higher app,
        # so scoring hands it the words (scoring.explain).
        from leads.admin import LeadAdmin
        from scoring.explain import why_not_mql

        LeadAdmin.explain_hold = staticmethod(why_not_mql)

        # Stage changes and deleted leads mark their day for the rule-effectiveness rollups.
        from django.db.models.signals import post_delete, post_save

        from leads.models import Lead, StageChange
        from scoring import receivers

        post_save.connect(receivers.stage_changed, sender=StageChange, dispatch_uid="scoring.stage_changed")
        post_delete.connect(receivers.lead_deleted, sender=Lead, dispatch_uid="scoring.lead_deleted")

    def load_demo(self, *, users: dict[str, Any], now: datetime, options: DemoOptions) -> str:
        """``manage.py load_demo`` calls this after the apps before it in INSTALLED_APPS; returns a summary."""
        from scoring.demo import load_demo_scoring

        return load_demo_scoring(users=users, now=now)
