from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.models import Heartbeat


class Command(BaseCommand):
    help = "容器健康检查：后台进程（worker / beat）最近一次心跳是否在 --max-age 秒内；否则退出码 1"

    def add_arguments(self, parser):
        parser.add_argument("name", choices=["worker", "beat", "outbox"])
        parser.add_argument("--max-age", type=int, default=180)

    def handle(self, *args, name, max_age, **options):
        row = Heartbeat.objects.filter(name=name).first()
        if row is None:
            raise CommandError(f"{name}: no heartbeat yet")
        age = timezone.now() - row.at
        if age > timedelta(seconds=max_age):
            raise CommandError(f"{name}: last heartbeat {int(age.total_seconds())} s ago")
        self.stdout.write(f"{name}: ok ({int(age.total_seconds())} s ago)")
