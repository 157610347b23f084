"""Jobs finish or fail visibly within minutes (issue 14 §3): heartbeats, the lost-job sweeps,
the retry buttons, and the worker settings that give a killed job back to the queue."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.scoping import unscoped
from reports import tasks as report_tasks
from reports.export_services import sweep_lost_exports
from reports.models import ExportJob
from towns import tasks as town_tasks
from towns.models import RosterImport
from towns.roster_import import jobs as roster_jobs

_KEEP_BEATING = """
import sys, time, django
django.setup()
from core.jobs import heartbeat
from towns.models import RosterImport
with heartbeat(RosterImport, int(sys.argv[1]), every=0.2):
    print("running", flush=True)
    time.sleep(600)
"""


def _import(cast, status, **fields):
    with unscoped():
        item = RosterImport.objects.create(
            town=cast.yeshan.town, uploaded_by=cast.yeshan.cadre.cadre, original_name="花名册.xlsx", status=status, **fields
        )
        item.file.save("roster.xlsx", ContentFile(b"PK"), save=True)
    return item


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_s_import_is_failed_within_minutes_with_a_retry_button(cast, client, settings):
    """The job's process is killed (SIGKILL, as the OOM killer or a lost container would): its
    heartbeat stops, and the two-minute sweep fails it with a Chinese message and 重试."""
    item = _import(cast, RosterImport.Status.IMPORTING)
    env = {**os.environ, "CELERY_EAGER": "0", "PYTHONPATH": os.getcwd()}
    env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    job = subprocess.Popen([sys.executable, "-c", _KEEP_BEATING, str(item.pk)], env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert job.stdout.readline().strip() == "running"
        time.sleep(0.6)
        item.refresh_from_db()
        first = item.heartbeat_at
        assert first is not None and timezone.now() - first < timedelta(seconds=2)
        assert roster_jobs.sweep_lost() == 0  # beating: left alone
        os.kill(job.pid, signal.SIGKILL)
    finally:
        job.wait(timeout=10)
    time.sleep(0.5)
    item.refresh_from_db()
    last = item.heartbeat_at
    # Three minutes without a heartbeat (JOB_STALE_MINUTES) and the next sweep (every two minutes) fails it.
    assert roster_jobs.sweep_lost(now=last + timedelta(minutes=2)) == 0
    assert roster_jobs.sweep_lost(now=last + timedelta(minutes=settings.JOB_STALE_MINUTES, seconds=1)) == 1
    item.refresh_from_db()
    assert item.status == RosterImport.Status.FAILED
    assert item.message.startswith("导入中断") and "未写入任何数据" in item.message and item.can_retry

    client.force_login(cast.yeshan.cadre)
    page = client.get(reverse("towns:import_detail", args=[item.pk])).content.decode()
    assert "导入中断" in page and "重试" in page


def test_retry_checks_the_kept_file_again(cast, client, django_capture_on_commit_callbacks):
    item = _import(cast, RosterImport.Status.FAILED, message="校验中断（后台处理程序停止），未写入任何数据。请点击“重试”")
    client.force_login(cast.yeshan.cadre)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("towns:import_retry", args=[item.pk]))
    assert response.status_code == 302
    item.refresh_from_db()
    # The job ran again (in-process here) on the kept file: a two-byte "roster" is refused with its reason.
    assert item.status == RosterImport.Status.REJECTED and item.message


def test_an_import_with_row_errors_has_no_retry(cast):
    item = _import(cast, RosterImport.Status.FAILED, errors=[{"row": 3, "column": "姓名", "value": "", "message": "必填"}])
    assert not item.can_retry


def test_a_lost_export_is_failed_and_can_be_asked_again(cast, client, django_capture_on_commit_callbacks):
    with unscoped():
        job = ExportJob.objects.create(
            requester=cast.yeshan.cadre,
            town=cast.yeshan.town,
            exporter="ledger",
            status=ExportJob.Status.RUNNING,
            heartbeat_at=timezone.now() - timedelta(minutes=4),
            expires_at=timezone.now() + timedelta(days=7),
        )
        queued = ExportJob.objects.create(
            requester=cast.yeshan.cadre, exporter="ledger", expires_at=timezone.now() + timedelta(days=7)
        )
    assert sweep_lost_exports() == 1
    job.refresh_from_db()
    queued.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "生成中断" in job.error
    assert queued.status == ExportJob.Status.QUEUED  # only just asked for: a busy worker is not a lost one

    client.force_login(cast.yeshan.cadre)
    assert "重试" in client.get(reverse("reports:exports")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("reports:export_retry", args=[job.pk])).status_code == 302
    with unscoped():
        newest = ExportJob.objects.filter(requester=cast.yeshan.cadre).order_by("-id").first()
    assert newest.pk not in (job.pk, queued.pk) and newest.status == ExportJob.Status.DONE


def test_idempotent_jobs_go_back_to_the_queue_if_the_worker_dies(settings):
    for task in (
        town_tasks.check_roster_import,
        town_tasks.run_roster_import,
        report_tasks.build_export,
        report_tasks.refresh_dashboard,
    ):
        assert task.acks_late and task.reject_on_worker_lost, task.name
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["visibility_timeout"] >= 600  # longer than the longest job, so never redelivered while it runs
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["sweep-lost-imports"]["task"] == "towns.tasks.sweep_lost_roster_imports"
    assert schedule["sweep-lost-exports"]["task"] == "reports.tasks.sweep_lost_exports"
    # Stale after JOB_STALE_MINUTES, swept every two minutes: failed within five.
    assert settings.JOB_STALE_MINUTES + 2 <= 5
