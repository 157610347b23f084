"""The ledger export's database read (reports.exporters.ledger.LedgerExporter, the path an export job runs:
rows() inside one transaction, values_list().iterator() through a server-side cursor) vs a raw
psycopg server-side cursor over the same rows (docs/conventions.md: ≤ 1.3×, no model instances).

Both sides give the file's final values (local time, kind labels, blood pressure, visitors, notes),
and the filter is the one a user sets on the 走访台账 page (起始日期 / 截止日期, VisitFilter), as a
county viewer. The writer is not in this measurement (see export_write).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bench.core import Benchmark, ratio_check, suite
from bench.suites.common import raw, user
from reports.exporters.cells import TEXT_LIMIT
from reports.exporters.ledger import LedgerExporter
from visits.models import Visit

COUNTY_USER = "county"
# About 200,000 visits of the county (Nov 2023 – early Jan 2024); --quick reads ~1/10 of that.
FULL = {"date_from": "2023-11-01", "date_to": "2024-01-04"}
QUICK = {"date_from": "2023-12-01", "date_to": "2023-12-07"}

_KINDS = " ".join(f"WHEN '{value}' THEN '{label}'" for value, label in Visit.Kind.choices)
RAW_SQL = f"""
SELECT v.visited_at AT TIME ZONE %(tz)s, t.name, vil.name, c.name, b.name, b.id_number_masked,
       CASE v.kind {_KINDS} ELSE v.kind END,
       (SELECT string_agg(cd.name, '、' ORDER BY vv.id)
          FROM visits_visit_visitors vv JOIN towns_cadre cd ON cd.id = vv.cadre_id
         WHERE vv.visit_id = v.id),
       CASE WHEN v.bp_systolic IS NOT NULL AND v.bp_diastolic IS NOT NULL THEN v.bp_systolic || '/' || v.bp_diastolic END,
       NULLIF(substr(v.notes, 1, {TEXT_LIMIT}), '')
  FROM visits_visit v
  JOIN towns_town t ON t.id = v.town_id
  JOIN towns_gridcell c ON c.id = v.cell_id
  LEFT JOIN towns_village vil ON vil.id = c.village_id
  JOIN towns_beneficiary b ON b.id = v.beneficiary_id
 WHERE v.visited_at >= %(since)s AND v.visited_at < %(until)s
 ORDER BY v.id
"""  # noqa: S608 (our labels and a constant)


def _bounds(params) -> dict:
    """The page's local dates as the aware datetimes they mean (the first day's midnight to the one after the last)."""
    tz = timezone.get_default_timezone()
    first, last = date.fromisoformat(params["date_from"]), date.fromisoformat(params["date_to"])
    return {
        "since": datetime.combine(first, time.min, tzinfo=tz),
        "until": datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
        "tz": settings.TIME_ZONE,
    }


def build_bench(ctx) -> Benchmark:
    params = QUICK if ctx.quick else FULL
    county = user(COUNTY_USER)
    conn = raw(ctx)
    sample = {}

    def ours():
        n, first, last = 0, None, None
        with transaction.atomic():  # as Exporter.write reads: one snapshot, the cursor streams
            for row in LedgerExporter(county, params).rows():
                if first is None:
                    first = row
                last = row
                n += 1
        sample["ours"] = (n, first, last)

    def baseline():
        n, first, last = 0, None, None
        with conn.transaction(), conn.cursor(name="bench_export_read") as cursor:
            cursor.itersize = LedgerExporter.batch_size
            cursor.execute(RAW_SQL, _bounds(params))
            for row in cursor:
                if first is None:
                    first = row
                last = row
                n += 1
        sample["raw"] = (n, first, last)

    def check(outcome):
        met, note = ratio_check(1.3)(outcome)
        n, n_raw = sample["ours"][0], sample["raw"][0]
        outcome.extra["rows"] = {"ours": n, "raw": n_raw}
        if sample["ours"] != sample["raw"]:
            return False, f"{note}; rows differ: {n:,} vs {n_raw:,}, first {sample['ours'][1]} vs {sample['raw'][1]}"
        return met, f"{note}; {n:,} rows ({params['date_from']} – {params['date_to']}, county viewer), first and last rows equal"

    return Benchmark(
        "export DB read (ledger rows)",
        "≤ 1.3× a raw psycopg server-side cursor over the same rows",
        ours=ours,
        baseline=baseline,
        check=check,
        warmup=1,
    )


@suite("export_read")
def build(ctx):
    return [build_bench(ctx)]
