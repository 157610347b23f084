"""Export jobs (issue 7 §3): ask for a spreadsheet, build it in a Celery job, hand it over, sweep it away.

Kept apart from reports/services.py (the bulletin) while several people edit that app. Same rules:
keyword-only arguments, writes in a transaction with their audit record, jobs queued on commit.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from core import audit, jobs, outbox
from core.permissions import require
from core.scoping import unscoped
from reports.exporters import EXPORTERS
from reports.models import ExportJob, export_storage
from towns.cadres import cadre_of

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 1.0  # at most one progress write per second: 200k rows must not mean 200 UPDATEs
FAILED_MESSAGE = "生成文件时出错（编号 {pk}），请稍后重试；多次失败请联系系统管理员。"


def retention() -> timedelta:
    return timedelta(days=settings.EXPORT_RETENTION_DAYS)


@transaction.atomic
def export_request(*, actor, name: str, params) -> ExportJob:
    """Queue one export of ``name`` with the list page's filter ``params`` (a QueryDict or dict).

    Checks the role (export.personal) and the filter (the page's own FilterSet, on the actor's
    scope); records who asked for which rows; the file is built by ``build_export`` after commit.
    """

    require(actor, "export.personal")
    if name not in EXPORTERS:
        raise ValidationError({"name": "没有这种导出"})
    exporter = EXPORTERS[name](actor, params)
    problems = exporter.errors()
    if problems:
        raise ValidationError({"__all__": problems})
    cadre = cadre_of(actor)
    job = ExportJob.objects.create(
        requester=actor,
        town_id=cadre.town_id if cadre is not None else None,
        exporter=name,
        params=exporter.filters(),
        description=exporter.describe(),
        expires_at=timezone.now() + retention(),
    )
    audit.record(
        actor=actor,
        action="export.request",
        obj=job,
        town=job.town_id,
        object_repr=f"{exporter.title} #{job.pk}",
        after={"export": name, "title": exporter.title, "filters": job.params},
    )
    outbox.run_task("reports.tasks.build_export", job_id=job.pk)
    return job


def export_build(*, job_id: int) -> ExportJob | None:
    """Write the job's file (the task's body). Idempotent: a finished job is left alone.

    Runs as the requester: every row comes through their for_user() and the page's FilterSet.
    The file is written beside its final name and renamed when complete, so a crash leaves no
    half file behind a 已完成 job. Failure is recorded on the job in Chinese; the task does not retry.
    """
    with unscoped():
        job = ExportJob.objects.select_related("requester").filter(pk=job_id).first()
    if job is None or job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
        return job
    exporter = EXPORTERS[job.exporter](job.requester, job.params)
    rows = ExportJob.objects.for_user(job.requester).filter(pk=job.pk)
    partial = None
    # The export reads inside one transaction (Exporter.write): progress goes through a second
    # connection, in autocommit, so the exports page sees it while the file is being written.
    progress_db = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        total = exporter.estimate()
        rows.update(status=ExportJob.Status.RUNNING, started_at=timezone.now(), rows_total=total, rows_done=0)
        last = [time.monotonic()]

        def progress(done: int) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_SECONDS:
                last[0] = now
                with progress_db.cursor() as cursor:
                    cursor.execute(f"UPDATE {ExportJob._meta.db_table} SET rows_done = %s WHERE id = %s", [done, job.pk])  # noqa: S608 - our table name

        stamp = timezone.localtime()
        name = f"{stamp:%Y/%m}/{job.pk}-{secrets.token_hex(8)}.xlsx"  # unguessable, though never served by path
        final = export_storage.path(name)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        partial = final + ".part"
        count = exporter.write(partial, progress=progress)
        os.replace(partial, final)
        partial = None
        rows.update(
            status=ExportJob.Status.DONE,
            file=name,
            size=os.path.getsize(final),
            row_count=count,
            rows_done=count,
            finished_at=timezone.now(),
            error="",
        )
    except Exception:
        log.exception("export job %s (%s) failed", job.pk, job.exporter)
        if partial and os.path.exists(partial):
            os.remove(partial)
        rows.update(status=ExportJob.Status.FAILED, error=FAILED_MESSAGE.format(pk=job.pk), finished_at=timezone.now())
    finally:
        progress_db.close()
    job.refresh_from_db()
    return job


def export_download(*, actor, job: ExportJob):
    """Open the finished file for its requester and record the personal data leaving (in one transaction)."""
    exporter = EXPORTERS[job.exporter]
    handle = job.file.open("rb")
    with transaction.atomic():
        if exporter.personal:
            audit.record_personal_data_access(
                actor=actor,
                what=exporter.title,
                count=job.row_count or 0,
                town=job.town_id,
                filters={"export": job.exporter, "job": job.pk, **job.params},
            )
    return handle


LOST_MESSAGE = "生成中断（后台处理程序停止），文件未生成。请点击“重试”重新生成"


def sweep_lost_exports(*, now=None) -> int:
    """Every few minutes (beat): a job whose heartbeat stopped (core/jobs.py) is marked failed."""
    with unscoped():
        lost = jobs.stale(
            ExportJob.objects.all(), running=(ExportJob.Status.RUNNING,), queued=(ExportJob.Status.QUEUED,), now=now
        )
        return lost.update(status=ExportJob.Status.FAILED, error=LOST_MESSAGE, finished_at=timezone.now())


def export_retry(*, actor, job: ExportJob) -> ExportJob:
    """重试: the same export asked again (a new job; the failed one stays in the list until it expires)."""
    if job.status != ExportJob.Status.FAILED:
        raise ValidationError({"__all__": ["只有失败的导出可以重试"]})
    return export_request(actor=actor, name=job.exporter, params=job.params)


def sweep_exports(*, now=None) -> int:
    """Delete jobs older than the retention period with their files (beat, daily). Returns how many."""
    now = now or timezone.now()
    removed = 0
    with unscoped():
        expired = list(ExportJob.objects.filter(expires_at__lt=now).values_list("pk", "file"))
        for pk, name in expired:
            if name:
                export_storage.delete(name)
            removed += ExportJob.objects.filter(pk=pk).delete()[0]
    return removed
