"""The bench's machinery: a Benchmark, the registry of suites, interleaved timing, the report.

A *suite* is a function registered with ``@suite("name")`` that takes the Context and returns
Benchmarks. A Benchmark times ``ours()`` against ``baseline()`` alternately (ours first on even
rounds, the baseline first on odd ones, so drift on a busy machine hits both) and ``check``
turns the medians into met / not met / informational. Benchmarks that are not a timing pair
(EXPLAIN, wrk) give ``run`` instead, which returns the Outcome itself.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SUITES: dict[str, Callable[[Context], list[Benchmark]]] = {}


def suite(name: str):
    """Register a suite builder under ``name`` (what `python -m bench NAME` selects)."""

    def register(builder):
        SUITES[name] = builder
        return builder

    return register


@dataclass
class Context:
    repeat: int = 5
    quick: bool = False
    cache: dict = field(default_factory=dict)  # things suites share (users, cursors, files)


@dataclass
class Outcome:
    name: str
    budget: str
    ours: list[float] = field(default_factory=list)  # seconds per run
    baseline: list[float] = field(default_factory=list)
    met: bool | None = None  # None: informational, not counted in "K of N"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ours_median(self) -> float | None:
        return statistics.median(self.ours) if self.ours else None

    @property
    def baseline_median(self) -> float | None:
        return statistics.median(self.baseline) if self.baseline else None

    @property
    def ratio(self) -> float | None:
        if self.ours_median is None or not self.baseline_median:
            return None
        return self.ours_median / self.baseline_median

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "budget": self.budget,
            "ours_s": self.ours,
            "baseline_s": self.baseline,
            "ours_median_s": self.ours_median,
            "baseline_median_s": self.baseline_median,
            "ratio": self.ratio,
            "met": self.met,
            "note": self.note,
            "extra": self.extra,
        }


@dataclass
class Benchmark:
    name: str
    budget: str  # the budget in words, as docs/conventions.md states it
    ours: Callable[[], Any] | None = None  # one run of our code
    baseline: Callable[[], Any] | None = None  # one run of the raw baseline
    # (outcome) -> (met or None for informational, note); called after the timings.
    check: Callable[[Outcome], tuple[bool | None, str]] | None = None
    # Instead of ours/baseline: measures itself, giving one Outcome or several.
    run: Callable[[Context], Outcome | list[Outcome]] | None = None
    setup: Callable[[], None] | None = None
    teardown: Callable[[], None] | None = None
    warmup: int = 1
    repeat: int | None = None  # overrides Context.repeat (e.g. a slow import)


def timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(bench: Benchmark, ctx: Context) -> list[Outcome]:
    if bench.run is not None:
        result = bench.run(ctx)
        return result if isinstance(result, list) else [result]
    outcome = Outcome(bench.name, bench.budget)
    repeat = bench.repeat or ctx.repeat
    if bench.setup:
        bench.setup()
    try:
        for _ in range(bench.warmup):
            bench.ours()
            if bench.baseline:
                bench.baseline()
        for round_ in range(repeat):
            pair = [("ours", bench.ours), ("baseline", bench.baseline)]
            if round_ % 2:
                pair.reverse()
            for which, fn in pair:
                if fn is not None:
                    getattr(outcome, which).append(timed(fn))
    finally:
        if bench.teardown:
            bench.teardown()
    if bench.check:
        outcome.met, outcome.note = bench.check(outcome)
    return [outcome]


def ratio_check(limit: float, *, absolute_s: float | None = None):
    """A check: ratio ≤ limit (and, if given, our median ≤ absolute_s seconds)."""

    def check(outcome: Outcome):
        ok = outcome.ratio is not None and outcome.ratio <= limit
        notes = [f"ratio {fmt_ratio(outcome.ratio)} {'≤' if ok else '>'} {limit}×"]
        if absolute_s is not None:
            fast = outcome.ours_median is not None and outcome.ours_median <= absolute_s
            notes.append(f"median {fmt_s(outcome.ours_median)} {'≤' if fast else '>'} {fmt_s(absolute_s)}")
            ok = ok and fast
        return ok, "; ".join(notes)

    return check


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}×"


def verdict(met: bool | None) -> str:
    return {True: "met", False: "NOT MET", None: "info"}[met]


def print_outcome(outcome: Outcome) -> None:
    print(
        f"{outcome.name:<44} ours {fmt_s(outcome.ours_median):>10}  baseline {fmt_s(outcome.baseline_median):>10}"
        f"  ratio {fmt_ratio(outcome.ratio):>7}  [{verdict(outcome.met)}]",
        flush=True,
    )
    print(f"    budget: {outcome.budget}", flush=True)
    if outcome.note:
        for line in outcome.note.splitlines():
            print(f"    {line}", flush=True)
