"""Background jobs of the funds app. Thin: call the service inside a job's audit channel and scope guard."""

import contextlib

from celery import shared_task
from django.conf import settings

from funds.audit import audit_context
from funds.inspection.runner import run_inspection
from funds.models import AuditRecord
from towns.scoping import guarded


@shared_task(bind=True)
def run_inspection_task(self, campaign_id: int | None = None, actor_id: int | None = None) -> dict:
    """Nightly (CELERY_BEAT_SCHEDULE) and on demand. Idempotent by construction: flags are upserted by (rule, key)."""
    actor = None
    if actor_id is not None:
        from django.contrib.auth import get_user_model

        actor = get_user_model()._default_manager.filter(pk=actor_id).first()
    request_id = (getattr(self.request, "id", None) or "")[:40]
    guard = guarded() if settings.SCOPE_GUARD else contextlib.nullcontext()
    with audit_context(channel=AuditRecord.Channel.JOB, request_id=request_id), guard:
        return run_inspection(campaign=campaign_id, actor=actor)


@shared_task
def audit_anchor_task() -> dict:
    """Every AUDIT_ANCHOR_MINUTES (CELERY_BEAT_SCHEDULE): seal the town chains, append the heads outside the database."""
    from funds.audit_anchor import write_anchor

    with audit_context(channel=AuditRecord.Channel.JOB):
        entry, written = write_anchor()
    return {"chains": len(entry["heads"]), "written": written}
