from django.contrib.auth.models import AbstractBaseUser

from leads.models import Lead, LeadQuerySet


def inbox_leads(*, user: AbstractBaseUser) -> LeadQuerySet:
    """The leads a rep works: only their own, whatever the stage, newest hand-over first."""
    return Lead.objects.owned_by(user).order_by("-stage_changed_at", "-id")
