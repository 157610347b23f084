"""Seal the town chains and append their heads to the anchor file (beat runs it every few minutes)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from core.audit import audit_context
from core.audit_anchor import write_anchor
from core.models import AuditRecord


class Command(BaseCommand):
    help = "把各审计链的链头写入库外的只追加锚定文件（AUDIT_ANCHOR_FILE），并在全市链上封存各镇链头"

    def add_arguments(self, parser):
        parser.add_argument("--file", help="锚定文件路径（默认 AUDIT_ANCHOR_FILE）")

    def handle(self, *args, **options):
        path = options.get("file") or settings.AUDIT_ANCHOR_FILE
        with audit_context(channel=AuditRecord.Channel.SHELL):
            entry, written = write_anchor(path)
        what = "已写入" if written else "链头未变，未重复写入"
        self.stdout.write(f"{what}：{path}（{len(entry['heads'])} 条链，{entry['at']}）")
