"""Who made an audited change, and from where: the request's context for the audit trail (``integrations.audit``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from auditlog import get_logentry_model
from auditlog.cid import set_cid
from auditlog.context import _set_extra_data, auditlog_value
from auditlog.middleware import AuditlogMiddleware
from django.db.models.signals import pre_save
from django.http import HttpRequest, HttpResponse

# Names the one receiver below, and the context a request sets for it.
SIGNAL_DUID = ("integrations.middleware", "request")


class AuditContextMiddleware(AuditlogMiddleware):
    """auditlog's middleware, without connecting a signal receiver for each request.

    auditlog's own middleware connects a ``pre_save`` receiver for log entries when a request starts and
    disconnects it when it ends. Each connect empties Django's cache of which receivers listen to which model,
    so every model signal of every request looked its receivers up again (a tenth of a captured submission's
    signal work). Here the receiver is connected once (``connect_audit_receiver``, at start-up) and a request
    only sets auditlog's context variable, the same actor, address, port and correlation id, and resets it
    when it ends.
    """

    def __call__(self, request: HttpRequest) -> HttpResponse:
        set_cid(request)
        token = auditlog_value.set({**self.get_extra_data(request), "signal_duid": SIGNAL_DUID})
        try:
            response: HttpResponse = self.get_response(request)
        finally:
            auditlog_value.reset(token)
        return response


def connect_audit_receiver() -> None:
    """Give every log entry written during a request its context (``IntegrationsConfig.ready``; idempotent)."""
    receiver: Callable[..., None] = partial(_set_extra_data, signal_duid=SIGNAL_DUID)
    pre_save.connect(receiver, sender=get_logentry_model(), dispatch_uid=SIGNAL_DUID, weak=False)
