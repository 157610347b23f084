"""The whole dashboard request in-process (Django test client, production settings): the county page
as the demo `county` user, 铜城镇's town page as `tc_admin` (the biggest town: ~85 big cells, ~170
cadres), its biggest big cell and the small cell with the most people not yet visited. ENGINEERING.md:
≤ 50 ms. The bare logged-in view of the same client runs beside it (the floor: session, auth,
middleware), and each page's query count is recorded (tests pin them: tests/reports/test_dashboard.py).
"""

from __future__ import annotations

from django.db import connection
from django.urls import reverse

from bench.core import Benchmark, Outcome, fmt_s, suite
from bench.suites.common import captured, client_for, get_ok
from core.scoping import unscoped
from towns.models import Town
from visits.models import Campaign

BUDGET_S = 0.050
CHEAP_REPEAT = 15
BIG_TOWN = "铜城镇"


def _cells(town, campaign) -> tuple[int, int]:
    """The big cell with the most targeted people, and the small cell with the most not yet reached."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT big_cell_id FROM reports_cellcoverage WHERE campaign_id = %s AND town_id = %s
                GROUP BY big_cell_id ORDER BY SUM(targeted) DESC, big_cell_id LIMIT 1""",
            [campaign.pk, town.pk],
        )
        big = cursor.fetchone()[0]
        cursor.execute(
            """SELECT cell_id FROM reports_campaigntarget WHERE campaign_id = %s AND town_id = %s AND first_visit_on IS NULL
                GROUP BY cell_id ORDER BY COUNT(*) DESC, cell_id LIMIT 1""",
            [campaign.pk, town.pk],
        )
        small = cursor.fetchone()[0]
    return big, small


def _page(ctx, label: str, username: str, url: str) -> Benchmark:
    client = client_for(ctx, username)
    bare = reverse("bench_bare_get")
    queries = {}

    def check(outcome: Outcome):
        sql = captured(lambda: get_ok(client, url))
        queries["n"] = len(sql)
        outcome.extra.update(url=url, user=username, queries=len(sql))
        fast = outcome.ours_median is not None and outcome.ours_median <= BUDGET_S
        return fast, (
            f"median {fmt_s(outcome.ours_median)} {'≤' if fast else '>'} {fmt_s(BUDGET_S)}; {len(sql)} queries; "
            f"baseline = the bare logged-in view (ratio informational); {url} as {username}"
        )

    return Benchmark(
        f"dashboard: {label}",
        f"whole request ≤ {fmt_s(BUDGET_S)} in-process",
        ours=lambda: get_ok(client, url),
        baseline=lambda: get_ok(client, bare),
        check=check,
        warmup=2,
        # Tens of milliseconds each: more runs make the median robust to a neighbour's burst.
        repeat=None if ctx.quick else max(ctx.repeat, CHEAP_REPEAT),
    )


@suite("dashboard")
def build(ctx):
    with unscoped():
        campaign = Campaign.objects.order_by("-starts_on").first()
        town = Town.objects.get(name=BIG_TOWN)
    big, small = _cells(town, campaign)
    return [
        _page(ctx, "county page", "county", reverse("reports:dashboard")),
        _page(ctx, f"town page {BIG_TOWN}", "tc_admin", reverse("reports:dashboard_town", args=[town.pk])),
        _page(ctx, f"town page {BIG_TOWN} (county viewer)", "county", reverse("reports:dashboard_town", args=[town.pk])),
        _page(ctx, "big cell page (its small cells)", "tc_admin", reverse("reports:dashboard_cell", args=[big])),
        _page(ctx, "small cell page (people not visited)", "tc_admin", reverse("reports:dashboard_cell", args=[small])),
    ]
