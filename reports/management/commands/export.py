"""``python manage.py export NAME [--town CODE] [--campaign ID] --out FILE [--user USERNAME]``."""

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.permissions import COUNTY_VIEWER, SYSADMIN
from core.scoping import unscoped
from reports.exporters import EXPORTERS, run_export
from towns.models import Cadre, Town


class Command(BaseCommand):
    help = "导出台账（走访台账、发放花名册、信息库、问题清单、网格覆盖）为 .xlsx；导出个人信息留痕。"

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(EXPORTERS))
        parser.add_argument("--town", help="镇（街道）统计代码；不填则全部镇")
        parser.add_argument("--campaign", type=int, help="专项活动编号")
        parser.add_argument("--out", required=True, help="输出文件路径（.xlsx）")
        parser.add_argument("--user", help="以该账号的范围导出；默认第一个县级查看账号或系统管理员")

    def handle(self, *args, name, town, campaign, out, user, **options):
        account = self._user(user)
        params = {}
        if town:
            with unscoped():
                found = Town.objects.filter(code=town).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"没有统计代码为 {town} 的镇（街道）")
            params["town"] = found
        if campaign:
            params["campaign"] = campaign
        started = time.perf_counter()
        count = run_export(name, account, params, out, check_permission=False)
        seconds = time.perf_counter() - started
        self.stdout.write(f"{out}: {count} rows, {seconds:.2f} s (as {account.get_username()})")

    def _user(self, username):
        users = get_user_model().objects
        if username:
            found = users.filter(username=username).first()
            if found is None:
                raise CommandError(f"没有账号 {username}")
            return found
        with unscoped():
            for role in (COUNTY_VIEWER, SYSADMIN):
                cadre = Cadre.objects.filter(role=role, is_active=True, user__is_active=True).order_by("pk").first()
                if cadre is not None:
                    return users.get(pk=cadre.user_id)
        raise CommandError("没有县级账号：请用 --user 指定")
