from django.contrib import admin

from reports.models import Bulletin, BulletinItem, ExportJob
from towns.admin_base import ReadOnlyAdmin


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "week_start", "issue_date", "topic", "status"]
    list_filter = ["status", "year"]


@admin.register(BulletinItem)
class BulletinItemAdmin(ReadOnlyAdmin):
    list_display = ["bulletin", "order", "town", "headline", "source"]


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    """What was exported, by whom, when: the file itself only through the download view (owner, audited)."""

    list_display = ["__str__", "requester", "town", "status", "row_count", "created_at", "expires_at"]
    list_filter = ["status", "exporter"]
    exclude = ["file"]
