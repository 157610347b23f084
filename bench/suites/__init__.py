"""The benchmark suites; importing this package registers them (order = run order)."""

from bench.suites import (  # noqa: F401, I001 - import order is run order
    registry_list,
    visit_post,
    audit_chains,
    bulletin,
    coverage,
    dashboard,
    export_read,
    export_write,
    roster_import,
    roster_import_big,
    explain,
    throughput,
)
