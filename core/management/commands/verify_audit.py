"""Walk the audit chains: exit 0 when whole, exit 1 naming the first broken record."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_chain
from core.audit_anchor import AnchorFileError, latest_anchor


class Command(BaseCommand):
    help = "校验各审计链（密钥签名、链接、库外锚定的链头）：完整时返回 0，否则指出第一条断开的记录并返回 1"

    def add_arguments(self, parser):
        parser.add_argument("--anchor-file", help="锚定文件路径（默认 AUDIT_ANCHOR_FILE）")

    def handle(self, *args, **options):
        path = options.get("anchor_file") or settings.AUDIT_ANCHOR_FILE
        try:
            anchor = latest_anchor(path)
        except AnchorFileError as error:
            raise CommandError(f"库外锚定文件 {path}：{error}", returncode=1) from error
        report = verify_chain(anchor=anchor)
        if not report.ok:
            raise CommandError(
                f"审计链在记录 #{report.broken_id} 处断开：{report.problem}（此前 {report.checked} 条校验通过）",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"审计链完整：共 {report.checked} 条记录，{len(report.heads)} 条链"))
        if anchor:
            self.stdout.write(f"已与库外锚定的链头核对（{anchor['at']}，{path}）")
        else:
            self.stdout.write(self.style.WARNING(f"没有库外锚定（{path}）：无法发现最新的记录被删除；请运行 audit_anchor"))
        if report.unkeyed:
            self.stdout.write(f"其中 {report.unkeyed} 条无密钥签名：数据库触发器记录的直接修改，或启用密钥之前的记录")
