"""The broker drops under a worker holding a countdown task (issue 14 §3).

With celery 5.7 / kombu 5.7 the worker logged "Unrecoverable error: AttributeError('NoneType'
object has no attribute 'hostname')" and exited (kombu's Redis channel, closing after the
connection loss, tried to give the held message back through a connection it had already let go).
With celery 5.6.3 / kombu 5.6.2 (requirements.txt) it reconnects. This test runs the project's
worker against a redis-server of its own, stops Redis under it, starts it again and checks the
worker lives on, takes new work, and gives the held task back to the queue when it stops.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from core.models import Heartbeat
from tests.redis_process import redis_fixture

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

own_redis = redis_fixture(16391)


def _wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _send(url, countdown=0):
    from celery import Celery

    app = Celery("probe", broker=url, set_as_current=False)
    with app.connection_for_write() as connection:
        app.send_task("core.tasks.drain_outbox", countdown=countdown, connection=connection)


def _stamp(name):
    row = Heartbeat.objects.filter(name=name).first()
    return row.at if row else None


def test_the_worker_survives_a_broker_outage_while_holding_a_countdown_task(own_redis, tmp_path):
    env = {**os.environ, "CELERY_EAGER": "0", "REDIS_URL": own_redis.url, "WORKER_HEARTBEAT_SECONDS": "1"}
    env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    log = tmp_path / "worker.log"
    celery = str(Path(sys.executable).with_name("celery"))
    with log.open("w") as out:
        worker = subprocess.Popen(  # noqa: S603
            [celery, "-A", "config", "worker", "--concurrency", "1", "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait(lambda: _stamp("worker") is not None, 30, "the worker's first heartbeat")
        _send(own_redis.url, countdown=30)  # held by the worker, unacknowledged, until its time comes
        _wait(lambda: "received" in log.read_text(), 10, "the countdown task to reach the worker")

        own_redis.stop()
        time.sleep(3)
        assert worker.poll() is None, log.read_text()[-3000:]
        own_redis.start()

        # The worker reconnects and takes new work.
        _wait(lambda: log.read_text().count("Connected to redis") >= 2, 30, "the worker to reconnect")
        before = _stamp("outbox")
        _send(own_redis.url)
        _wait(lambda: _stamp("outbox") != before, 20, "a task sent after the outage to run")
        assert worker.poll() is None
        assert "Unrecoverable error" not in log.read_text()
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)  # warm shutdown: held messages go back to the queue
            worker.wait(timeout=30)
    text = log.read_text()
    assert "Unrecoverable error" not in text, text[-3000:]
    # The countdown task was not lost: it is back in the queue (or was run) — never dropped.
    client = redis.Redis.from_url(own_redis.url)
    queued = client.llen("celery") + client.hlen("unacked")
    assert queued >= 1 or text.count("core.tasks.drain_outbox") >= 3, text[-3000:]
