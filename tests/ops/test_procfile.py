"""The production processes, without Docker (issue 14 §6): honcho runs the Procfile — Caddy (TLS,
HSTS) in front of gunicorn, a Celery worker and beat — against the test database and a Redis of
the test's own. A cadre logs in through the proxy and logs a visit; the worker refreshes the
dashboard from the outbox; /readyz sees the worker and beat; everything shuts down cleanly."""

import http.cookiejar
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from core.models import Heartbeat, OutboxEvent
from core.scoping import unscoped
from reports.models import RollupRefresh
from tests.cast import PASSWORD
from tests.redis_process import redis_fixture
from tests.visits.test_visit_log import form_data
from visits.models import Visit

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

own_redis = redis_fixture(16392)
WEB_PORT, HTTPS_PORT, HTTP_PORT, ADMIN_PORT = 18601, 18602, 18603, 18604
SITE = f"https://localhost:{HTTPS_PORT}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _opener():
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE  # Caddy's internal CA: not installed on this machine
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=tls), urllib.request.HTTPCookieProcessor(jar), _NoRedirect
    )


def _open(opener, path, data=None, referer=None):
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    request = urllib.request.Request(SITE + path, data=body, headers={"Referer": referer or SITE + path})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _csrf(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _wait(condition, seconds, what, log):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\n" + log.read_text()[-4000:])


def test_honcho_runs_proxy_gunicorn_worker_and_beat(cast, own_redis, tmp_path):
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ["PATH"],
        "CELERY_EAGER": "0",
        "REDIS_URL": own_redis.url,
        "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"],
        "WEB_PORT": str(WEB_PORT),
        "WEB_WORKERS": "2",
        "WORKER_CONCURRENCY": "1",
        "BEAT_SCHEDULE_FILE": str(tmp_path / "beat-schedule"),
        "NUANXIN_DOMAIN": f"localhost:{HTTPS_PORT}",
        "CADDY_HTTPS_PORT": str(HTTPS_PORT),
        "CADDY_HTTP_PORT": str(HTTP_PORT),
        "CADDY_ADMIN": f"localhost:{ADMIN_PORT}",
        "XDG_DATA_HOME": str(tmp_path / "caddy-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "caddy-config"),
        "BEHIND_TLS_PROXY": "1",
        "SECURE_COOKIES": "1",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": SITE,
        "DASHBOARD_REFRESH_DELAY": "1",
        "WORKER_HEARTBEAT_SECONDS": "2",
    }
    log = tmp_path / "honcho.log"
    with log.open("w") as out:
        honcho = subprocess.Popen(  # noqa: S603
            [str(Path(sys.executable).with_name("honcho")), "start", "-f", "Procfile"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        opener = _opener()
        _wait(lambda: _open(opener, "/healthz")[0] == 200, 90, "the proxy and gunicorn", log)
        status, headers, _ = _open(opener, "/healthz")
        assert "max-age=31536000" in headers.get("Strict-Transport-Security", "")

        # Log in through the proxy, as a cadre would.
        _, _, page = _open(opener, "/accounts/login/")
        user = cast.yeshan.grid_worker
        status, headers, _ = _open(
            opener, "/accounts/login/", {"csrfmiddlewaretoken": _csrf(page), "username": user.username, "password": PASSWORD}
        )
        assert status == 302, headers

        # Log a visit.
        person = cast.yeshan.person
        status, headers, _ = _open(opener, f"/visits/new/?beneficiary={person.pk}")
        assert status == 302
        form_path = headers["Location"]
        _, _, form_page = _open(opener, form_path)
        data = form_data(cast, idempotency_key=form_path.rsplit("=", 1)[1])
        status, headers, body = _open(opener, form_path, {**data, "csrfmiddlewaretoken": _csrf(form_page)})
        assert status == 302, body[:2000]
        with unscoped():
            visit = Visit.objects.get(beneficiary=person)

        # The worker drains the outbox: the dashboard of the visit's campaign is refreshed.
        if visit.campaign_id:
            _wait(lambda: RollupRefresh.objects.filter(campaign_id=visit.campaign_id).exists(), 60, "the refresh", log)
        _wait(lambda: not OutboxEvent.objects.filter(done_at__isnull=True).exists(), 60, "the outbox to drain", log)
        _wait(lambda: Heartbeat.objects.filter(name="beat").exists(), 60, "beat's first run", log)
        _wait(lambda: _open(opener, "/readyz")[0] == 200, 30, "/readyz", log)
        # Read before the shutdown: a task the worker holds when we stop it is lost by design (acks_late
        # hands it back) and Celery prints that with a traceback.
        while_running = log.read_text()
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        try:
            honcho.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(timeout=10)
    text = log.read_text()
    assert "Unrecoverable error" not in text, text[-4000:]
    assert "Traceback" not in while_running, while_running[-4000:]
