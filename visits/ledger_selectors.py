"""Reads for the 走访台账 list (issue 7 §3): the filtered visits of a scope, one keyset page at a time.

The same VisitFilter narrows the export (reports/exporters.py LedgerExporter), so the file holds the
rows the page lists.
"""

from __future__ import annotations

from core.paging import KeysetPage, capped_total, newest_first_page
from visits.filters import VisitFilter
from visits.models import Visit

LEDGER_PAGE_SIZE = 50
# The ledgers never COUNT the whole visit table (ENGINEERING.md): exact up to this, else "10,000 条以上".
LEDGER_TOTAL_CAP = 10_000


def ledger_filter(user, params, queryset=None) -> VisitFilter:
    """The ledger's FilterSet over the user's visits (the list page and the export both call this)."""
    base = Visit.objects.for_user(user) if queryset is None else queryset
    return VisitFilter(params or None, queryset=base, user=user)


def ledger_page(user, params) -> tuple[VisitFilter, KeysetPage]:
    base = (
        Visit.objects.for_user(user)
        .select_related("beneficiary", "town", "cell__village")
        .prefetch_related("visitors")
        .only(
            "id",
            "visited_at",
            "kind",
            "notes",
            "beneficiary__id",
            "beneficiary__name",
            "town__id",
            "town__name",
            "cell__id",
            "cell__name",
            "cell__village__id",
            "cell__village__name",
        )
    )
    filterset = ledger_filter(user, params, base)
    page = newest_first_page(filterset.qs, params, LEDGER_PAGE_SIZE, "visited_at")
    page.total = capped_total(filterset.qs, LEDGER_TOTAL_CAP)
    return filterset, page
