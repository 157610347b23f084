"""Weekly bulletin draft (reports.services.bulletin_draft) vs the raw aggregates it needs
(ENGINEERING.md: ≤ 1.3× and ≤ 2 s). Each draft runs in a transaction that is rolled back, so the
county database keeps no bench bulletin and every run drafts afresh (the first-draft path)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from bench.core import Benchmark, ratio_check, suite
from bench.suites.common import raw
from core.scoping import unscoped
from funds.models import handed_out_sql
from reports import services
from towns.models import Town

WEEK = date(2024, 1, 8)  # a demo week inside 2024年双节慰问

# The same per-town figures as town_week_figures, by hand: one statement per source, as many as the
# draft reads (contacts by kind, the activities it names, what was settled to date, coverage).
RAW_SQL = [
    """SELECT town_id, count(*), count(DISTINCT beneficiary_id), count(DISTINCT household_id)
         FROM visits_visit WHERE visited_at >= %(start)s AND visited_at < %(end)s GROUP BY town_id""",
    """SELECT town_id, kind, count(DISTINCT beneficiary_id), count(DISTINCT household_id)
         FROM visits_visit WHERE visited_at >= %(start)s AND visited_at < %(end)s GROUP BY town_id, kind""",
    """SELECT town_id, kind, title, reached_count, gifts_count
         FROM visits_activity WHERE held_on >= %(day)s AND held_on < %(day_end)s
        ORDER BY town_id, reached_count DESC, held_on, id""",
    f"""SELECT town_id, count(*),
              coalesce(sum(amount) FILTER (WHERE kind IN ('cash', 'transfer')), 0),
              coalesce(sum(quantity) FILTER (WHERE kind = 'goods'), 0)
         FROM funds_disbursement d
        WHERE handed_at >= %(start)s AND handed_at < %(end)s AND {handed_out_sql("d")} GROUP BY town_id""",
    """SELECT town_id, count(*) FILTER (WHERE raised_on >= %(day)s),
              count(*) FILTER (WHERE kind = 'measure'),
              count(*) FILTER (WHERE kind = 'demand' AND status IN ('resolved', 'revisited', 'closed')),
              count(*) FILTER (WHERE kind = 'wish' AND status IN ('resolved', 'revisited', 'closed'))
         FROM visits_followup WHERE raised_on < %(day_end)s AND status <> 'rejected' GROUP BY town_id""",
    f"""SELECT s.town_id, s.kind, s.title, b.name FROM (
            SELECT f.town_id, f.kind, f.title, f.claimed_by_branch_id, f.updated_at, f.id,
                   row_number() OVER (PARTITION BY f.town_id, f.kind ORDER BY f.updated_at DESC, f.id DESC) AS newest
              FROM visits_followup f
             WHERE f.raised_on < %(day_end)s AND f.status IN ('resolved', 'revisited', 'closed')
               AND f.kind IN ('demand', 'wish')) s
          LEFT JOIN towns_partybranch b ON b.id = s.claimed_by_branch_id
         WHERE newest <= {services.SETTLED_ROWS_READ} ORDER BY s.town_id, s.updated_at DESC, s.id DESC""",
]


def _params(week_start: date) -> dict:
    tz = ZoneInfo(settings.TIME_ZONE)
    end = week_start + timedelta(days=7)
    with unscoped():
        campaign = services.campaign_for(week_start)
        towns = list(Town.objects.values_list("pk", flat=True))
    return {
        "start": datetime.combine(week_start, time.min, tz),
        "end": datetime.combine(end, time.min, tz),
        "day": week_start,
        "day_end": end,
        # the week's coverage (BY_TOWN_SQL over the rollups): the campaign's targets reached by its last day
        "coverage": {
            "campaign": campaign.pk if campaign else None,
            "towns": towns,
            "start": campaign.starts_on if campaign else week_start,
            "end": end - timedelta(days=1),
        },
    }


def build_bench(ctx) -> Benchmark:
    # Imported here: importing the coverage suite at module level would register it before this one.
    from bench.suites.coverage import BY_TOWN_SQL

    conn = raw(ctx)
    params = _params(WEEK)

    def ours():
        with transaction.atomic():
            bulletin = services.bulletin_draft(week_start=WEEK)
            assert bulletin.items.count() > 0, "the demo week drafted no items"
            transaction.set_rollback(True)

    def baseline():
        for sql in RAW_SQL:
            conn.execute(sql, params).fetchall()
        conn.execute(BY_TOWN_SQL, params["coverage"]).fetchall()

    def same_figures():
        """The baseline must answer the same question: compare its figures with the service's."""
        from core.scoping import unscoped

        with unscoped():
            figures = services.town_week_figures(WEEK)
        visits = {row[0]: row[1:] for row in conn.execute(RAW_SQL[0], params).fetchall()}
        grants = {row[0]: row[1:] for row in conn.execute(RAW_SQL[3], params).fetchall()}
        for town_id, f in figures.items():
            got = (visits.get(town_id, (0, 0, 0)), grants.get(town_id, (0, 0, 0))[:2])
            want = ((f.visits, f.people, f.households), (f.grants, f.cash))
            if got != want:
                raise AssertionError(f"raw aggregates differ for town {town_id}: {got} != {want}")

    return Benchmark(
        f"weekly bulletin draft ({WEEK:%Y-%m-%d})",
        "≤ 1.3× the raw aggregates, and ≤ 2 s",
        ours=ours,
        baseline=baseline,
        check=ratio_check(1.3, absolute_s=2.0),
        setup=same_figures,
    )


@suite("bulletin")
def build(ctx):
    return [build_bench(ctx)]
