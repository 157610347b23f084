"""Sessions survive Redis (issue 14 §1): a real redis-server of the test's own is stopped under a
logged-in user; they stay logged in, can log in anew, and are still logged in when it returns."""

import time

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from tests.cast import at
from tests.redis_process import redis_fixture

own_redis = redis_fixture(16390)

PASSWORD = "Demo@2024nx"


@pytest.fixture
def redis_cache(own_redis, settings):
    # Production's cache, on the test's own Redis (the setting change resets Django's cache handlers).
    settings.CACHES = {"default": {"BACKEND": "core.cache.FailOpenRedisCache", "LOCATION": own_redis.url}}
    cache.set("probe", 1)
    assert cache.get("probe") == 1
    yield own_redis


def _login(client, user):
    user.set_password(PASSWORD)
    user.save()
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD})


def test_redis_stopped_under_a_logged_in_user(client, cast, redis_cache, django_assert_max_num_queries):
    user = cast.yeshan.cadre
    assert _login(client, user).status_code == 302
    assert client.get(reverse("registry:person_list")).status_code == 200

    redis_cache.stop()
    started = time.monotonic()
    page = client.get(reverse("registry:person_list"))
    assert page.status_code == 200 and "李桂英" in page.content.decode()  # still logged in
    assert cache.get("probe") is None  # the cache misses instead of failing
    assert time.monotonic() - started < 3  # one short timeout, then the cache is skipped

    # Logging out and in again works without Redis.
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("registry:person_list")).status_code == 302
    assert _login(client, user).status_code == 302
    assert client.get(reverse("registry:person_list")).status_code == 200

    redis_cache.start()
    time.sleep(5.1)  # the cache's back-off after a failure
    assert client.get(reverse("registry:person_list")).status_code == 200
    cache.set("probe", 2)
    assert cache.get("probe") == 2  # the cache is used again


def test_the_idle_logout_still_holds(client, cast):
    with time_machine.travel(at(2024, 1, 10, 9), tick=False):
        client.force_login(cast.yeshan.cadre)
        assert client.get(reverse("registry:person_list")).status_code == 200
    with time_machine.travel(at(2024, 1, 10, 9, 29), tick=False):
        assert client.get(reverse("registry:person_list")).status_code == 200  # activity moves the clock
    with time_machine.travel(at(2024, 1, 10, 9, 58), tick=False):
        assert client.get(reverse("registry:person_list")).status_code == 200
    with time_machine.travel(at(2024, 1, 10, 10, 30), tick=False):
        assert client.get(reverse("registry:person_list")).status_code == 302  # 32 idle minutes: out


def test_a_quiet_page_view_does_not_write_the_session(client, cast, django_assert_max_num_queries):
    client.force_login(cast.yeshan.cadre)
    client.get(reverse("registry:person_list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("registry:person_list"))
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]]
