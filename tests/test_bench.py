"""The bench's machinery (no timings here: `make bench` measures, tests only check the wiring)."""

import pytest
from django.urls import Resolver404, resolve

from bench import core


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

    assert list(core.SUITES) == ["registry", "visit_post", "bulletin", "export_read", "roster_import", "explain", "throughput"]
