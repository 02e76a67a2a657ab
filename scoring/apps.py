from django.apps import AppConfig
from django.db.backends.signals import connection_created

_EDITED_BY_MARKETING = ("scoringmodel", "scoringrule")


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Scoring"

    # What each role may do with this app's models; see leads.roles. Marketing owns the rules;
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

    # The decay pass (scoring.services.start_decay_pass): engagement points fade with age, every hour.
    periodic_tasks = {"scoring.tasks.decay_scores": 60}
    demo_loader = "scoring.demo.load_demo_scoring"

    def ready(self) -> None:
        from scoring.sqlfuncs import register_sqlite_functions

        # Bulk rescoring compares text the way the pure rules do; on SQLite that takes Python functions.
        connection_created.connect(register_sqlite_functions, dispatch_uid="scoring.register_sqlite_functions")
