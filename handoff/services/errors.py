"""Why a handoff write was refused; views turn these into a message for the user."""


class HandoffError(Exception):
    """A handoff action could not be done; the message says why, in words a rep can act on."""


class AssignmentConflictError(HandoffError):
    """Someone else changed the assignment first (reassigned it, or handled the lead in another tab)."""


class ActionNotAllowedError(HandoffError):
    """The action does not fit the assignment's state (for example qualifying before any contact)."""


class NoEligibleRepError(HandoffError):
    """The team has no active rep who is in the office today."""


class AlreadyAssignedError(HandoffError):
    """The lead already has an open assignment."""


class NoUsableConsentError(HandoffError):
    """Every consent of the lead is withdrawn or awaits double opt-in: sales may not contact the person."""


class LeadNotWaitingError(HandoffError):
    """Since it was read, the lead stopped waiting for a rep: scoring moved it, or someone took it."""
