from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from funds.audit import audit_context
from funds.models import AuditRecord
from reports.services import BulletinPublished, bulletin_draft


class Command(BaseCommand):
    help = "起草（或重新生成）某一周的组工信息，并打印期号和查看地址。--week 取该周周一，如 2024-01-08。"

    def add_arguments(self, parser):
        parser.add_argument("--week", required=True, help="该周周一的日期，YYYY-MM-DD；其他日期取所在周的周一")

    def handle(self, *args, week, **options):
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
        items = bulletin.items.count()
        self.stdout.write(f"{bulletin.title} {bulletin.year}年第{bulletin.number}期（{monday:%Y-%m-%d} 起一周，{items} 条）")
        self.stdout.write(self.style.SUCCESS(f"网页：{reverse('reports:bulletin_detail', args=[bulletin.pk])}"))
