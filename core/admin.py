from django.contrib import admin

from core.admin_base import ReadOnlyAdmin
from core.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "actor_name", "action", "object_repr", "channel"]
    list_filter = ["channel", "action"]
    search_fields = ["object_repr", "actor_name"]
