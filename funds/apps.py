from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = "经费与审计"

    def ready(self):
        from funds import db_roles

        # Once per migrate (sender=self), as the owner who ran it: the app role's grants (funds/db_roles.py).
        post_migrate.connect(db_roles.on_post_migrate, sender=self, dispatch_uid="nuanxin_app_role_grants")

        # A backup records the audit chain's head; a restore must find the same (core/backup.py).
        from core import backup

        backup.register_fact("audit_head", _audit_head)
        backup.register_after_restore(db_roles.grant_app_role)


def _audit_head():
    from funds.models import AuditRecord

    return AuditRecord._base_manager.order_by("-id").values("id", "hash").first()
