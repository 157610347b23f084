"""Spreadsheet exports (issue 7 §3): an exporter base class and the five office spreadsheets.

Like pretix's exporters: a subclass names its columns, reads its rows in batches and shapes them
into plain tuples; the base converts the few values a spreadsheet needs converted, counts, totals,
reports progress and hands the rows to a writer. Rows come from ``Model.objects.for_user(user)``
narrowed by the list page's own FilterSet (the same class the page uses, so the file holds the
rows the page lists), read with ``.values_list().iterator(chunk_size)``: a server-side cursor on
PostgreSQL, no model instances, memory flat in the row count.

Cells: a Chinese header row, bold and frozen; dates as dates; amounts as numbers in ¥ #,##0.00;
text starting with = + - @ tab or CR stored as a string cell, never a formula; ID numbers only
ever as ``id_number_masked``. The writer is rustpy-xlsxwriter (ARCHITECTURE.md "Exports": the
fastest maintained writer that meets the budget); openpyxl's write-only mode is the fallback.

One module per spreadsheet (ledger, roster, registry, followups, coverage) on ``base.Exporter``;
``cells`` holds the column kinds and formats, ``writers`` the workbook writers. This package's
own module is the registry of exporters by name and ``run_export``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from core.audit import record_personal_data_access
from core.permissions import require
from reports.exporters.base import Exporter
from reports.exporters.coverage import CoverageExporter
from reports.exporters.followups import FollowUpExporter
from reports.exporters.ledger import LedgerExporter
from reports.exporters.registry import RegistryExporter
from reports.exporters.roster import RosterExporter

EXPORTERS: dict[str, type[Exporter]] = {
    cls.name: cls for cls in (LedgerExporter, RosterExporter, RegistryExporter, FollowUpExporter, CoverageExporter)
}


def run_export(name: str, user, params, out, *, check_permission: bool = True) -> int:
    """Write one export and leave the personal-data audit record; returns the row count.

    The shell (``manage.py export``) skips the role check: whoever runs it already holds the server.
    """
    if check_permission:
        require(user, "export.personal")
    exporter = EXPORTERS[name](user, params)
    problems = exporter.errors()
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        count = exporter.write(out)
        record_personal_data_access(actor=user, what=exporter.title, count=count, filters={"export": name, **exporter.filters()})
    return count
