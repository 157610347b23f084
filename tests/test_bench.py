"""The bench's machinery (no timings here: `make bench` measures, tests only check the wiring)."""

import pytest
from django.db import connection
from django.urls import Resolver404, resolve

from bench import core
from tests.reports import test_exports

data = test_exports.data  # the shared fixture: visits, grants and follow-ups in both towns


def test_bare_views_are_not_part_of_the_application():
    with pytest.raises(Resolver404):
        resolve("/_bench/bare/")


def test_measure_interleaves_ours_and_the_baseline_and_applies_the_check():
    calls = []
    bench = core.Benchmark(
        "demo",
        "≤ 2×",
        ours=lambda: calls.append("ours"),
        baseline=lambda: calls.append("raw"),
        check=lambda outcome: (len(outcome.ours) == len(outcome.baseline) == 4, "four each"),
        warmup=1,
    )
    [outcome] = core.measure(bench, core.Context(repeat=4))
    # warm-up, then the order flips every round so drift hits both sides alike
    assert calls == ["ours", "raw", "ours", "raw", "raw", "ours", "ours", "raw", "raw", "ours"]
    assert outcome.met is True and outcome.note == "four each"


def test_ratio_check_reads_the_medians():
    outcome = core.Outcome("x", "≤ 1.3×", ours=[1.2, 1.3, 9.0], baseline=[1.0, 1.0, 1.0])
    assert core.ratio_check(1.3)(outcome)[0] is True
    assert core.ratio_check(1.3, absolute_s=1.0)(outcome)[0] is False
    assert core.ratio_check(1.1)(outcome)[0] is False


def test_every_suite_is_registered():
    from bench import suites  # noqa: F401

    assert list(core.SUITES) == [
        "registry",
        "visit_post",
        "audit_chains",
        "bulletin",
        "coverage",
        "dashboard",
        "export_read",
        "export_write",
        "roster_import",
        "roster_import_big",
        "explain",
        "throughput",
    ]


# The suites' hand-written SQL must say what our code says, or a ratio compares different work.
# (Wiring only: the figures are compared on the test cast; no timings.)


@pytest.mark.django_db
def test_coverage_suites_sql_gives_the_selectors_figures(cast, data):
    from bench.suites import coverage
    from reports import selectors
    from reports.rollups import refresh_campaign

    campaign = cast.campaign
    refresh_campaign(campaign.pk)
    towns = [cast.yeshan.town.pk, cast.tongcheng.town.pk]
    start, end = campaign.starts_on, campaign.ends_on
    params = {"campaign": campaign.pk, "towns": towns, "town": cast.yeshan.town.pk, "start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(coverage.BY_TOWN_SQL, params)
        by_town = coverage._raw_tuples(cursor.fetchall())
        cursor.execute(coverage.BY_CELL_SQL.format(group="big_cell_id", narrow=""), params)
        by_big = coverage._raw_tuples(cursor.fetchall())
        since, until = _day_bounds(start, end)
        cursor.execute(coverage.LIVE_BY_TOWN, {**params, "since": since, "until": until})
        live = coverage._raw_tuples(cursor.fetchall(), width=5)
    ours = coverage._as_tuples(selectors.coverage_by_town(campaign.pk, towns, start=start, end=end))
    assert ours and by_town == ours
    assert by_big == coverage._as_tuples(selectors.coverage_by_cell(campaign.pk, cast.yeshan.town.pk, start=start, end=end))
    assert live == {k: v[:5] for k, v in ours.items()}


def _day_bounds(start, end):
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    tz = timezone.get_default_timezone()
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)


@pytest.mark.django_db
def test_export_read_suites_raw_cursor_gives_the_exporters_rows(cast, data):
    from bench.suites import export_read
    from reports.exporters.ledger import LedgerExporter

    params = {"date_from": "2024-01-01", "date_to": "2024-01-31"}
    ours = list(LedgerExporter(cast.county_viewer, params).rows())
    with connection.cursor() as cursor:
        cursor.execute(export_read.RAW_SQL, export_read._bounds(params))
        theirs = [tuple(row) for row in cursor.fetchall()]
    assert len(ours) >= 2 and ours == theirs


def test_new_suites_are_registered_with_their_budgets():
    from bench.suites import coverage, dashboard, export_write

    assert coverage.LIMIT == 1.1 and dashboard.BUDGET_S == 0.050
    assert export_write.WRITER_LIMIT == 1.2 and export_write.CSV_GOAL == 3.0 and export_write.MEMORY_LIMIT_MB == 100
