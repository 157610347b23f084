"""What a cell of an export holds: columns, number formats, local time, text cut to Excel's limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings

MONEY_FORMAT = '"¥"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
NUMBER_FORMATS = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "percent": PERCENT_FORMAT}
FORMULA_LIKE = ("=", "+", "-", "@", "\t", "\r")
TEXT_LIMIT = 32767  # characters in one cell: Excel's limit; a longer note is cut, not refused


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 12
    kind: str = "text"  # text, longtext, date, datetime, money, int, percent
    total: bool = False  # summed in the totals row


class Totals(tuple):
    """The last row: a writer may set it in bold."""


def localizer() -> Callable:
    """datetime (aware, UTC from the database) → naive local wall time: spreadsheets have no time zones,
    the office reads Asia/Shanghai time. Bound once per export: the per-row cost is one C call."""
    tz = ZoneInfo(settings.TIME_ZONE)

    def local(value):
        return value.astimezone(tz).replace(tzinfo=None) if value is not None else None

    return local


def cut(value):
    """A note longer than a cell may hold is cut, not refused (Excel's limit)."""
    return value[:TEXT_LIMIT] if value and len(value) > TEXT_LIMIT else (value or None)
