"""python manage.py load_demo [--scale tiny|demo|county] [--reset]: the demo county, 天长市."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from demo import facts, load
from funds.inspection import run_inspection
from reports.rollups import campaigns_to_refresh, refresh_campaign


class Command(BaseCommand):
    help = "加载演示数据：天长市16个镇（街道）、重点人群、2024年双节慰问的走访、发放和诉求（可重复运行，已加载则跳过）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=sorted(facts.SCALES),
            default="demo",
            help="demo：约5,000名慰问对象（默认）；county：全市规模，约15万人、100万次走访；tiny：测试用",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="清空数据库后重新加载（仅限SQLite演示库；PostgreSQL上的审计记录和发放记录不可删除）",
        )

    def handle(self, *args, scale, reset, **options):
        if reset:
            if connection.vendor != "sqlite":
                raise CommandError(
                    "--reset 仅用于SQLite演示库：PostgreSQL上的审计记录和发放记录不可删除。请删除数据库后重新 migrate，再运行 load_demo。"
                )
            # flush empties every table, the audit chain included: this database is a throwaway demo.
            call_command("flush", interactive=False, verbosity=0)
            self.stdout.write("已清空演示数据库。")
        elif load.is_loaded():
            self.stdout.write(
                self.style.WARNING(
                    f"演示数据已加载（专项活动“{facts.CAMPAIGN_NAME}”已存在），未做任何修改。"
                    "如需重建：SQLite 用 --reset，PostgreSQL 请删除数据库后重新 migrate。"
                )
            )
            return
        self.stdout.write(f"正在加载天长市演示数据（规模：{scale}）……")
        try:
            summary = load.build(scale, log=lambda line: self.stdout.write("  " + line))
        except load.DatabaseNotEmpty as error:
            raise CommandError(f"{error}。load_demo 只加载到空数据库（已 migrate、尚无业务数据）。") from None
        except load.DemoAlreadyLoaded:
            self.stdout.write(self.style.WARNING("演示数据已加载，未做任何修改。"))
            return
        self.stdout.write(self.style.SUCCESS(f"完成，用时 {summary.seconds:.1f} 秒。"))
        if connection.vendor == "postgresql":
            # Freshly loaded tables have no statistics yet; without them the planner picks nested
            # loops for the inspection rules that ran for over ten minutes at county scale (30 s after).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        # A new user should find the inspection flags already there, as after a night's run.
        flags = run_inspection()
        self.stdout.write(f"监督预警：{flags['open']:,} 条（{'，'.join(f'{k} {v}' for k, v in flags['by_rule'].items() if v)}）")
        # The dashboards' rollups, as the beat job would build them within five minutes.
        for campaign_id in campaigns_to_refresh():
            self.stdout.write(f"看板数据：专项活动 {campaign_id}，用时 {refresh_campaign(campaign_id).took_ms:,} 毫秒")
        width = max(len(label) for label in summary.counts)
        for label, count in summary.counts.items():
            self.stdout.write(f"  {label:<{width}}  {count:>10,}")
        self.stdout.write("")
        self.stdout.write(f"演示账号（密码均为 {facts.PASSWORD}）：")
        self.stdout.write(f"  {'账号':<14}{'角色':<8}{'单位':<8}姓名")
        for login in summary.logins:
            self.stdout.write(f"  {login.username:<16}{login.role:<6}{login.town:<6}{login.name}")
