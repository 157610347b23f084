"""The transactional outbox (issue 14 §2): a committed write never becomes an error page, and the
work it announced is done later even when the broker was down at commit."""

import pytest
import time_machine
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from core import outbox
from core.middleware import SaveTrackerMiddleware
from core.models import OutboxEvent
from core.scoping import unscoped
from core.views import server_error
from reports.models import RollupRefresh
from tests.cast import at
from tests.visits.test_visit_log import counts, form_data, url_for
from visits.models import Visit

DEAD_BROKER = "redis://127.0.0.1:16399/0"  # nothing listens there (this suite's own port range)


@pytest.fixture
def now():
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


@pytest.fixture
def grid(client, cast):
    client.force_login(cast.yeshan.grid_worker)
    return client


@pytest.fixture
def broker_down(settings):
    """Celery as in production (a real broker, not in-process), its broker unreachable."""
    from celery import current_app

    conf = current_app.conf
    saved = (conf.task_always_eager, conf.broker_write_url)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    conf.task_always_eager = False
    conf.broker_write_url = DEAD_BROKER
    # Connection and producer pools of their own, for the dead broker; the suite's come back after.
    pools = (current_app._pool, current_app.amqp._producer_pool)
    current_app._pool = current_app.amqp._producer_pool = None
    yield
    conf.task_always_eager, conf.broker_write_url = saved
    current_app._pool, current_app.amqp._producer_pool = pools


def test_a_visit_saved_while_the_broker_is_down_is_a_success_and_its_refresh_waits(
    grid, cast, now, broker_down, django_capture_on_commit_callbacks, caplog
):
    """The reported fault: Redis died between the commit and queuing the dashboard refresh, the
    cadre saw "未保存" and entered the visit again. Now the save answers as a save, and the refresh
    waits in the outbox for the worker."""
    before = counts()
    form_url = grid.get(url_for(cast.yeshan.person))["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        response = grid.post(form_url, form_data(cast, idempotency_key=form_url.rsplit("=", 1)[1]))
    assert response.status_code == 302  # to the visit's page, not the error page
    assert "could not queue a drain" in caplog.text and "111" in caplog.text  # the broker refused the connection
    assert counts()["visits"] == before["visits"] + 1
    pending = OutboxEvent.objects.filter(done_at__isnull=True, topic=outbox.CAMPAIGN_CHANGED)
    assert pending.count() >= 1
    campaign_id = int(pending.first().key)
    assert not RollupRefresh.objects.filter(campaign_id=campaign_id).exists()

    # The broker is back (here: the beat drain runs): the refresh happens, once.
    with time_machine.travel(at(2024, 1, 10, 16, 1), tick=False):
        assert outbox.drain() == {"handled": 1, "failed": 0}
    assert RollupRefresh.objects.filter(campaign_id=campaign_id).exists()
    assert not OutboxEvent.objects.filter(done_at__isnull=True).exists()
    assert outbox.drain() == {"handled": 0, "failed": 0}


def test_announcements_follow_the_transaction_and_coalesce(db, now):
    seen = []
    outbox.register("test.thing", lambda key, payloads: seen.append((key, len(payloads))))
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.announce("test.thing", key="1")
        raise RuntimeError("rolled back")
    assert not OutboxEvent.objects.filter(topic="test.thing").exists()
    # Once per transaction: a visit with two grants and a demand changes one campaign once.
    for _ in range(3):
        outbox.announce("test.thing", key="1")
    outbox.announce("test.thing", key="2")
    assert OutboxEvent.objects.filter(topic="test.thing", key="1").count() == 1
    # What a rolled-back savepoint announced is announced again after it.
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.announce("test.thing", key="3")
        raise RuntimeError("savepoint rolled back")
    outbox.announce("test.thing", key="3")
    assert OutboxEvent.objects.filter(topic="test.thing", key="3").count() == 1
    # Events of one key from several transactions are handled once.
    for _ in range(2):
        OutboxEvent.objects.create(topic="test.thing", key="4", available_at=timezone.now())
    assert outbox.drain()["handled"] == 4
    assert sorted(seen) == [("1", 1), ("2", 1), ("3", 1), ("4", 2)]


def test_a_failing_handler_keeps_its_events_and_backs_off(db, now):
    def broken(key, payloads):
        raise ValueError("handler broke")

    outbox.register("test.broken", broken)
    outbox.announce("test.broken", key="9")
    assert outbox.drain() == {"handled": 0, "failed": 1}
    event = OutboxEvent.objects.get(topic="test.broken")
    assert event.done_at is None and event.attempts == 1 and "handler broke" in event.last_error
    assert outbox.drain() == {"handled": 0, "failed": 0}  # not due again yet


def test_queuing_a_job_while_the_broker_is_down_loses_nothing(cast, broker_down, django_capture_on_commit_callbacks):
    """Exports and imports are queued through the outbox too: the request succeeds, the job waits."""
    from reports.export_services import export_request
    from reports.models import ExportJob

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        job = export_request(actor=cast.yeshan.cadre, name="ledger", params={})
    event = OutboxEvent.objects.get(topic=outbox.TASK_TOPIC, done_at__isnull=True)
    assert event.payload == {"task": "reports.tasks.build_export", "kwargs": {"job_id": job.pk}}
    with unscoped():
        assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.QUEUED


# --- the 500 page tells the truth about the write ----------------------------------------------


def _fail(write: bool, inside_rolled_back_transaction: bool = False):
    def view(request):
        if write and inside_rolled_back_transaction:
            with transaction.atomic():
                outbox.announce("test.page", key="x")
                raise RuntimeError("failed before commit")
        if write:
            with transaction.atomic():
                outbox.announce("test.page", key="x")
        raise RuntimeError("failed after the write")

    return view


@pytest.mark.parametrize(
    ("write", "rolled_back", "expected", "not_expected"),
    [
        (True, False, "已经保存", "未保存"),
        (True, True, "未保存", "已经保存"),
        (False, False, "未保存", "已经保存"),
    ],
)
def test_the_error_page_says_saved_only_when_it_was(db, write, rolled_back, expected, not_expected):
    request = RequestFactory().post("/visits/new/")
    with pytest.raises(RuntimeError), django_capture():
        SaveTrackerMiddleware(_fail(write, rolled_back))(request)
    body = server_error(request).content.decode()
    assert expected in body and not_expected not in body


def django_capture():
    # The test's own transaction never commits: run on_commit callbacks as a real commit would.
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_a_failed_page_view_does_not_claim_anything_was_lost(db):
    request = RequestFactory().get("/")
    body = server_error(request).content.decode()
    assert "未保存" not in body and "查看是否已经保存" in body


# --- the visit form asks before logging what looks like the same visit again -----------------


def test_the_same_visit_entered_again_within_the_hour_is_asked_about(grid, cast, now):
    first_url = grid.get(url_for(cast.yeshan.person))["Location"]
    assert grid.post(first_url, form_data(cast, idempotency_key=first_url.rsplit("=", 1)[1])).status_code == 302
    written = counts()

    # A fresh form (after an error page, say): the cadre types the visit again.
    second_url = grid.get(url_for(cast.yeshan.person))["Location"]
    second = form_data(cast, idempotency_key=second_url.rsplit("=", 1)[1])
    asked = grid.post(second_url, second)
    assert asked.status_code == 200
    body = asked.content.decode()
    assert "刚才已登记过一次走访，是否仍要保存？" in body and "仍要保存" in body
    assert counts() == written  # nothing saved yet

    saved = grid.post(second_url, {**second, "confirm_duplicate": "1"})
    assert saved.status_code == 302
    assert counts()["visits"] == written["visits"] + 1


def test_another_persons_visit_or_an_hour_later_is_not_asked_about(grid, cast, now):
    first_url = grid.get(url_for(cast.yeshan.person))["Location"]
    grid.post(first_url, form_data(cast, idempotency_key=first_url.rsplit("=", 1)[1]))
    with time_machine.travel(at(2024, 1, 10, 17, 5), tick=False):
        grid.force_login(cast.yeshan.grid_worker)  # an hour idle: logged out meanwhile
        later_url = grid.get(url_for(cast.yeshan.person))["Location"]
        later = grid.post(later_url, form_data(cast, idempotency_key=later_url.rsplit("=", 1)[1], visited_at="2024-01-10T17:00"))
    assert later.status_code == 302
    with unscoped():
        assert Visit.objects.filter(beneficiary=cast.yeshan.person).count() == 2
