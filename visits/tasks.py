"""Background jobs of the visits app. Thin: call the service inside a job's audit channel and scope guard."""

import contextlib

from celery import shared_task
from django.conf import settings

from core.audit import audit_context
from core.models import AuditRecord
from core.scoping import guarded
from visits.followup_escalation import escalate_followups


@shared_task(bind=True)
def escalate_followups_task(self) -> dict:
    """Nightly (CELERY_BEAT_SCHEDULE). Idempotent: an item already at its level is no candidate again."""
    request_id = (getattr(self.request, "id", None) or "")[:40]
    guard = guarded() if settings.SCOPE_GUARD else contextlib.nullcontext()
    with audit_context(channel=AuditRecord.Channel.JOB, request_id=request_id), guard:
        result = escalate_followups()
    return {str(level): len(ids) for level, ids in result.moved.items()}
