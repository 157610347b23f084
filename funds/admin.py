from django.contrib import admin

from core.admin_base import AuditedAdmin, ReadOnlyAdmin
from funds import models


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


@admin.register(models.Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "town", "uploaded_by", "uploaded_at"]
    list_filter = ["kind", "town"]


@admin.register(models.GoodsStock)
class GoodsStockAdmin(ReadOnlyAdmin):
    list_display = ["town", "goods_item", "quantity"]
    list_filter = ["town"]


@admin.register(models.StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["town", "goods_item", "kind", "quantity", "recorded_by", "recorded_at"]
    list_filter = ["kind", "town"]


@admin.register(models.ConflictDeclaration)
class ConflictDeclarationAdmin(ReadOnlyAdmin):
    list_display = ["cadre", "town", "declared_at", "nothing_to_declare"]


@admin.register(models.DeclaredRelative)
class DeclaredRelativeAdmin(ReadOnlyAdmin):
    list_display = ["name", "relation", "id_number_masked", "declaration"]
    exclude = ["id_number_encrypted", "id_number_digest"]


@admin.register(models.InspectionFlag)
class InspectionFlagAdmin(ReadOnlyAdmin):
    list_display = ["rule", "summary", "town", "status", "first_raised_at"]
    list_filter = ["rule", "status", "town"]


@admin.register(models.Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["flag", "verdict", "inspector", "created_at"]
    list_filter = ["verdict"]
