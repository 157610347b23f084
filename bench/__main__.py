"""`python -m bench [names...] [--repeat N] [--quick]` (see bench/__init__.py)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import traceback
from datetime import datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="County-scale benchmarks against raw baselines.")
    parser.add_argument("names", nargs="*", help="suites to run (default: all); see --list")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per benchmark (default 7; at least 5)")
    parser.add_argument("--quick", action="store_true", help="3 runs, shorter wrk runs: for iterating, not for figures")
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    # The bench measures production code paths: no test switches.
    for name in ("NUANXIN_TESTING", "SCOPE_GUARD"):
        if os.environ.get(name) not in (None, "", "0"):
            print(f"bench: {name} is set; unset it (the bench measures production settings)", file=sys.stderr)
            return 2
    import django

    django.setup()
    from bench import core, suites  # noqa: F401 - registers the suites

    if args.list:
        for name in core.SUITES:
            print(name)
        return 0
    unknown = [n for n in args.names if n not in core.SUITES]
    if unknown:
        print(f"bench: unknown suite(s) {', '.join(unknown)}; known: {', '.join(core.SUITES)}", file=sys.stderr)
        return 2
    repeat = args.repeat or (3 if args.quick else 7)
    if repeat < 5 and not args.quick:
        print("bench: --repeat below 5 only with --quick", file=sys.stderr)
        return 2

    from bench import db

    started = datetime.now()
    load_before = os.getloadavg()
    try:
        info = db.prepare()
    except db.SchemaMismatch as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    print(
        f"bench: {info['database']}: {info['people']:,} people, {info['households']:,} households, "
        f"~{info['visits_estimate']:,} visits, ~{info['grants_estimate']:,} grants; {repeat} runs each"
        + (" (--quick: not for figures)" if args.quick else "")
        + f"; load average {load_before[0]:.2f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    # The bench's own Redis db (BENCH_REDIS_URL), flushed like the tests flush theirs: cached filter
    # choices and sessions of an earlier run must not make the first request look warm.
    from django.core.cache import cache

    cache.clear()
    ctx = core.Context(repeat=repeat, quick=args.quick)
    outcomes: list[core.Outcome] = []
    for name in args.names or list(core.SUITES):
        print(f"\n== {name}", flush=True)
        try:
            benchmarks = core.SUITES[name](ctx)
            for bench in benchmarks:
                for outcome in core.measure(bench, ctx):
                    core.print_outcome(outcome)
                    outcomes.append(outcome)
        except Exception as error:  # noqa: BLE001 - one broken suite must not hide the others' figures
            traceback.print_exc()
            outcome = core.Outcome(name, "(suite failed)", met=False, note=f"{type(error).__name__}: {error}")
            core.print_outcome(outcome)
            outcomes.append(outcome)

    counted = [o for o in outcomes if o.met is not None]
    met = sum(1 for o in counted if o.met)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{started:%Y%m%d-%H%M%S}.json"
    path.write_text(
        json.dumps(
            {
                "started": started.isoformat(timespec="seconds"),
                "finished": datetime.now().isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                    # A busy machine's figures are noise: say how busy it was.
                    "load_average_before": load_before,
                    "load_average_after": os.getloadavg(),
                },
                "database": info,
                "repeat": repeat,
                "quick": args.quick,
                "outcomes": [o.as_dict() for o in outcomes],
                "met": met,
                "counted": len(counted),
            },
            ensure_ascii=False,
            indent=2,
            default=str,
        )
    )
    print(f"\nbench: results written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    print(f"bench: {met} of {len(counted)} budgets met")
    return 0  # the line above is the verdict; a missed budget is a finding, not a crash


if __name__ == "__main__":
    sys.exit(main())
