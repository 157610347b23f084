"""`make bench`: county-scale benchmarks, each against a raw baseline in the same run (issue 8).

Timings live here, never in tests: tests pin query counts, the bench measures time.
See ARCHITECTURE.md "Benchmarks" for how to add one.
"""
