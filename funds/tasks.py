"""Background jobs of the funds app. Thin: take ids, call the service (the audit channel and scope guard: core/task_base.py)."""

from celery import shared_task

from core.audit import audit_context
from core.audit_anchor import write_anchor
from core.models import AuditRecord
from core.task_base import JobTask
from funds import inspection


@shared_task(base=JobTask)
def run_inspection_task(campaign_id: int | None = None, actor_id: int | None = None) -> dict:
    """Nightly (CELERY_BEAT_SCHEDULE) and on demand. Idempotent by construction: flags are upserted by (rule, key)."""
    actor = None
    if actor_id is not None:
        from django.contrib.auth import get_user_model

        actor = get_user_model()._default_manager.filter(pk=actor_id).first()
    return inspection.run_inspection(campaign=campaign_id, actor=actor)


@shared_task
def audit_anchor_task() -> dict:
    """Every AUDIT_ANCHOR_MINUTES (CELERY_BEAT_SCHEDULE): seal the town chains, append the heads outside the database."""
    with audit_context(channel=AuditRecord.Channel.JOB):
        entry, written = write_anchor()
    return {"chains": len(entry["heads"]), "written": written}
