"""County coverage by town and by grid cell (reports.selectors) vs hand-written SQL over the same
rollup tables on a raw psycopg connection (ENGINEERING.md: ≤ 1.1×).

Informational beside it: the same coverage figures counted live from visits and beneficiaries by
hand-written SQL (what the rollups save), and the whole-campaign rollup refresh
(reports.rollups.refresh_campaign, rolled back: the bench leaves the county database as it found it).

The raw side runs unprepared (prepare=False): psycopg prepares a statement after five runs, and the
generic plan it then gets made the hand-written small-cell loop 1.5× slower than the selectors —
a baseline must be the best of the raw way, not its accident.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bench import db
from bench.core import Benchmark, Outcome, fmt_ratio, ratio_check, suite, timed
from bench.suites.common import raw
from core.scoping import unscoped
from reports import selectors
from reports.rollups import refresh_campaign
from towns.models import GridCell, Town
from visits.models import Campaign

BIG_TOWN = "铜城镇"
LIMIT = 1.1
CHEAP_REPEAT = 21  # runs of the selector pairs (a few ms each) unless --quick
FIGURES = ("targeted", "households", "reached", "reached_in_range", "visits", "grants", "cash", "goods_value")

# By hand, over the rollups: targets per group, and the day sums of [start, end] (coverage counts
# every first visit up to the end day).
_DAYS = """SUM(reached) AS reached, SUM(reached) FILTER (WHERE day >= %(start)s) AS reached_in_range,
           SUM(visits) FILTER (WHERE day >= %(start)s) AS visits, SUM(grants) FILTER (WHERE day >= %(start)s) AS grants,
           SUM(cash) FILTER (WHERE day >= %(start)s) AS cash,
           SUM(goods_value) FILTER (WHERE day >= %(start)s) AS goods_value,
           SUM(followups_raised) FILTER (WHERE day >= %(start)s) AS raised,
           SUM(followups_closed) FILTER (WHERE day >= %(start)s) AS closed"""
BY_TOWN_SQL = f"""
WITH cov AS (SELECT town_id, SUM(targeted) AS targeted, SUM(households) AS households FROM reports_cellcoverage
              WHERE campaign_id = %(campaign)s AND town_id = ANY(%(towns)s) GROUP BY town_id),
     days AS (SELECT town_id, {_DAYS},
                     SUM(activities) FILTER (WHERE day >= %(start)s) AS activities,
                     SUM(activity_people) FILTER (WHERE day >= %(start)s) AS activity_people
                FROM reports_townday WHERE campaign_id = %(campaign)s AND town_id = ANY(%(towns)s) AND day <= %(end)s
               GROUP BY town_id)
SELECT town_id, targeted, households, reached, reached_in_range, visits, grants, cash, goods_value, raised, closed,
       activities, activity_people
  FROM cov FULL JOIN days USING (town_id)"""
BY_CELL_SQL = f"""
WITH cov AS (SELECT {{group}} AS k, SUM(targeted) AS targeted, SUM(households) AS households FROM reports_cellcoverage
              WHERE campaign_id = %(campaign)s AND town_id = %(town)s {{narrow}} GROUP BY 1),
     days AS (SELECT {{group}} AS k, {_DAYS} FROM reports_cellday
               WHERE campaign_id = %(campaign)s AND town_id = %(town)s {{narrow}} AND day <= %(end)s GROUP BY 1)
SELECT k, targeted, households, reached, reached_in_range, visits, grants, cash, goods_value, raised, closed
  FROM cov FULL JOIN days USING (k)"""

# Live, from the raw tables: the coverage figures (targets, households, reached by the end, first
# reached in the range, visits in the range), with the rollups' rules (active people of the
# campaign's towns in its target categories; a person counts on the local day of their first visit).
LIVE_SQL = """
WITH targets AS (
  SELECT b.id, {group} AS k, b.household_id
    FROM towns_beneficiary b {join}
   WHERE b.status = 'active' AND b.town_id = ANY(%(towns)s)
     AND b.town_id IN (SELECT town_id FROM visits_campaign_towns WHERE campaign_id = %(campaign)s)
     AND EXISTS (SELECT 1 FROM towns_beneficiary_categories bc
                   JOIN visits_campaign_target_categories tc ON tc.category_id = bc.category_id
                  WHERE tc.campaign_id = %(campaign)s AND bc.beneficiary_id = b.id)),
first AS (SELECT v.beneficiary_id, MIN(v.visited_at) AS first_at FROM visits_visit v JOIN targets t ON t.id = v.beneficiary_id
           WHERE v.campaign_id = %(campaign)s GROUP BY v.beneficiary_id),
reach AS (SELECT t.k, COUNT(*) AS targeted, COUNT(DISTINCT t.household_id) AS households,
                 COUNT(*) FILTER (WHERE f.first_at < %(until)s) AS reached,
                 COUNT(*) FILTER (WHERE f.first_at >= %(since)s AND f.first_at < %(until)s) AS reached_in_range
            FROM targets t LEFT JOIN first f ON f.beneficiary_id = t.id GROUP BY t.k),
vis AS (SELECT {visit_group} AS k, COUNT(*) AS visits FROM visits_visit v {visit_join}
         WHERE v.campaign_id = %(campaign)s AND v.town_id = ANY(%(towns)s)
           AND v.visited_at >= %(since)s AND v.visited_at < %(until)s GROUP BY 1)
SELECT k, targeted, households, reached, reached_in_range, visits FROM reach FULL JOIN vis USING (k)"""
LIVE_BY_TOWN = LIVE_SQL.format(group="b.town_id", join="", visit_group="v.town_id", visit_join="")
LIVE_BY_BIG_CELL = LIVE_SQL.format(
    group="g.parent_id",
    join="JOIN towns_gridcell g ON g.id = b.cell_id",
    visit_group="g.parent_id",
    visit_join="JOIN towns_gridcell g ON g.id = v.cell_id",
)


def _setting(ctx) -> dict:
    if "coverage" not in ctx.cache:
        with unscoped():
            campaign = Campaign.objects.order_by("-starts_on").first()
            if campaign is None:
                raise RuntimeError("no campaign in the county database")
            towns = list(Town.objects.filter(campaigns=campaign).order_by("code").values_list("pk", flat=True))
            big_town = Town.objects.get(name=BIG_TOWN)
            bigs = list(
                GridCell.objects.filter(town=big_town, level=GridCell.Level.BIG).order_by("code").values_list("pk", flat=True)
            )
        # The dashboard's default range once a campaign is over: its first day to its last.
        start, end = campaign.starts_on, campaign.ends_on
        tz = timezone.get_default_timezone()
        ctx.cache["coverage"] = {
            "campaign": campaign,
            "towns": towns,
            "town": big_town,
            "bigs": bigs,
            "start": start,
            "end": end,
            "since": datetime.combine(start, time.min, tzinfo=tz),
            "until": datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
        }
    return ctx.cache["coverage"]


def _as_tuples(figures: dict) -> dict:
    return {k: tuple(int(getattr(f, name)) for name in FIGURES) for k, f in figures.items() if k is not None}


_WIDTH = len(FIGURES)


def _raw_tuples(rows, width=_WIDTH) -> dict:
    return {row[0]: tuple(int(v or 0) for v in row[1 : 1 + width]) for row in rows if row[0] is not None}


def _pair(name, budget, ours, baseline, compare, *, repeat=None) -> Benchmark:
    """A selector against its hand-written SQL; the figures must agree before the time counts."""

    def check(outcome: Outcome):
        met, note = ratio_check(LIMIT)(outcome)
        difference = compare()
        if difference:
            return False, f"{note}; figures differ: {difference}"
        return met, note

    # Milliseconds each on a shared 2-core machine: a median of 5 swings ±10% with the neighbours'
    # load (the plans are the same statement's), so these cheap ones take more runs.
    return Benchmark(name, budget, ours=ours, baseline=baseline, check=check, warmup=2, repeat=repeat)


def _differences(ours: dict, theirs: dict) -> str:
    keys = sorted(set(ours) | set(theirs))
    wrong = [k for k in keys if ours.get(k) != theirs.get(k)]
    return (
        ""
        if not wrong
        else f"{len(wrong)} of {len(keys)} groups, e.g. {wrong[0]}: {ours.get(wrong[0])} vs {theirs.get(wrong[0])}"
    )


def _selector_benchmarks(ctx) -> list[Benchmark]:
    s = _setting(ctx)
    conn = raw(ctx)
    campaign, towns, town, bigs, start, end = s["campaign"].pk, s["towns"], s["town"], s["bigs"], s["start"], s["end"]
    params = {"campaign": campaign, "towns": towns, "town": town.pk, "start": start, "end": end}
    big_sql = BY_CELL_SQL.format(group="big_cell_id", narrow="")
    small_sql = BY_CELL_SQL.format(group="cell_id", narrow="AND big_cell_id = %(big)s")

    def by_town():
        return selectors.coverage_by_town(campaign, towns, start=start, end=end)

    def by_town_raw():
        return conn.execute(BY_TOWN_SQL, params, prepare=False).fetchall()

    def by_big():
        return selectors.coverage_by_cell(campaign, town.pk, start=start, end=end)

    def by_big_raw():
        return conn.execute(big_sql, params, prepare=False).fetchall()

    def by_small():
        return [selectors.coverage_by_cell(campaign, town.pk, start=start, end=end, big_cell_id=big) for big in bigs]

    def by_small_raw():
        return [conn.execute(small_sql, {**params, "big": big}, prepare=False).fetchall() for big in bigs]

    def small_differences():
        ours = {}
        for figures in by_small():
            ours.update(_as_tuples(figures))
        theirs = {}
        for rows in by_small_raw():
            theirs.update(_raw_tuples(rows))
        return _differences(ours, theirs)

    budget = f"≤ {LIMIT}× the same figures by hand-written SQL over the rollups (raw psycopg)"
    repeat = None if ctx.quick else max(ctx.repeat, CHEAP_REPEAT)
    return [
        _pair(
            f"coverage by town (county, {len(towns)} towns)",
            budget,
            by_town,
            by_town_raw,
            lambda: _differences(_as_tuples(by_town()), _raw_tuples(by_town_raw())),
            repeat=repeat,
        ),
        _pair(
            f"coverage by big cell ({BIG_TOWN}, {len(bigs)})",
            budget,
            by_big,
            by_big_raw,
            lambda: _differences(_as_tuples(by_big()), _raw_tuples(by_big_raw())),
            repeat=repeat,
        ),
        _pair(
            f"coverage by small cell ({BIG_TOWN}, {len(bigs)} big cells)",
            budget + "; one call per big cell",
            by_small,
            by_small_raw,
            small_differences,
            repeat=repeat,
        ),
    ]


def _live_benchmarks(ctx) -> list[Benchmark]:
    s = _setting(ctx)
    conn = raw(ctx)
    campaign, towns, town, start, end = s["campaign"].pk, s["towns"], s["town"], s["start"], s["end"]
    live = {"campaign": campaign, "since": s["since"], "until": s["until"]}
    live_fields = FIGURES[:5]

    def compare(ours: dict, rows) -> str:
        mine = {k: tuple(int(getattr(f, name)) for name in live_fields) for k, f in ours.items() if k is not None}
        theirs = _raw_tuples(rows, width=len(live_fields))
        return _differences(mine, theirs)

    def bench(name, ours, sql, params):
        def check(outcome: Outcome):
            saving = 1 / outcome.ratio if outcome.ratio else None
            difference = compare(ours(), conn.execute(sql, params).fetchall())
            note = f"informational: counted live the same figures take {fmt_ratio(saving)} the rollups' time"
            if difference:
                note += f"; live and rolled-up figures differ (rollups stale since the last refresh?): {difference}"
            else:
                note += "; figures equal"
            return None, note

        return Benchmark(
            name,
            "informational: what the rollups save",
            ours=ours,
            baseline=lambda: conn.execute(sql, params).fetchall(),
            check=check,
            warmup=1,
        )

    return [
        bench(
            "coverage by town: rollups vs counted live",
            lambda: selectors.coverage_by_town(campaign, towns, start=start, end=end),
            LIVE_BY_TOWN,
            {**live, "towns": towns},
        ),
        bench(
            f"coverage by big cell ({BIG_TOWN}): rollups vs live",
            lambda: selectors.coverage_by_cell(campaign, town.pk, start=start, end=end),
            LIVE_BY_BIG_CELL,
            {**live, "towns": [town.pk]},
        ),
    ]


def _refresh_benchmark(ctx) -> Benchmark:
    def run(ctx) -> Outcome:
        campaign = _setting(ctx)["campaign"]
        times = []
        try:
            for _ in range(ctx.repeat):

                def once():
                    with transaction.atomic():
                        refresh_campaign(campaign.pk)
                        transaction.set_rollback(True)  # the figures are the same; leave the database as found

                times.append(timed(once))
        finally:
            # Every run leaves a campaign's worth of dead rollup rows; autovacuum would clear them.
            db.vacuum_bloated(quiet=True)
        return Outcome(
            f"rollup refresh (campaign {campaign.name}, whole)",
            "informational (runs after commit and every 5 min, off the request path)",
            ours=times,
            note=f"informational; {settings.DASHBOARD_REFRESH_DELAY} s debounce after a change, rebuilt in one transaction",
        )

    return Benchmark("rollup refresh", "", run=run)


@suite("coverage")
def build(ctx):
    return [*_selector_benchmarks(ctx), *_live_benchmarks(ctx), _refresh_benchmark(ctx)]
