from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """The bottom of the app stack: the audit trail, scoping, roles, service and task plumbing, and
    what runs the system (the outbox, sessions, health, job heartbeats, backup). It imports no domain
    app; domain apps register with it instead (the user's profile, area choices, names on the audit page)."""

    name = "core"
    verbose_name = "系统运行"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import (
            backup,
            db_roles,
            signals,  # noqa: F401 (the worker's and beat's heartbeats)
        )

        # Once per migrate (sender=self), as the owner who ran it: the app role's grants (core/db_roles.py).
        post_migrate.connect(db_roles.on_post_migrate, sender=self, dispatch_uid="nuanxin_app_role_grants")

        # A backup records the audit chain's head; a restore must find the same (core/backup.py).
        backup.register_fact("audit_head", _audit_head)
        backup.register_after_restore(db_roles.grant_app_role)


def _audit_head():
    from core.models import AuditRecord

    return AuditRecord._base_manager.order_by("-id").values("id", "hash").first()
