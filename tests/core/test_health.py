"""/healthz, /readyz and the system admin's status line (issue 14 §4)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Heartbeat


@pytest.fixture
def production_celery(settings):
    # As in production: a worker and beat are expected (not in-process Celery).
    settings.CELERY_TASK_ALWAYS_EAGER = False


def _beat(name, seconds_ago):
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now() - timedelta(seconds=seconds_ago)})


def test_healthz_answers_without_the_database(client):
    response = client.get(reverse("healthz"))  # no db fixture: a query here would fail the test
    assert response.status_code == 200 and response.content == b"ok"


def test_readyz_names_the_worker_and_beat_when_they_have_stopped(client, db, production_celery):
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    body = response.content.decode()
    assert body.startswith("not ready: worker, beat")
    assert "ok database" in body and "ok redis" in body

    _beat("worker", 20)
    _beat("beat", 50)
    assert client.get(reverse("readyz")).status_code == 200

    _beat("worker", 600)  # a worker silent for ten minutes
    response = client.get(reverse("readyz"))
    assert response.status_code == 503 and response.content.decode().startswith("not ready: worker\n")


def test_readyz_names_redis_when_it_is_down(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:16399/0"  # nothing listens there
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.content.decode().startswith("not ready: redis")


def test_the_system_admin_sees_a_status_line(client, cast, production_celery, django_assert_max_num_queries):
    _beat("worker", 10)
    client.force_login(cast.sysadmin)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("funds:audit_list"))
    body = response.content.decode()
    assert 'data-testid="system-status"' in body, body
    body = body[body.index('data-testid="system-status"') :][:600]

    assert "定时任务进程从未运行" in body and "后台任务进程 最近一次1" in body

    client.force_login(cast.yeshan.admin)
    assert 'data-testid="system-status"' not in client.get(reverse("registry:person_list")).content.decode()
