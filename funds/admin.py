from django.contrib import admin

from funds import models
from towns.admin_base import AuditedAdmin, ReadOnlyAdmin


@admin.register(models.GoodsItem)
class GoodsItemAdmin(AuditedAdmin):
    list_display = ["name", "unit", "unit_value"]


@admin.register(models.Budget)
class BudgetAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "town", "source", "amount"]
    list_filter = ["campaign", "town", "source"]


@admin.register(models.Disbursement)
class DisbursementAdmin(ReadOnlyAdmin):
    list_display = ["beneficiary", "kind", "amount", "goods_item", "quantity", "handed_at", "status", "town"]
    list_filter = ["status", "kind", "town"]
    list_select_related = ["beneficiary", "goods_item", "town"]


@admin.register(models.AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "actor_name", "action", "object_repr", "channel"]
    list_filter = ["channel", "action"]
    search_fields = ["object_repr", "actor_name"]
