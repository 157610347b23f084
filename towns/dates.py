"""One Chinese date style for text and messages: "2024年1月8日", no zero padding, the year left out only
when it is this year ("1月8日"). Tables use 2024-01-08 (the `Y-m-d` format) consistently.

Templates: `{{ day|cn_date }}`, `{{ moment|cn_datetime }}` (towns/templatetags/nuanxin.py, a builtin).
Python messages: `cn_date(day)`.
"""

from datetime import date, datetime

from django.utils import timezone


def _as_local(value):
    if isinstance(value, datetime):
        return timezone.localtime(value) if timezone.is_aware(value) else value
    return value


def cn_date(value, *, today: date | None = None, full: bool = False) -> str:
    """2024年1月8日, or 1月8日 in the current year; "" for no date.

    full: always with the year, for text that is stored and read in later years (flag summaries).
    """
    if not isinstance(value, (date, datetime)):
        return ""
    value = _as_local(value)
    day = f"{value.month}月{value.day}日"
    if not full and value.year == (today or timezone.localdate()).year:
        return day
    return f"{value.year}年{day}"


def cn_datetime(value, *, today: date | None = None, full: bool = False) -> str:
    """2024年1月8日 14:05 (local time), or 1月8日 14:05 in the current year; "" for no time."""
    if not isinstance(value, datetime):
        return cn_date(value, today=today, full=full)
    value = _as_local(value)
    return f"{cn_date(value, today=today, full=full)} {value:%H:%M}"
