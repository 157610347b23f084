from django.core.management.base import BaseCommand, CommandError

from core import backup


class Command(BaseCommand):
    help = "恢复：把备份目录恢复到一个空数据库和空的媒体目录，然后校验审计链并核对各表行数"

    def add_arguments(self, parser):
        parser.add_argument("directory", help="a directory written by `manage.py backup`")
        parser.add_argument(
            "--allow-other-keys",
            action="store_true",
            help="restore although the keys' fingerprints differ (ID numbers unreadable)",
        )

    def handle(self, *args, directory, allow_other_keys, **options):
        try:
            result = backup.restore(directory, allow_other_keys=allow_other_keys, log=self.stdout.write)
        except backup.BackupError as error:
            raise CommandError(f"恢复失败：{error}") from error
        if result["counts_differ"] or result["facts_differ"]:
            for table, pair in sorted(result["counts_differ"].items()):
                self.stderr.write(f"行数不一致 {table}: 备份 {pair['backup']}，恢复后 {pair['restored']}")
            for name, pair in sorted(result["facts_differ"].items()):
                self.stderr.write(f"不一致 {name}: 备份 {pair['backup']}，恢复后 {pair['restored']}")
            raise CommandError("恢复后核对未通过（见上）", returncode=2)
        self.stdout.write(
            self.style.SUCCESS(f"恢复完成：审计链完整，{result['tables']} 张表共 {result['rows']:,} 行与备份清单一致")
        )
