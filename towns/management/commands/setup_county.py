"""Set up a county from its own files, from the shell, with the same checks as the web page.

    python manage.py setup_county --templates 模板     # the three empty templates, to fill in
    python manage.py setup_county --map 区划网格.xlsx --categories 人群类别.xlsx --cadres 干部.xlsx \
        [--yes] [--passwords-out 初始密码.xlsx]

Without --yes it only checks: the summary, then one line per problem with its sheet and row.
With --yes and no problem it writes everything in one transaction. New accounts' one-time
passwords go to --passwords-out (one sheet per town), the only copy; without it none are created.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_context
from core.models import AuditRecord
from towns.county_setup import layout, workbooks, writing
from towns.county_setup.plan import analyse


class Command(BaseCommand):
    help = "用本县的表格导入区划网格、人群类别和干部账号：先检查并显示预览，加 --yes 则在无问题时导入"

    def add_arguments(self, parser):
        parser.add_argument("--map", help="区划网格工作簿（镇街道、村社区、网格三张表）")
        parser.add_argument("--categories", help="人群类别工作簿")
        parser.add_argument("--cadres", help="干部账号工作簿")
        parser.add_argument("--yes", action="store_true", help="检查无问题时直接导入")
        parser.add_argument("--passwords-out", help="新账号初始密码写入的 .xlsx 文件（每镇一张表，仅此一份）")
        parser.add_argument("--templates", help="把三个导入模板写到这个文件夹（与网页上下载的相同），然后退出")

    def handle(self, *args, map, categories, cadres, yes, passwords_out, templates, **options):
        if templates:
            self._write_templates(Path(templates))
            return
        if not (map or categories or cadres):
            raise CommandError("请至少给出 --map、--categories、--cadres 之一（或用 --templates 取得模板）")
        handles = {}
        try:
            for key, value in (("map_file", map), ("categories_file", categories), ("cadres_file", cadres)):
                if value:
                    path = Path(value)
                    if not path.is_file():
                        raise CommandError(f"找不到文件 {path}")
                    handles[key] = (path.open("rb"), path.stat().st_size, path.name)
            plan = analyse(**handles)
        finally:
            for handle, _, _ in handles.values():
                handle.close()
        for line in plan.summary():
            self.stdout.write(line)
        for part in plan.parts.values():
            for existing, values in part.renamed:
                self.stdout.write(f"更名：{part.label} {existing.name} → {values['name']}")
            for kept in part.kept:
                self.stdout.write(f"{layout.KEPT}：{part.label} {kept}")
        for problem in plan.problems:
            self.stdout.write(str(problem))
        if plan.problems:
            raise CommandError(f"有{len(plan.problems)}处问题，未导入")
        if not yes:
            self.stdout.write("仅检查，未导入（加 --yes 导入）")
            return
        new_accounts = len(plan.parts["cadres"].new) if "cadres" in plan.parts else 0
        if new_accounts and not passwords_out:
            raise CommandError(f"将新建{new_accounts}个账号：请用 --passwords-out 指定初始密码文件")
        out = Path(passwords_out) if passwords_out else None
        if out and out.exists():
            raise CommandError(f"{out} 已存在，不会覆盖（初始密码只生成一次）")
        # Opened before the import: a password file that cannot be written must not cost the passwords.
        handle = out.open("xb") if out else None
        try:
            with audit_context(channel=AuditRecord.Channel.SHELL):
                passwords = writing.apply(actor=None, plan=plan, channel=AuditRecord.Channel.SHELL)
        except BaseException:
            if handle:
                handle.close()
                out.unlink()
            raise
        if handle:
            out.chmod(0o600)
            handle.write(workbooks.passwords_workbook(passwords))
            handle.close()
        if passwords:
            self.stdout.write(f"{len(passwords)}个新账号的初始密码已写入 {out}（仅此一份，首次登录须修改）")
        self.stdout.write(self.style.SUCCESS("已导入"))

    def _write_templates(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for kind, name in workbooks.TEMPLATE_NAMES.items():
            path = folder / name
            if path.exists():
                raise CommandError(f"{path} 已存在，不会覆盖")
            path.write_bytes(workbooks.template(kind))
            self.stdout.write(f"已写入 {path}")
