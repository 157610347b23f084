"""Throughput under gunicorn (2 sync workers) on 127.0.0.1 with wrk: the registry list page and the
visit POST, each beside a bare view in the same run (issue 8). Reports requests/s, p50/p95/p99 and
errors (non-2xx/3xx and socket errors: must be 0). Sessions come from a real login (password).

gunicorn is started here and always stopped by its PID (finally). BENCH_PORT (default 8014).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from bench.core import Benchmark, Outcome, suite
from bench.suites.visit_post import GRID_USER, RICE, ensure_stock, form_data, people_for
from funds.models import GoodsItem
from towns.models import Cadre

PASSWORD = "Demo@2024nx"  # the demo logins' password (README)
LIST_USER = "tc_admin"
TEMPLATE = Path(__file__).resolve().parent.parent / "wrk" / "template.lua"
WRK = os.environ.get("WRK", "/usr/bin/wrk")


def _cookies(response) -> dict:
    jar = {}
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def login(port: int, username: str) -> dict:
    """A real login through the login form; returns the cookies (sessionid, csrftoken)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", reverse("login"))
    response = conn.getresponse()
    response.read()
    jar = _cookies(response)
    body = urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": jar["csrftoken"]})
    conn.request(
        "POST",
        reverse("login"),
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={jar['csrftoken']}"},
    )
    response = conn.getresponse()
    response.read()
    jar.update(_cookies(response))
    if response.status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"login as {username} failed: {response.status}")
    conn.close()
    return jar


def start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi:application",
        "--workers",
        "2",
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(
        command, env=env, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", reverse("healthz"))
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def stop(process: subprocess.Popen) -> None:
    """Stop gunicorn by its PID (the master stops its workers)."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def script(path: Path, *, method: str, url: str, cookies: dict, form: dict | None = None, people=()) -> Path:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    fields = dict(form or {})
    fields.pop("idempotency_key", None)
    fields.pop("beneficiary", None)
    if method == "POST":
        fields["csrfmiddlewaretoken"] = cookies["csrftoken"]
    text = TEMPLATE.read_text()
    for key, value in {
        "method": method,
        "path": url,
        "cookie": cookie,
        "form": urlencode(fields, doseq=True),
        "people": ", ".join(str(int(p)) for p in people),
    }.items():
        text = text.replace("{" + key + "}", value)
    path.write_text(text)
    return path


def wrk(port: int, lua: Path, seconds: int, connections: int = 4) -> dict:
    command = [
        WRK,
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(lua),
        f"http://127.0.0.1:{port}/",
    ]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    match = re.search(r"^BENCHJSON (.*)$", output, re.M)
    if not match:
        raise RuntimeError(f"wrk printed no summary:\n{output}")
    figures = json.loads(match.group(1))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["errors"] = sum(figures[k] for k in ("status_errors", "connect", "read", "write", "timeout"))
    return figures


def _ms(us: int) -> str:
    return f"{us / 1000:.1f} ms"


def run(ctx) -> list[Outcome]:
    port = int(os.environ.get("BENCH_PORT", "8014"))
    seconds = 5 if ctx.quick else 20
    rice = GoodsItem.objects.get(name=RICE)
    ensure_stock(rice)
    recorder = Cadre._base_manager.get(user__username=GRID_USER).pk
    people = people_for(GRID_USER, 500)
    post_form = form_data(people[0], recorder, rice.pk)
    work = Path(tempfile.mkdtemp(prefix="nuanxin-bench-wrk-"))
    log = work / "gunicorn.log"
    process = start_gunicorn(port, log)
    outcomes = []
    try:
        lister, grid = login(port, LIST_USER), login(port, GRID_USER)
        scenarios = [
            ("bare GET", script(work / "bare_get.lua", method="GET", url=reverse("bench_bare_get"), cookies=lister)),
            (
                "registry list page 1",
                script(work / "list.lua", method="GET", url=reverse("registry:person_list"), cookies=lister),
            ),
            (
                "bare POST (one raw INSERT)",
                script(
                    work / "bare_post.lua",
                    method="POST",
                    url=reverse("bench_bare_visit"),
                    cookies=grid,
                    form=post_form,
                    people=people,
                ),
            ),
            (
                "visit log POST",
                script(
                    work / "visit.lua",
                    method="POST",
                    url=reverse("visits:visit_create"),
                    cookies=grid,
                    form=post_form,
                    people=people,
                ),
            ),
        ]
        results = {}
        for label, lua in scenarios:
            results[label] = figures = wrk(port, lua, seconds)
            outcome = Outcome(
                f"wrk {label}",
                "errors = 0 (non-2xx/3xx and socket errors); throughput reported beside the bare view",
                met=figures["errors"] == 0,
                note=(
                    f"{figures['rps']:.1f} req/s; p50 {_ms(figures['p50_us'])}, p95 {_ms(figures['p95_us'])}, "
                    f"p99 {_ms(figures['p99_us'])}; {figures['requests']:,} requests in {seconds} s, {figures['errors']} errors"
                ),
                extra=figures,
            )
            bare = {"registry list page 1": "bare GET", "visit log POST": "bare POST (one raw INSERT)"}.get(label)
            if bare:
                outcome.note += f"; {figures['rps'] / results[bare]['rps']:.2f}× the bare view's req/s"
            outcomes.append(outcome)
    finally:
        stop(process)
    errors = log.read_text().strip() if log.exists() else ""
    if errors:
        outcomes[-1].note += f"\ngunicorn log ({log}):\n" + "\n".join(errors.splitlines()[-10:])
    return outcomes


@suite("throughput")
def build(ctx):
    return [Benchmark("throughput (gunicorn 2 sync workers, wrk)", "", run=run)]
