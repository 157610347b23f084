from django.core.management.base import BaseCommand, CommandError

from core import backup


class Command(BaseCommand):
    help = "备份：数据库（一致性快照）、媒体文件、审计链头、密钥指纹（不含密钥）和清单，写入一个新目录"

    def add_arguments(self, parser):
        parser.add_argument("directory", help="a new (or empty) directory for this backup")

    def handle(self, *args, directory, **options):
        try:
            manifest = backup.backup(directory, log=self.stdout.write)
        except backup.BackupError as error:
            raise CommandError(f"备份失败：{error}") from error
        rows = sum(manifest["counts"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"备份完成：{directory}（{len(manifest['counts'])} 张表 {rows:,} 行，媒体文件 {manifest['media_files']} 个）"
            )
        )
