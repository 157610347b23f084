"""The base of every background job that writes: ``@shared_task(base=JobTask, ...)``.

A job runs outside any request, so the base gives it what the middleware gives a request: an audit
channel (``audit_channel``, the job's by default) with the Celery task id as the records' request
id, and the scope guard when settings.SCOPE_GUARD is on (the services must scope their reads as a
page would). The body stays thin: take ids, call one service.

Queued through ``queue_after_commit(**ids)``: the job is handed to the broker once the surrounding
transaction commits (core/outbox.py: in that transaction, so a broker outage delays the job and a
rollback cancels it). Arguments are ids (or None): a model instance would be stale or unserialisable
by the time the job runs. Code that must not import the tasks module (a service) queues by name
with ``outbox.run_task("app.tasks.name", ...)``, which is the same thing.
"""

from __future__ import annotations

import contextlib

from celery import Task
from django.conf import settings

from core import outbox
from core.audit import audit_context
from core.models import AuditRecord
from core.scoping import guarded


class JobTask(Task):
    audit_channel = AuditRecord.Channel.JOB

    def __call__(self, *args, **kwargs):
        # The worker pushed this call's request before calling: its id names the job's audit records.
        request_id = (getattr(self.request, "id", None) or "")[:40]
        guard = guarded() if settings.SCOPE_GUARD else contextlib.nullcontext()
        with audit_context(channel=self.audit_channel, request_id=request_id), guard:
            return self.run(*args, **kwargs)

    def queue_after_commit(self, **ids) -> None:
        """Queue this job with keyword ``ids`` once the current transaction commits (at once outside one)."""
        for name, value in ids.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"{self.name}: {name} must be an id, not {type(value).__name__}")
        outbox.run_task(self.name, **ids)
