from django.contrib import admin

from reports.models import Bulletin, BulletinItem
from towns.admin_base import ReadOnlyAdmin


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "week_start", "issue_date", "topic", "status"]
    list_filter = ["status", "year"]


@admin.register(BulletinItem)
class BulletinItemAdmin(ReadOnlyAdmin):
    list_display = ["bulletin", "order", "town", "headline", "source"]
