"""Per-town audit chains (issue 13 §3): a visit log in 冶山镇 does not wait for one in 铜城镇.

Thread A logs a real visit (with a cash grant) as 铜城镇's grid worker inside a transaction it keeps
open HOLD_S after the view returns, so it holds 铜城镇's chain lock as a slow commit would. While it
holds, thread B logs a real visit: as 冶山镇's grid worker (ours), or as 铜城镇's (the baseline: the
same chain, which must wait). With one county-wide chain (before issue 13) both waited HOLD_S.
Met when B in the other town finishes in under half the hold (it did not queue behind A).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

from django.db import connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bench.core import Benchmark, Outcome, fmt_s, suite
from bench.suites.common import user
from towns.models import Beneficiary, Cadre

HOLD_S = 0.5
HOLDER, OTHER_TOWN, SAME_TOWN = "tc_grid", "ys_grid", "tc_grid"


def _people(username: str, count: int) -> list[int]:
    return list(
        Beneficiary.objects.for_user(user(username))
        .filter(status=Beneficiary.Status.ACTIVE)
        .order_by("last_visited_at", "id")
        .values_list("pk", flat=True)[:count]
    )


def _form(person_id: int, recorder_id: int) -> dict:
    visited = timezone.localtime() - timedelta(minutes=1)
    return {
        "beneficiary": person_id,
        "idempotency_key": str(uuid.uuid4()),
        "kind": "home",
        "visited_at": visited.strftime("%Y-%m-%dT%H:%M"),
        "visitors": [recorder_id],
        "volunteers_count": "0",
        "cash_amount": "200",
        "cash_kind": "cash",
        "notes": "性能测试（make bench）：两镇同时登记走访",
    }


class _Poster:
    """A logged-in client with its people, used from one thread (its own database connection)."""

    def __init__(self, username: str, count: int):
        self.client = Client()
        self.client.force_login(user(username))
        self.recorder = Cadre._base_manager.get(user__username=username).pk
        self.people = iter(_people(username, count))
        self.url = reverse("visit_log:visit_create")

    def post(self):
        response = self.client.post(self.url, _form(next(self.people), self.recorder))
        if response.status_code != 302:
            raise RuntimeError(f"visit POST answered {response.status_code}")


def _once(holder: _Poster, other: _Poster) -> float:
    """B's latency while A holds its town's chain lock; both threads use connections of their own."""
    held = threading.Event()
    failures: list[BaseException] = []

    def hold():
        try:
            with transaction.atomic():
                holder.post()
                held.set()
                time.sleep(HOLD_S)
        except BaseException as error:  # reported by the main thread
            failures.append(error)
            held.set()
        finally:
            connections.close_all()

    latency: list[float] = []

    def second():
        try:
            held.wait()
            start = time.perf_counter()
            other.post()
            latency.append(time.perf_counter() - start)
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hold), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return latency[0]


def run(ctx) -> list[Outcome]:
    n = ctx.repeat + 1
    holder = _Poster(HOLDER, 2 * n + 2)
    other_town = _Poster(OTHER_TOWN, n + 1)
    same_town = _Poster(SAME_TOWN, n + 1)
    # Same-town posters share tc_grid's people list: keep them apart.
    same_town.people = iter(_people(SAME_TOWN, 4 * n + 4)[2 * n + 2 :])
    _once(holder, other_town)  # warm-up
    ours, baseline = [], []
    for round_ in range(ctx.repeat):
        pair = [(ours, other_town), (baseline, same_town)]
        if round_ % 2:
            pair.reverse()
        for times, poster in pair:
            times.append(_once(holder, poster))
    outcome = Outcome(
        f"visit log in 冶山镇 while 铜城镇 holds a write open {fmt_s(HOLD_S)}",
        f"other town not serialised: < {fmt_s(HOLD_S / 2)}; baseline: a second visit log in the same town (waits)",
        ours=ours,
        baseline=baseline,
    )
    outcome.met = outcome.ours_median < HOLD_S / 2 and outcome.baseline_median >= HOLD_S * 0.8
    outcome.note = (
        f"other town {fmt_s(outcome.ours_median)} vs same town {fmt_s(outcome.baseline_median)} "
        f"(hold {fmt_s(HOLD_S)}): {'the towns do not wait for each other' if outcome.met else 'serialised'}"
    )
    return [outcome]


@suite("audit_chains")
def build(ctx):
    return [Benchmark("per-town audit chains", "", run=run)]
