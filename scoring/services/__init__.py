"""Writes of the scoring app, one module per subdomain; the public functions are importable from here.

The pipeline step is ``scoring.services.score_lead(*, lead_id, now)``.
"""

from scoring.services.editing import delete_scoring_rule, save_scoring_model, save_scoring_rule
from scoring.services.lead_scoring import RescoreResult, breakdown_json, score_lead
from scoring.services.rescoring import (
    request_rescore,
    rescore_all,
    revive_stalled_jobs,
    run_rescore_job,
    start_decay_pass,
)
from scoring.services.whatif import WhatIf, preview_model_change, preview_rule_change, preview_scoring

__all__ = [
    "RescoreResult",
    "WhatIf",
    "breakdown_json",
    "delete_scoring_rule",
    "preview_model_change",
    "preview_rule_change",
    "preview_scoring",
    "request_rescore",
    "rescore_all",
    "revive_stalled_jobs",
    "run_rescore_job",
    "save_scoring_model",
    "save_scoring_rule",
    "score_lead",
    "start_decay_pass",
]
