from django.core.management.base import BaseCommand

from core.permissions import markdown_table


class Command(BaseCommand):
    help = "Print the role × permission table (core/permissions.py) as Markdown, for ARCHITECTURE.md."

    def handle(self, *args, **options):
        self.stdout.write(markdown_table())
