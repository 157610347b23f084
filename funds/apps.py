from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = "经费与审计"

    def ready(self):
        # A backup records the audit chain's head; a restore must find the same (core/backup.py).
        from core import backup

        backup.register_fact("audit_head", _audit_head)


def _audit_head():
    from funds.models import AuditRecord

    return AuditRecord._base_manager.order_by("-id").values("id", "hash").first()
