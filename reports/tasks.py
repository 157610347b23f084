"""Background jobs of the reports app. Thin: call the service inside a job's audit channel and scope guard."""

import contextlib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from funds.audit import audit_context
from funds.models import AuditRecord
from reports.services import BulletinPublished, bulletin_draft
from towns.scoping import guarded


def previous_week_start(today):
    """The Monday of the week before the one today falls in."""
    return today - timedelta(days=today.weekday() + 7)


@shared_task(bind=True)
def draft_weekly_bulletin(self) -> dict:
    """Monday 07:30 (CELERY_BEAT_SCHEDULE): draft the issue for the previous week. Idempotent."""
    request_id = (getattr(self.request, "id", None) or "")[:40]
    guard = guarded() if settings.SCOPE_GUARD else contextlib.nullcontext()
    week = previous_week_start(timezone.localdate())
    with audit_context(channel=AuditRecord.Channel.JOB, request_id=request_id), guard:
        try:
            bulletin = bulletin_draft(week_start=week)
        except BulletinPublished:
            return {"week": week.isoformat(), "published": True}
    # No number yet: an issue is numbered when the editor publishes it.
    return {"week": week.isoformat(), "pk": bulletin.pk, "year": bulletin.year}
