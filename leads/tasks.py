"""django-q2 entry points of the leads app. Tasks are adapters: they pass ids and call one service each."""

from django.utils import timezone

from leads import submissions


def send_submission_confirmation(submission_id: int) -> bool:
    """Enqueued after a double opt-in submission commits; sends its confirmation email once."""
    return submissions.send_confirmation_email(submission_id=submission_id, now=timezone.now())


def send_unsent_confirmations() -> int:
    """Every few minutes: the double opt-in emails whose task was lost."""
    return submissions.send_unsent_confirmations(now=timezone.now())
