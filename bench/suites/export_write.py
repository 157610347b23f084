"""The ledger export's writing (bench/exports.py, issue 7 §3): our exporter writing 200,000 rows
already read, against the bare rustpy-xlsxwriter loop over the same final rows (docs/conventions.md:
≤ 1.2×) and a CSV write of them (a goal, ≤ 3×, not a budget); then a whole export (read + write)
of 20,000 and of 200,000 rows, each in a fresh interpreter, for its peak memory (≤ 100 MB, flat in
the row count). --quick uses a tenth of the rows.
"""

from __future__ import annotations

import os
import shutil

from bench import exports
from bench.core import Benchmark, Outcome, fmt_ratio, suite, timed

ROWS = 200_000
WRITER_LIMIT = 1.2
CSV_GOAL = 3.0
MEMORY_LIMIT_MB = 100
FLAT_SLACK_MB = 10  # ten times the rows may cost at most this much more memory


def _write(ctx) -> list[Outcome]:
    n = ROWS // 10 if ctx.quick else ROWS
    candidates = exports.write_candidates(n)
    works = {name: candidates[name] for name in ("ours", "bare_writer", "csv")}
    times = {name: [] for name in works}
    try:
        for work in works.values():  # warm-up: imports, the first file
            work()
        for round_ in range(ctx.repeat):
            order = list(works)
            order = order[round_ % 3 :] + order[: round_ % 3]  # each takes each place in turn
            for name in order:
                times[name].append(timed(works[name]))
        size = os.path.getsize(candidates["path"] + ".xlsx")
    finally:
        shutil.rmtree(os.path.dirname(candidates["path"]), ignore_errors=True)
    label = f"{n:,} ledger rows"
    bare = Outcome(
        f"export write vs bare writer ({label})",
        f"≤ {WRITER_LIMIT}× the bare rustpy-xlsxwriter loop over the same final rows",
        ours=times["ours"],
        baseline=times["bare_writer"],
        extra={"rows": n, "xlsx_bytes": size},
    )
    bare.met = bare.ratio is not None and bare.ratio <= WRITER_LIMIT
    bare.note = f"ratio {fmt_ratio(bare.ratio)} {'≤' if bare.met else '>'} {WRITER_LIMIT}×; file {size / 1e6:.1f} MB"
    vs_csv = Outcome(
        f"export write vs CSV write ({label})",
        f"goal ≤ {CSV_GOAL}× a CSV write of the same rows (a goal, not a budget)",
        ours=times["ours"],
        baseline=times["csv"],
        extra={"rows": n},
    )
    reached = vs_csv.ratio is not None and vs_csv.ratio <= CSV_GOAL
    vs_csv.note = f"goal {'reached' if reached else 'not reached'}: ratio {fmt_ratio(vs_csv.ratio)} vs {CSV_GOAL}×; informational"
    vs_csv.extra["goal_reached"] = reached
    return [bare, vs_csv]


def _memory(ctx) -> Outcome:
    small, large = (ROWS // 100, ROWS // 10) if ctx.quick else (ROWS // 10, ROWS)
    runs = {n: exports.peak_memory(n) for n in (small, large)}
    low, high = runs[small], runs[large]
    peak_ok = high["rss_peak_mb"] <= MEMORY_LIMIT_MB and low["rss_peak_mb"] <= MEMORY_LIMIT_MB
    flat = high["rss_peak_mb"] - low["rss_peak_mb"] <= FLAT_SLACK_MB
    outcome = Outcome(
        f"export peak memory ({small:,} vs {large:,} rows)",
        f"peak RSS ≤ {MEMORY_LIMIT_MB} MB, flat in the row count (≤ +{FLAT_SLACK_MB} MB for 10× the rows)",
        ours=[high["seconds"]],
        baseline=[low["seconds"]],
        met=peak_ok and flat,
        extra={"runs": runs},
    )
    outcome.note = (
        f"peak RSS {low['rss_peak_mb']:.0f} MB at {small:,} rows, {high['rss_peak_mb']:.0f} MB at {large:,} "
        f"(the export itself +{low['export_mb']:.1f} / +{high['export_mb']:.1f} MB over Django's {high['rss_before_mb']:.0f} MB); "
        f"{'flat' if flat else 'NOT flat'}; times are whole exports (read + write) in a fresh process: "
        f"ours = {large:,} rows, baseline = {small:,} rows"
    )
    return outcome


@suite("export_write")
def build(ctx):
    return [Benchmark("export write", "", run=_write), Benchmark("export memory", "", run=_memory)]
