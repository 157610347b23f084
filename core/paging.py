"""Keyset pagination: page N costs what page 1 costs (no OFFSET walk, no COUNT)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q


@dataclass
class KeysetPage:
    items: list
    next_after: int | str | None  # ?after= for the next page (an id, or a ledger's cursor)
    prev_before: int | str | None  # ?before= for the previous page

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def keyset_page(queryset, params, size: int = 50) -> KeysetPage:
    """Rows ordered by id; ``after``/``before`` in the query string move through them."""
    after, before = _int(params.get("after")), _int(params.get("before"))
    if before is not None:
        rows = list(queryset.filter(pk__lt=before).order_by("-pk")[: size + 1])
        has_more_before = len(rows) > size
        rows = list(reversed(rows[:size]))
        return KeysetPage(rows, rows[-1].pk if rows else None, rows[0].pk if rows and has_more_before else None)
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    rows = list(queryset.order_by("pk")[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows, rows[-1].pk if rows and has_more else None, rows[0].pk if rows and after is not None else None)


# Ledgers (走访台账, 发放记录) list newest first by their date, then by id: the cursor carries both,
# as "<microseconds since 1970 UTC>_<id>" (exact integers, URL-safe).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor(row, field: str) -> str:
    return f"{(getattr(row, field) - _EPOCH) // timedelta(microseconds=1)}_{row.pk}"


def _parse_cursor(value) -> tuple[datetime, int] | None:
    try:
        micros, pk = str(value).split("_")
        return _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except (TypeError, ValueError, OverflowError):
        return None


def newest_first_page(queryset, params, size: int, field: str) -> KeysetPage:
    """Rows newest first by ``field`` (a datetime), ties by id; ``after``/``before`` carry cursors.

    The ``field <= t`` bound alongside the OR lets the (…, field) indexes start the scan at the
    cursor, so page N costs what page 1 costs."""
    after, before = _parse_cursor(params.get("after")), _parse_cursor(params.get("before"))
    newest = (f"-{field}", "-pk")
    if before is not None:
        moment, pk = before
        newer = Q(**{f"{field}__gt": moment}) | Q(**{field: moment, "pk__gt": pk})
        rows = list(queryset.filter(**{f"{field}__gte": moment}).filter(newer).order_by(field, "pk")[: size + 1])
        has_more_before = len(rows) > size
        rows = list(reversed(rows[:size]))
        return KeysetPage(
            rows, _cursor(rows[-1], field) if rows else None, _cursor(rows[0], field) if rows and has_more_before else None
        )
    if after is not None:
        moment, pk = after
        older = Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "pk__lt": pk})
        queryset = queryset.filter(**{f"{field}__lte": moment}).filter(older)
    rows = list(queryset.order_by(*newest)[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows,
        _cursor(rows[-1], field) if rows and has_more else None,
        _cursor(rows[0], field) if rows and after is not None else None,
    )


@dataclass
class Total:
    """How many rows a list's filters match, counted up to a cap: ``n`` exact when not ``more``."""

    n: int
    more: bool


def capped_total(queryset, cap: int) -> Total:
    """``SELECT COUNT(*) FROM (… LIMIT cap + 1)``: exact up to the cap, and never a count over a
    whole big table (a county's visits are ~1 M rows; reading at most cap + 1 index entries is a
    few milliseconds). Lists show "共 N 条", or "N 条以上" past the cap."""
    n = queryset.order_by().values("pk")[: cap + 1].count()
    return Total(min(n, cap), n > cap)
