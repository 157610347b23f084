"""Export benchmarks (issue 7 §3, ENGINEERING.md budgets), as ratios to raw baselines in the same run.

Functions take a row count and return timings in seconds (and ratios), so `make bench` can call them:

* ``write_timings(n)``: our ledger exporter writing n rows already read from the database, against the
  bare writer looping over the same final rows (budget ≤ 1.2×) and a CSV write of them (goal ≤ 3×);
  openpyxl write-only too when ``with_openpyxl``.
* ``read_timings(n)``: the exporter's database read of n ledger rows (values_list through a server-side
  cursor, plus the visitors of each batch) against a raw psycopg server-side cursor running the same SQL
  (budget ≤ 1.3×).
* ``peak_memory(n)``: a whole export of n rows (read + write) in a fresh subprocess: its peak RSS.

Reads only. Run against the county-scale database, e.g.::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nuanxin_county <settings env> python -m bench.exports 200000
"""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def county_user():
    from django.contrib.auth import get_user_model

    from core.permissions import COUNTY_VIEWER
    from core.scoping import unscoped
    from towns.models import Cadre

    with unscoped():
        cadre = Cadre.objects.filter(role=COUNTY_VIEWER, is_active=True).order_by("pk").first()
        return get_user_model().objects.get(pk=cadre.user_id)


def ledger_exporter(n: int, **kwargs):
    """The county's ledger limited to its first n visits (a pk bound, so every run reads the same rows)."""
    from core.scoping import unscoped
    from reports.exporters import LedgerExporter
    from visits.models import Visit

    with unscoped():
        bound = Visit.objects.order_by("pk").values_list("pk", flat=True)[n - 1 : n].first()

    class Limited(LedgerExporter):
        def queryset(self):
            return super().queryset().filter(pk__lte=bound)

    return Limited(county_user(), {}, **kwargs)


def _best(runs: int, work) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _interleaved(runs: int, **works) -> dict:
    """Best wall time and best CPU time of each, the candidates taking turns: on a shared machine a
    burst of someone else's load then hits every candidate alike, and CPU time ignores it."""
    wall = dict.fromkeys(works, float("inf"))
    cpu = dict.fromkeys(works, float("inf"))
    for _ in range(runs):
        for name, work in works.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            work()
            wall[name] = min(wall[name], time.perf_counter() - started)
            cpu[name] = min(cpu[name], time.process_time() - started_cpu)
    return {**wall, **{f"{name}_cpu": seconds for name, seconds in cpu.items()}}


def write_candidates(n: int) -> dict:
    """Our exporter writing n ledger rows already read from the database, the bare rustpy-xlsxwriter
    loop over the same final rows, and a CSV write of them: {"ours", "bare_writer", "csv"} callables
    (and "exporter", "path"). The database is not what these measure: the rows are read once, here."""
    from rustpy_xlsxwriter import Format, write_worksheet

    from reports.exporters import NUMBER_FORMATS

    exporter = ledger_exporter(n)
    batches = list(exporter.read())
    final = list(exporter.prepared(row for batch in batches for row in exporter.shape(batch)))
    assert len(final) == n, (len(final), n)
    columns = exporter.columns
    headers = [c.header for c in columns]
    folder = tempfile.mkdtemp(prefix="bench-exports-")
    path = os.path.join(folder, "out")

    def ours():
        exporter.read = lambda: iter(batches)
        exporter.writer = None
        exporter.write(path + ".xlsx")

    def bare():
        write_worksheet(
            (dict(zip(headers, row, strict=True)) for row in final),
            path + "-bare.xlsx",
            sheet_name=exporter.title,
            freeze_row=1,
            column_widths=[c.width for c in columns],
            column_formats=[
                Format().set_num_format(NUMBER_FORMATS[c.kind]) if c.kind in NUMBER_FORMATS else None for c in columns
            ],
            header_format=Format().set_bold().set_align("center"),
        )

    def plain_csv():
        with open(path + ".csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            writer.writerows(final)

    return {"ours": ours, "bare_writer": bare, "csv": plain_csv, "exporter": exporter, "batches": batches, "path": path}


def write_timings(n: int, *, runs: int = 5, with_openpyxl: bool = False) -> dict:
    from reports.exporters import OpenpyxlWriter

    candidates = write_candidates(n)
    ours, bare, plain_csv = candidates["ours"], candidates["bare_writer"], candidates["csv"]
    exporter, batches, path = candidates["exporter"], candidates["batches"], candidates["path"]
    result = {"rows": n, **_interleaved(runs, ours=ours, bare_writer=bare, csv=plain_csv)}
    if with_openpyxl:

        def openpyxl_ours():
            exporter.read = lambda: iter(batches)
            exporter.writer = OpenpyxlWriter()
            exporter.write(path + "-openpyxl.xlsx")

        result["openpyxl_ours"] = _best(1, openpyxl_ours)
        result["openpyxl_vs_csv"] = result["openpyxl_ours"] / result["csv"]
    result["ours_vs_bare"] = result["ours"] / result["bare_writer"]
    result["ours_vs_csv"] = result["ours"] / result["csv"]
    result["ours_vs_bare_cpu"] = result["ours_cpu"] / result["bare_writer_cpu"]
    result["ours_vs_csv_cpu"] = result["ours_cpu"] / result["csv_cpu"]
    result["file"] = path + ".xlsx"
    return result


def read_timings(n: int, *, runs: int = 5) -> dict:
    import psycopg
    from django.db import connection, transaction

    exporter = ledger_exporter(n)

    def ours():
        count = 0
        with transaction.atomic():  # as Exporter.write reads
            for batch in exporter.read():
                count += len(exporter.shape(batch))
        assert count == n

    # The same SQL (labels, local time and visitors shaped by the database) through a bare named cursor.
    sql, params = exporter.annotated().query.sql_with_params()
    settings_dict = connection.settings_dict
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"] or None,
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        password=settings_dict["PASSWORD"] or None,
    )

    def raw():
        with psycopg.connect(conninfo) as conn, conn.cursor(name="bench") as cursor:
            cursor.itersize = exporter.batch_size
            cursor.execute(sql, params)
            for _ in cursor:
                pass

    ours()  # warm the cache: both sides then read from shared buffers
    result = {"rows": n, **_interleaved(runs, ours=ours, raw_cursor=raw)}
    result["ours_vs_raw"] = result["ours"] / result["raw_cursor"]
    return result


def _export_in_this_process(n: int) -> dict:
    exporter = ledger_exporter(n)
    before = _high_water_mb()
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        started = time.perf_counter()
        count = exporter.write(handle.name)
        seconds = time.perf_counter() - started
        size = os.path.getsize(handle.name)
    peak = _high_water_mb()
    return {
        "rows": count,
        "seconds": seconds,
        "bytes": size,
        "rss_before_mb": before,
        "rss_peak_mb": peak,
        "export_mb": peak - before,
    }


def _high_water_mb() -> float:
    """Peak RSS of this process. VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory(n: int) -> dict:
    """Peak RSS of a whole export (read + write) of n rows in a fresh interpreter."""
    output = subprocess.run(
        [sys.executable, "-m", "bench.exports", "--memory", str(n)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    setup()
    if argv[:1] == ["--memory"]:
        print(json.dumps(_export_in_this_process(int(argv[1]))))
        return
    numbers = [a for a in argv if a.isdigit()]
    n = int(numbers[0]) if numbers else 200_000
    written = write_timings(n, with_openpyxl="--openpyxl" in argv)
    print("write", json.dumps(written, ensure_ascii=False), flush=True)
    print("read", json.dumps(read_timings(n)), flush=True)
    for size in (n // 10, n):
        print("memory", json.dumps(peak_memory(size)), flush=True)
    if "--libreoffice" in argv:
        print("libreoffice", json.dumps(libreoffice_roundtrip(written["file"]), ensure_ascii=False, default=str), flush=True)


def libreoffice_roundtrip(path: str) -> dict:
    """Open an export with LibreOffice (headless, to CSV with cells as shown) and compare every value with
    what openpyxl reads from the same file: dates, ¥ amounts and formula-like text must survive."""
    import datetime
    import shutil

    from openpyxl import load_workbook

    folder = tempfile.mkdtemp(prefix="bench-lo-")
    started = time.perf_counter()
    subprocess.run(
        [shutil.which("libreoffice") or "libreoffice", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false", "--outdir", folder, path],
        check=True, capture_output=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    name = os.path.join(folder, os.path.splitext(os.path.basename(path))[0] + ".csv")
    with open(name, encoding="utf-8", newline="") as handle:
        shown = list(csv.reader(handle))
    book = load_workbook(path, read_only=True)
    mismatches, rows = [], 0
    for row, lo in zip(book.worksheets[0].iter_rows(values_only=True), shown, strict=False):
        rows += 1
        for value, text in zip(row, lo, strict=False):
            if isinstance(value, datetime.datetime):
                expected = value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
                ok = text in (expected, value.strftime("%Y-%m-%d %H:%M"))
            elif isinstance(value, float | int):
                number = text.replace("¥", "").replace(",", "")
                scale = 100 if number.endswith("%") else 1
                ok = abs(float(number.rstrip("%") or "nan") / scale - value) < 0.01
            else:
                ok = text == ("" if value is None else str(value))
            if not ok and len(mismatches) < 10:
                mismatches.append((rows, value, text))
    return {"rows": rows, "csv_rows": len(shown), "mismatches": mismatches, "libreoffice_seconds": seconds}


if __name__ == "__main__":
    main(sys.argv[1:])
