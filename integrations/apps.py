from django.apps import AppConfig

# Marketers connect other systems: integration keys and webhook endpoints in admin, and the delivery log
# with its re-send action (a change). Managers hold the same permissions, but the admin lets only someone who
# sees every lead issue a key or change an endpoint (a key sees every lead), and shows a manager only the
# deliveries of their teams' leads. Nobody deletes a key (revoke it: the row stays, for the
# record) or an endpoint (switch it off: its delivery log stays); superusers still can.
_CONNECTS_SYSTEMS = [
    *(f"integrations.{action}_apikey" for action in ("add", "change", "view")),
    *(f"integrations.{action}_webhookendpoint" for action in ("add", "change", "view")),
    "integrations.view_webhookdelivery",
    "integrations.change_webhookdelivery",
]

# Retention policies erase leads through the erasure path, so they are for who may erase (Marketing).
_RETENTION = [
    *(f"integrations.{action}_retentionpolicy" for action in ("add", "change", "view")),
    "integrations.view_retentionrun",
]


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    # What each role may do with this app's models; see core.roles. Personal tokens need no permission:
    # anyone signed in makes their own at /api/tokens/, and a token can never do more than its owner.
    role_permissions = {
        # Marketers see every lead, so they may read the whole audit trail (lead fields included).
        "Marketing": [*_CONNECTS_SYSTEMS, *_RETENTION, "auditlog.view_logentry"],
        "Sales manager": _CONNECTS_SYSTEMS,
    }

    # Webhook retries and lost delivery tasks (every minute); old Idempotency-Key responses (hourly).
    periodic_tasks = {
        "integrations.tasks.requeue_due_deliveries": 1,
        "integrations.tasks.prune_idempotency_records": 60,
        "integrations.tasks.apply_retention_policies": 60,
    }

    def ready(self) -> None:
        from core.idempotency import register_runner
        from integrations import (  # noqa: F401  (schema: auth scheme)
            audit,
            audit_admin,
            idempotency,
            privacy_admin,
            proof_admin,
            receivers,
            retention_admin,
            schema,
        )
        from integrations.middleware import connect_audit_receiver
        from leads.events import lead_event

        # The API's POST views (in leads) run through the idempotency store, which leads may not import.
        register_runner(idempotency.run_idempotently)
        lead_event.connect(receivers.record_lead_event, dispatch_uid="integrations.record_lead_event")
        # The Lead admin's export and erase actions call integrations.privacy, which leads may not import.
        privacy_admin.add_lead_actions()
        proof_admin.add_lead_actions()  # the consent proof downloads (integrations.proof)
        # The audit trail of settings and lead fields, and its admin (integrations.audit).
        audit.register_audited_models()
        connect_audit_receiver()  # the request's actor and address on each entry (integrations.middleware)
        audit_admin.install()
