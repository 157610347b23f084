from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from core.audit import audit_context
from core.models import AuditRecord
from core.scoping import unscoped
from reports import bulletin_docx, bulletin_selectors
from reports.services import BulletinPublished, bulletin_draft


class Command(BaseCommand):
    help = "起草（或重新生成）某一周的组工信息，写出 Word 文件，并打印网页地址和文件位置。--week 取该周周一，如 2024-01-08。"

    def add_arguments(self, parser):
        parser.add_argument("--week", required=True, help="该周周一的日期，YYYY-MM-DD；其他日期取所在周的周一")
        parser.add_argument("--out", help="Word 文件写到这个目录（默认 settings.BULLETIN_OUTPUT_DIR）")

    def handle(self, *args, week, out=None, **options):
        try:
            day = date.fromisoformat(week)
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{week}") from exc
        monday = day - timedelta(days=day.weekday())
        try:
            with audit_context(channel=AuditRecord.Channel.SHELL):
                bulletin = bulletin_draft(week_start=monday)
        except BulletinPublished as exc:
            raise CommandError(str(exc)) from exc
        with unscoped():
            items = bulletin_selectors.printed_items(bulletin)
            number = bulletin_selectors.display_number(bulletin)
        folder = Path(out or settings.BULLETIN_OUTPUT_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        path = (folder / f"bulletin-{monday:%Y-%m-%d}.docx").resolve()
        path.write_bytes(bulletin_docx.build(bulletin, items, number))
        state = "" if bulletin.is_published else "（草稿，期号暂定，发布时确定）"
        self.stdout.write(f"{bulletin.title} {bulletin.year}年第{number}期{state}（{monday:%Y-%m-%d} 起一周，{len(items)} 条）")
        self.stdout.write(self.style.SUCCESS(f"网页：{reverse('reports:bulletin_detail', args=[bulletin.pk])}"))
        self.stdout.write(self.style.SUCCESS(f"编辑：{reverse('reports:bulletin_edit', args=[bulletin.pk])}"))
        self.stdout.write(self.style.SUCCESS(f"Word：{path}"))
