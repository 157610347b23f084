"""Background jobs of the towns app. Thin: take an id, call the service, record a failure."""

import logging

from celery import shared_task

from core.audit import audit_context
from core.jobs import heartbeat
from core.models import AuditRecord
from core.task_base import JobTask
from towns.models import RosterImport
from towns.roster_import import jobs

log = logging.getLogger(__name__)


# Idempotent jobs: acknowledged when done, and given back to the queue if the worker dies under them.
# The services scope by the import's own people under the job's guard (core/task_base.py).
@shared_task(base=JobTask, audit_channel=AuditRecord.Channel.IMPORT, acks_late=True, reject_on_worker_lost=True)
def check_roster_import(import_id: int) -> None:
    """The dry run of an uploaded roster; idempotent (a checked import is left alone)."""
    with heartbeat(RosterImport, import_id):
        try:
            jobs.run_check(import_id)
        except Exception:
            log.exception("roster import %s: check failed", import_id)
            jobs.mark_failed(import_id, "校验时发生意外错误，未写入任何数据。请稍后重新上传；如仍失败，请联系系统管理员")


@shared_task(base=JobTask, audit_channel=AuditRecord.Channel.IMPORT, acks_late=True, reject_on_worker_lost=True)
def run_roster_import(import_id: int) -> None:
    """Write a confirmed import, all or nothing; idempotent (a done import is left alone)."""
    with heartbeat(RosterImport, import_id):
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
