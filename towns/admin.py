from django.contrib import admin

from core.admin_base import AuditedAdmin, ReadOnlyAdmin
from towns import admin_accounts, models


@admin.register(models.Town)
class TownAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "grant_approval_threshold"]
    search_fields = ["name", "code"]


@admin.register(models.Village)
class VillageAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "town"]
    list_filter = ["town", "kind"]
    search_fields = ["name", "code"]


@admin.register(models.GridCell)
class GridCellAdmin(AuditedAdmin):
    list_display = ["code", "name", "level", "parent", "village", "town"]
    list_filter = ["level", "town"]
    search_fields = ["name", "code"]
    raw_id_fields = ["parent", "village"]


@admin.register(models.Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ["name", "code", "visit_interval_days", "sensitive", "sort_order"]


@admin.register(models.PartyBranch)
class PartyBranchAdmin(AuditedAdmin):
    list_display = ["name", "village", "town"]
    list_filter = ["town"]


@admin.register(models.VolunteerTeam)
class VolunteerTeamAdmin(AuditedAdmin):
    list_display = ["name", "members_count", "town"]
    list_filter = ["town"]


@admin.register(models.Cadre)
class CadreAdmin(AuditedAdmin):
    list_display = ["name", "role", "town", "user", "is_active"]
    list_filter = ["role", "town", "is_active"]
    search_fields = ["name", "user__username"]
    raw_id_fields = ["user"]


@admin.register(models.Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ["head_name", "address", "cell", "town"]
    list_filter = ["town"]
    search_fields = ["head_name", "address"]
    list_select_related = ["cell", "town"]


@admin.register(models.Beneficiary)
class BeneficiaryAdmin(ReadOnlyAdmin):
    list_display = ["name", "gender", "birth_date", "id_number_masked", "status", "town"]
    list_filter = ["status", "town", "categories"]
    search_fields = ["name", "name_initials"]
    exclude = ["id_number_encrypted", "id_number_digest"]
    list_select_related = ["town"]


@admin.register(models.BeneficiaryStatusChange)
class BeneficiaryStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["beneficiary", "from_status", "to_status", "effective_on", "reason"]


@admin.register(models.Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["cadre", "cell", "household", "starts_on", "ends_on"]
    list_filter = ["town"]


@admin.register(models.RosterImport)
class RosterImportAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "town", "status", "total_rows", "to_create", "to_update", "created_at"]
    list_filter = ["status", "town"]
    list_select_related = ["town"]
    exclude = ["file"]  # the uploaded roster holds whole ID numbers


@admin.register(models.NameAlias)
class NameAliasAdmin(AuditedAdmin):
    # Set by town cadres on the import preview (towns/name_aliases.py); a wrong one is corrected or deleted here.
    list_display = ["name", "kind", "village", "cell", "category", "in_village", "town", "created_by", "created_at"]
    list_filter = ["kind", "town"]
    search_fields = ["name"]
    raw_id_fields = ["in_village", "village", "cell", "category", "created_by"]
    list_select_related = ["town", "village", "cell", "category", "in_village", "created_by"]


@admin.register(models.PersonAccess)
class PersonAccessAdmin(ReadOnlyAdmin):
    # Written by the request middleware only (towns/access_log.py); read here, never edited.
    list_display = ("at", "user", "kind", "person", "town")
    list_filter = ("kind", "town")
    raw_id_fields = ("user", "person")


# Users, groups and passwords changed here are audited too (towns/admin_accounts.py).
admin_accounts.register()
