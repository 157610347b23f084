from django.core.management.base import BaseCommand

from core.audit import audit_context
from core.models import AuditRecord
from visits.followup_escalation import escalate_followups


class Command(BaseCommand):
    help = "把逾期未办结的诉求事项升级督办（镇、县）；当天重复运行不会重复升级。"

    def handle(self, *args, **options):
        with audit_context(channel=AuditRecord.Channel.SHELL):
            result = escalate_followups()
        for level, ids in sorted(result.moved.items()):
            self.stdout.write(f"升级至第{level}级：{len(ids)} 件")
        self.stdout.write(self.style.SUCCESS(f"共升级 {result.total} 件"))
