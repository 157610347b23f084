"""The ledger export's database read (reports.exporters.LedgerExporter.rows(), which batches by pk
with values_list) vs a raw psycopg server-side cursor over the same rows (ENGINEERING.md: ≤ 1.3×,
no model instances). The writer is not in this measurement: only reading the rows.

Extension point: the ledger export itself (200k rows vs the bare writer and a CSV write, peak
memory at 20k vs 200k) belongs in a suite of its own once the export jobs land (issue 7).
"""

from __future__ import annotations

from bench.core import Benchmark, ratio_check, suite
from bench.suites.common import raw, user
from reports.exporters import LedgerExporter

COUNTY_USER = "county"
# About 200,000 visits of the county (Nov 2023 – early Jan 2024); --quick reads ~1/10 of that.
FULL = {"date_from": "2023-11-01", "date_to": "2024-01-04"}
QUICK = {"date_from": "2023-12-01", "date_to": "2023-12-07"}

RAW_SQL = """
SELECT v.id, v.visited_at, t.name, vil.name, c.name, b.name, b.id_number_masked, v.kind,
       v.bp_systolic, v.bp_diastolic, v.notes,
       (SELECT string_agg(cd.name, '、' ORDER BY vv.id)
          FROM visits_visit_visitors vv JOIN towns_cadre cd ON cd.id = vv.cadre_id
         WHERE vv.visit_id = v.id)
  FROM visits_visit v
  JOIN towns_town t ON t.id = v.town_id
  JOIN towns_gridcell c ON c.id = v.cell_id
  LEFT JOIN towns_village vil ON vil.id = c.village_id
  JOIN towns_beneficiary b ON b.id = v.beneficiary_id
 WHERE (v.visited_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN %(date_from)s AND %(date_to)s
 ORDER BY v.id
"""


def build_bench(ctx) -> Benchmark:
    params = QUICK if ctx.quick else FULL
    county = user(COUNTY_USER)
    conn = raw(ctx)
    counted = {}

    def ours():
        counted["ours"] = sum(1 for _ in LedgerExporter(county, params).rows())

    def baseline():
        n = 0
        with conn.transaction(), conn.cursor(name="bench_export_read") as cursor:
            cursor.itersize = 2000
            cursor.execute(RAW_SQL, params)
            for _ in cursor:
                n += 1
        counted["raw"] = n

    def check(outcome):
        met, note = ratio_check(1.3)(outcome)
        outcome.extra["rows"] = counted
        if counted.get("ours") != counted.get("raw"):
            return False, f"{note}; row counts differ: {counted}"
        return met, f"{note}; {counted['ours']:,} rows ({params['date_from']} – {params['date_to']}, county viewer)"

    return Benchmark(
        "export DB read (ledger rows)",
        "≤ 1.3× a raw psycopg server-side cursor over the same rows",
        ours=ours,
        baseline=baseline,
        check=check,
        warmup=0 if not ctx.quick else 1,
        repeat=max(5, ctx.repeat - 2) if not ctx.quick else None,
    )


@suite("export_read")
def build(ctx):
    return [build_bench(ctx)]
