"""The job task base (core/task_base.py): a job's audit records carry the job's channel and task id,
its reads are guarded as a page's are, and it is queued with ids only, once the transaction commits."""

import pytest
from celery import shared_task
from django.db import transaction

from core import audit
from core.models import AuditRecord, OutboxEvent
from core.scoping import ScopeError
from core.task_base import JobTask
from towns.models import Village


@shared_task(base=JobTask, name="tests.core.test_task_base.probe")
def probe(village_id: int | None = None) -> dict:
    context = audit.current_context()
    try:
        Village.objects.filter(pk=village_id).exists()
    except ScopeError:
        guarded = True
    else:
        guarded = False
    return {"channel": context.channel, "request_id": context.request_id, "guarded": guarded}


@shared_task(base=JobTask, audit_channel=AuditRecord.Channel.IMPORT, name="tests.core.test_task_base.import_probe")
def import_probe() -> str:
    return audit.current_context().channel


def test_a_job_writes_in_its_channel_under_its_task_id_with_the_guard_on(db, settings):
    settings.SCOPE_GUARD = True
    assert probe.apply(kwargs={"village_id": 1}, task_id="job-42").get() == {
        "channel": AuditRecord.Channel.JOB,
        "request_id": "job-42",
        "guarded": True,
    }
    assert import_probe.apply().get() == AuditRecord.Channel.IMPORT
    assert audit.current_context().channel == AuditRecord.Channel.SHELL  # the job's context ended with it


def test_a_job_is_queued_with_ids_once_the_transaction_commits(db):
    with pytest.raises(TypeError):
        probe.queue_after_commit(village_id="1")
    with pytest.raises(RuntimeError), transaction.atomic():
        probe.queue_after_commit(village_id=7)
        raise RuntimeError("rolled back")
    assert not OutboxEvent.objects.filter(topic="task").exists()
    probe.queue_after_commit(village_id=7)
    (event,) = OutboxEvent.objects.filter(topic="task")
    assert event.payload == {"task": "tests.core.test_task_base.probe", "kwargs": {"village_id": 7}}
