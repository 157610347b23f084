"""First start of a new deployment: the first system administrator, with the 系统管理员 role."""

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core import audit, permissions
from core.models import AuditRecord
from towns.models import Cadre


class Command(BaseCommand):
    help = "首次部署：创建第一个系统管理员账号（角色：系统管理员，可进入后台）。密码从 NUANXIN_ADMIN_PASSWORD 读取，或交互输入"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="系统管理员", help="姓名")

    def handle(self, *args, username, name, **options):
        if Cadre.objects.filter(role=permissions.SYSADMIN).exists():
            raise CommandError("已有系统管理员：请用其账号登录后在后台添加账号")
        password = os.environ.get("NUANXIN_ADMIN_PASSWORD") or self._ask()
        User = get_user_model()
        user = User(username=username)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("密码不符合要求：" + "；".join(error.messages)) from error
        with transaction.atomic():
            if User.objects.filter(username=username).exists():
                raise CommandError(f"账号 {username} 已存在")
            user = User.objects.create_user(username=username, password=password, is_staff=True, is_superuser=True)
            cadre = Cadre.objects.create(user=user, name=name, role=permissions.SYSADMIN, town=None)
            audit.record(
                actor=user,
                action="account.setup_admin",
                obj=cadre,
                after={"username": username, "role": permissions.SYSADMIN},
                channel=AuditRecord.Channel.SHELL,
            )
        self.stdout.write(self.style.SUCCESS(f"已创建系统管理员 {username}（{name}）"))

    def _ask(self) -> str:
        first = getpass.getpass("密码：")
        if first != getpass.getpass("再输入一次："):
            raise CommandError("两次输入的密码不一致")
        return first
