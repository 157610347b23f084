from django.contrib import admin

from core.admin_base import ReadOnlyAdmin
from reports.models import (
    Bulletin,
    BulletinItem,
    BulletinSequence,
    BulletinSeries,
    BulletinSubmission,
    CadreDay,
    CadreZone,
    CampaignTarget,
    CellCoverage,
    CellDay,
    ExportJob,
    RollupRefresh,
    TownDay,
)


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "week_start", "issue_date", "topic", "status"]
    list_filter = ["status", "year"]


@admin.register(BulletinItem)
class BulletinItemAdmin(ReadOnlyAdmin):
    list_display = ["bulletin", "order", "town", "headline", "source"]


@admin.register(BulletinSubmission)
class BulletinSubmissionAdmin(ReadOnlyAdmin):
    list_display = ["town", "week_start", "headline", "submitted_by", "submitted_at", "withdrawn_at"]
    list_filter = ["week_start"]


@admin.register(BulletinSequence)
class BulletinSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_number"]


# Set by the editor on the bulletin list (audited there); read-only here.
@admin.register(BulletinSeries)
class BulletinSeriesAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "updated_by", "updated_at"]


# Dashboard rollups (reports/rollups.py): derived, rebuilt by the refresh job; read-only here.
@admin.register(RollupRefresh)
class RollupRefreshAdmin(ReadOnlyAdmin):
    list_display = ["campaign_id", "refreshed_at", "took_ms"]


for _model in (CampaignTarget, CellCoverage, CellDay, TownDay, CadreDay, CadreZone):
    admin.site.register(_model, ReadOnlyAdmin)


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    """What was exported, by whom, when: the file itself only through the download view (owner, audited)."""

    list_display = ["__str__", "requester", "town", "status", "row_count", "created_at", "expires_at"]
    list_filter = ["status", "exporter"]
    exclude = ["file"]
