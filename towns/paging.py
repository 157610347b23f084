"""Keyset pagination: page N costs what page 1 costs (no OFFSET walk, no COUNT)."""

from dataclasses import dataclass


@dataclass
class KeysetPage:
    items: list
    next_after: int | None  # ?after= for the next page
    prev_before: int | None  # ?before= for the previous page

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
