"""Walk the audit chain: exit 0 when whole, exit 1 naming the first broken record."""

from django.core.management.base import BaseCommand, CommandError

from funds.audit import verify_chain


class Command(BaseCommand):
    help = "校验审计记录哈希链：完整时返回 0，否则指出第一条断开的记录并返回 1"

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"审计链在记录 #{report.broken_id} 处断开：{report.problem}（此前 {report.checked} 条校验通过）",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"审计链完整：共 {report.checked} 条记录"))
        if report.head:
            # Kept outside the database (e.g. in the inspection file), it also reveals removal of the newest records.
            self.stdout.write(f"最新一条记录的哈希：{report.head}")
