"""Background jobs of the reports app. Thin: take ids, call the service (the audit channel and scope guard: core/task_base.py)."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core.jobs import heartbeat
from core.task_base import JobTask
from reports.models import ExportJob
from reports.services import BulletinPublished, bulletin_draft


def previous_week_start(today):
    """The Monday of the week before the one today falls in."""
    return today - timedelta(days=today.weekday() + 7)


@shared_task(base=JobTask)
def draft_weekly_bulletin() -> dict:
    """Monday 07:30 (CELERY_BEAT_SCHEDULE): draft the issue for the previous week. Idempotent."""
    week = previous_week_start(timezone.localdate())
    try:
        bulletin = bulletin_draft(week_start=week)
    except BulletinPublished:
        return {"week": week.isoformat(), "published": True}
    # No number yet: an issue is numbered when the editor publishes it.
    return {"week": week.isoformat(), "pk": bulletin.pk, "year": bulletin.year}


@shared_task(base=JobTask, acks_late=True, reject_on_worker_lost=True)
def refresh_dashboard(campaign_id: int) -> dict:
    """Rebuild one campaign's dashboard rollups (by hand or from the shell; writes go through the outbox). Idempotent."""
    from reports.rollups import refresh_campaign

    state = refresh_campaign(campaign_id)
    return {"campaign": campaign_id, "took_ms": state.took_ms}


@shared_task(base=JobTask)
def refresh_dashboards() -> dict:
    """Every five minutes (CELERY_BEAT_SCHEDULE): rebuild the rollups of the running campaigns."""
    from reports.rollups import campaigns_to_refresh, refresh_campaign

    done = {pk: refresh_campaign(pk).took_ms for pk in campaigns_to_refresh()}
    return {"refreshed": done}


# --- spreadsheet exports (issue 7 §3) ----------------------------------------------------------


@shared_task(base=JobTask, acks_late=True, reject_on_worker_lost=True)
def build_export(job_id: int) -> dict:
    """Build one queued export (reports/export_services.py). Idempotent: a finished job is left as it is."""
    from reports.export_services import export_build

    with heartbeat(ExportJob, job_id):
        job = export_build(job_id=job_id)
    return {"job": job_id, "status": job.status if job else None}


@shared_task
def sweep_lost_exports() -> dict:
    """Every few minutes (beat): exports whose heartbeat stopped are marked failed, with a retry button."""
    from reports import export_services

    return {"lost": export_services.sweep_lost_exports()}


@shared_task(base=JobTask)
def sweep_exports() -> dict:
    """Daily (CELERY_BEAT_SCHEDULE): delete exports older than EXPORT_RETENTION_DAYS, files and all."""
    from reports import export_services

    removed = export_services.sweep_exports()
    return {"removed": removed}
