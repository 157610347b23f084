"""Background jobs of the visits app. Thin: call the service (the audit channel and scope guard: core/task_base.py)."""

from celery import shared_task

from core.task_base import JobTask
from visits.followup_escalation import escalate_followups


@shared_task(base=JobTask)
def escalate_followups_task() -> dict:
    """Nightly (CELERY_BEAT_SCHEDULE). Idempotent: an item already at its level is no candidate again."""
    result = escalate_followups()
    return {str(level): len(ids) for level, ids in result.moved.items()}
