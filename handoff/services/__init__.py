"""Writes of the handoff app, split by subdomain; import them from here (``handoff.services.assign_lead``)."""

from handoff.services.actions import (
    BANT,
    accept_assignment,
    log_contact,
    qualify_lead,
    recycle_lead,
    reject_lead,
    return_recycled_leads,
)
from handoff.services.assignment import (
    BulkResult,
    SLATerms,
    assign_lead,
    assign_lead_step,
    assign_leads,
    assign_waiting_leads,
    reassign_lead,
    reassign_leads,
    sla_terms_for,
    team_for_lead,
)
from handoff.services.daily_work import (
    SavedViewNameTakenError,
    add_follow_up,
    bulk_rep_action,
    complete_follow_up,
    delete_view,
    save_view,
    set_viewer_timezone,
)
from handoff.services.errors import (
    ActionNotAllowedError,
    AlreadyAssignedError,
    AssignmentConflictError,
    HandoffError,
    NoEligibleRepError,
    NoUsableConsentError,
)
from handoff.services.notifications import (
    deliver_notification,
    deliver_notifications,
    queue_notification,
    retry_unsent_notifications,
)
from handoff.services.personal_data import erase_lead_personal_data, lead_personal_data
from handoff.services.sla import SweepResult, flag_sla_events

__all__ = [
    "BANT",
    "ActionNotAllowedError",
    "AlreadyAssignedError",
    "AssignmentConflictError",
    "BulkResult",
    "HandoffError",
    "NoEligibleRepError",
    "NoUsableConsentError",
    "SLATerms",
    "SavedViewNameTakenError",
    "SweepResult",
    "accept_assignment",
    "add_follow_up",
    "assign_lead",
    "assign_lead_step",
    "assign_leads",
    "assign_waiting_leads",
    "bulk_rep_action",
    "complete_follow_up",
    "delete_view",
    "deliver_notification",
    "deliver_notifications",
    "erase_lead_personal_data",
    "flag_sla_events",
    "lead_personal_data",
    "log_contact",
    "qualify_lead",
    "queue_notification",
    "reassign_lead",
    "reassign_leads",
    "recycle_lead",
    "reject_lead",
    "retry_unsent_notifications",
    "return_recycled_leads",
    "save_view",
    "set_viewer_timezone",
    "sla_terms_for",
    "team_for_lead",
]
