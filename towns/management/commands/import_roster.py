"""Import a town's Excel roster from the shell, with the same checks as the web page.

    python manage.py import_roster 花名册.xlsx --town 341181100000 --user tc_admin \
        [--sheet 工作表] [--accept-suggestions] [--yes]

Without --yes it only checks and prints the preview: the summary line, then one line per problem
("第23行 …") and per name the town has no match for. --accept-suggestions saves the suggested
match of each such name as the town's alias, as a cadre accepting them all on the page would. Timings are printed, so the command also
serves to measure an import at scale.
"""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_context
from core.models import AuditRecord
from core.scoping import unscoped
from towns.models import RosterImport
from towns.roster_import import actions, jobs

LIMIT = 200
KINDS = {"village": "村（社区）", "cell": "网格", "category": "人员类别"}


class Command(BaseCommand):
    help = "导入花名册（.xlsx）：先校验并显示预览，加 --yes 则在无错误时确认导入"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--town", required=True, help="导入到的镇（街道）区划代码，须为该账号所属镇")
        parser.add_argument("--user", required=True, help="以哪个账号导入（镇村干部或镇管理员）")
        parser.add_argument("--sheet", default="", help="读取哪个工作表（默认第一个）")
        parser.add_argument(
            "--accept-suggestions", action="store_true", help="对不上的名称按建议对应（保存为本镇的名称对应，记入审计）"
        )
        parser.add_argument("--yes", action="store_true", help="校验无错误时直接确认导入")

    def handle(self, *args, file, town, user, yes, sheet, accept_suggestions, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件 {path}")
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"没有账号 {user}")
        cadre = getattr(actor, "cadre", None)
        if cadre is None or cadre.town is None or cadre.town.code != town:
            raise CommandError(f"账号 {user} 不属于区划代码为 {town} 的镇（街道）")
        upload = SimpleUploadedFile(path.name, path.read_bytes())

        with audit_context(channel=AuditRecord.Channel.IMPORT):
            started = time.perf_counter()
            try:
                roster_import = actions.roster_upload(actor=actor, upload=upload, enqueue=False)
            except ValidationError as error:
                raise CommandError("；".join(error.messages)) from None
            if roster_import.status == RosterImport.Status.REJECTED:
                raise CommandError(f"文件被拒绝：{roster_import.message}")
            if sheet:
                roster_import.sheet_name = sheet
                RosterImport._base_manager.filter(pk=roster_import.pk).update(sheet_name=sheet)
            roster_import = jobs.run_check(roster_import.pk)
            with unscoped():
                roster_import.refresh_from_db()
            if accept_suggestions and roster_import.status != RosterImport.Status.REJECTED:
                choices = actions.suggested_choices(roster_import)
                if choices:
                    try:
                        actions.roster_map_names(actor=actor, roster_import=roster_import, choices=choices, enqueue=False)
                    except ValidationError as error:
                        raise CommandError("；".join(error.messages)) from None
                    self.stdout.write(f"已按建议对应 {len(choices)} 个名称（已保存为本镇的名称对应）")
                    roster_import = jobs.run_check(roster_import.pk)
            checked = time.perf_counter()
            self._report(roster_import)
            self.stdout.write(f"校验用时 {checked - started:.2f} 秒")
            if roster_import.status != RosterImport.Status.READY or roster_import.unknown_names:
                raise CommandError(f"未导入：{roster_import.message}")
            if not yes:
                self.stdout.write("仅校验，未导入（加 --yes 确认导入）")
                return
            actions.roster_confirm(actor=actor, roster_import=roster_import, enqueue=False)
            roster_import = jobs.run_commit(roster_import.pk)
            done = time.perf_counter()
        self.stdout.write(f"导入用时 {done - checked:.2f} 秒（合计 {done - started:.2f} 秒）")
        if roster_import.status != RosterImport.Status.DONE:
            self._report(roster_import)
            raise CommandError(f"未导入：{roster_import.message}")
        self.stdout.write(self.style.SUCCESS(roster_import.message))

    def _report(self, roster_import):
        with unscoped():
            roster_import.refresh_from_db()
        if roster_import.status == RosterImport.Status.REJECTED:
            self.stdout.write(f"文件被拒绝：{roster_import.message}")
            return
        self.stdout.write(
            f"共 {roster_import.total_rows} 行：新增 {roster_import.to_create} 人，更新 {roster_import.to_update} 人，"
            f"无变化 {roster_import.unchanged} 人，跳过 {len(roster_import.skipped)} 行，问题 {roster_import.error_count} 处"
        )
        for error in roster_import.errors[:LIMIT]:
            row = f"第{error['row']}行" if error.get("row") else "文件"
            value = f"（{error['value']}）" if error.get("value") else ""
            self.stdout.write(f"{row} {error['column']}：{error['message']}{value}")
        if roster_import.error_count > LIMIT:
            self.stdout.write(f"……另有 {roster_import.error_count - LIMIT} 处（全部问题见网页上的错误清单）")
        for entry in roster_import.unknown_names:
            kind = KINDS.get(entry["kind"], "")
            where = f"（{entry['village']}）" if entry.get("village") else ""
            if entry["suggestions"]:
                hint = "建议：" + "、".join(s["label"] for s in entry["suggestions"])
            else:
                hint = "没有相近的名称，请在网页上选择对应项"
            self.stdout.write(f"待对应：{kind}“{entry['name']}”{where} {entry['rows']} 行 → {hint}")
        for skipped in roster_import.skipped:
            self.stdout.write(f"跳过第{skipped['row']}行 {skipped['text']}")
