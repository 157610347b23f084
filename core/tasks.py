"""Background jobs of core. Thin."""

from celery import shared_task

from core import outbox


@shared_task(acks_late=True, reject_on_worker_lost=True)
def drain_outbox() -> dict:
    """Queued after each commit that announced work, and every minute by beat (CELERY_BEAT_SCHEDULE).
    Idempotent: a handled event is never handled again."""
    return outbox.drain()


@shared_task
def purge_outbox() -> dict:
    """Nightly: handled events older than a week go."""
    return {"deleted": outbox.purge()}
