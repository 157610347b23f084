"""Background jobs of the towns app. Thin: take an id, call the service, record a failure."""

import contextlib
import logging

from celery import shared_task
from django.conf import settings

from core.jobs import heartbeat
from funds.audit import audit_context
from funds.models import AuditRecord
from towns.models import RosterImport
from towns.roster_import import jobs
from towns.scoping import guarded

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _job(task, channel: str):
    # Jobs run outside any request: give their audit records a channel and the job id, and keep
    # the scope guard on as a request would (the services scope by the import's own people).
    request_id = (getattr(task.request, "id", None) or "")[:40]
    with audit_context(channel=channel, request_id=request_id):
        if settings.SCOPE_GUARD:
            with guarded():
                yield
        else:
            yield


# Idempotent jobs: acknowledged when done, and given back to the queue if the worker dies under them.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def check_roster_import(self, import_id: int) -> None:
    """The dry run of an uploaded roster; idempotent (a checked import is left alone)."""
    with _job(self, AuditRecord.Channel.IMPORT), heartbeat(RosterImport, import_id):
        try:
            jobs.run_check(import_id)
        except Exception:
            log.exception("roster import %s: check failed", import_id)
            jobs.mark_failed(import_id, "校验时发生意外错误，未写入任何数据。请稍后重新上传；如仍失败，请联系系统管理员")


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def run_roster_import(self, import_id: int) -> None:
    """Write a confirmed import, all or nothing; idempotent (a done import is left alone)."""
    with _job(self, AuditRecord.Channel.IMPORT), heartbeat(RosterImport, import_id):
        try:
            jobs.run_commit(import_id)
        except Exception:
            log.exception("roster import %s: commit failed", import_id)
            jobs.mark_failed(import_id, "导入时发生意外错误，已全部撤销，未写入任何数据。请重新上传；如仍失败，请联系系统管理员")


@shared_task
def sweep_lost_roster_imports() -> dict:
    """Every few minutes (beat): jobs whose heartbeat stopped are marked failed, with a retry button."""
    return {"lost": jobs.sweep_lost()}


@shared_task
def sweep_roster_imports() -> dict:
    """Nightly housekeeping of uploads (towns.roster_import.jobs.sweep)."""
    with audit_context(channel=AuditRecord.Channel.JOB):
        return jobs.sweep()
