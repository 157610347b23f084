"""python manage.py run_inspection [--campaign ID]: compute the inspection flags now and print counts per rule."""

from django.core.management.base import BaseCommand

from funds.inspection.runner import run_inspection
from funds.models import InspectionFlag


class Command(BaseCommand):
    help = "计算监督预警（重复发放、超标准、亲情牌等九条规则），按规则输出预警数。每晚02:30也会自动运行。"

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, default=None, help="只计算这个专项活动（编号）")

    def handle(self, *args, campaign, **options):
        counts = run_inspection(campaign=campaign)
        labels = dict(InspectionFlag.Rule.choices)
        self.stdout.write("监督预警（本次计算仍成立的）：")
        for rule, n in counts["by_rule"].items():
            self.stdout.write(f"  {labels[rule]:<10}{n:>8,}")
        self.stdout.write(
            f"共 {counts['open']:,} 条；新增 {counts['new']:,}，更新 {counts['updated']:,}，不再触发 {counts['cleared']:,}"
        )
