from django.contrib import admin

from core.admin_base import AuditedAdmin, ReadOnlyAdmin
from visits import models


class GrantStandardInline(admin.TabularInline):
    model = models.GrantStandard
    extra = 0


@admin.register(models.Campaign)
class CampaignAdmin(AuditedAdmin):
    list_display = ["name", "starts_on", "ends_on"]
    filter_horizontal = ["towns", "target_categories"]
    inlines = [GrantStandardInline]


@admin.register(models.GrantStandard)
class GrantStandardAdmin(AuditedAdmin):
    list_display = ["campaign", "category", "amount"]
    list_filter = ["campaign"]


@admin.register(models.Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ["beneficiary", "kind", "visited_at", "recorded_by", "town"]
    list_filter = ["kind", "town"]
    list_select_related = ["beneficiary", "recorded_by", "town"]


@admin.register(models.Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "held_on", "town", "participants_count", "reached_count"]
    list_filter = ["kind", "town"]


@admin.register(models.FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "status", "deadline", "owner", "town"]
    list_filter = ["kind", "status", "town"]


@admin.register(models.FollowUpEvent)
class FollowUpEventAdmin(ReadOnlyAdmin):
    list_display = ["followup", "from_status", "to_status", "actor", "at"]


@admin.register(models.FollowUpMilestone)
class FollowUpMilestoneAdmin(ReadOnlyAdmin):
    list_display = ["followup", "title", "due_on", "done_on"]


@admin.register(models.FollowUpRule)
class FollowUpRuleAdmin(AuditedAdmin):
    list_display = ["town", "urgency", "importance", "days"]
    list_filter = ["town"]


# 慰问对象名单: written only by the services (proposal, additions, removals, the committee's decision).
@admin.register(models.TargetList)
class TargetListAdmin(ReadOnlyAdmin):
    list_display = ["town", "campaign", "status", "decided_on", "decided_by"]
    list_filter = ["status", "campaign"]
    list_select_related = ["town", "campaign"]


@admin.register(models.TargetListEntry)
class TargetListEntryAdmin(ReadOnlyAdmin):
    list_display = ["beneficiary", "target_list", "source", "listed", "added_reason", "removed_reason"]
    list_filter = ["source", "listed"]
    list_select_related = ["beneficiary", "target_list__town", "target_list__campaign"]
