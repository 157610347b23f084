"""When is each person next due a visit.

next_visit_due = date of the last visit + the shortest interval among the person's categories;
a person never visited is due from the day they were registered. The three columns live on
Beneficiary so that due and overdue lists are index range scans at county scale.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection
from django.utils import timezone

from towns.models import Beneficiary

DUE_SOON_DAYS = 7  # "due soon": next due within the coming week (home page, zones, the registry's filters)


def next_due(*, registered_on: date, last_visited_at, interval_days: int | None) -> date | None:
    if interval_days is None:
        return None
    if last_visited_at is None:
        return registered_on
    return timezone.localtime(last_visited_at).date() + timedelta(days=interval_days)


def refresh_one(person: Beneficiary, *, last_visited_at=None) -> None:
    """Recompute one person's columns after a visit or a change of categories (caller saves in its transaction)."""
    # The categories prefetched with the person if they were (a change of them clears the prefetch).
    intervals = [c.visit_interval_days for c in person.categories.all()]
    person.visit_interval_days = min(intervals) if intervals else None
    if last_visited_at is not None and (person.last_visited_at is None or last_visited_at > person.last_visited_at):
        person.last_visited_at = last_visited_at
    person.next_visit_due = next_due(
        registered_on=person.registered_on, last_visited_at=person.last_visited_at, interval_days=person.visit_interval_days
    )
    Beneficiary._base_manager.filter(pk=person.pk).update(
        visit_interval_days=person.visit_interval_days,
        last_visited_at=person.last_visited_at,
        next_visit_due=person.next_visit_due,
    )


_PG = [
    """UPDATE towns_beneficiary b SET visit_interval_days = s.m
         FROM (SELECT bc.beneficiary_id, MIN(c.visit_interval_days) AS m
                 FROM towns_beneficiary_categories bc JOIN towns_category c ON c.id = bc.category_id
                GROUP BY bc.beneficiary_id) s
        WHERE s.beneficiary_id = b.id AND b.visit_interval_days IS DISTINCT FROM s.m""",
    """UPDATE towns_beneficiary b SET last_visited_at = v.m
         FROM (SELECT beneficiary_id, MAX(visited_at) AS m FROM visits_visit GROUP BY beneficiary_id) v
        WHERE v.beneficiary_id = b.id AND b.last_visited_at IS DISTINCT FROM v.m""",
    """UPDATE towns_beneficiary SET next_visit_due = CASE
            WHEN visit_interval_days IS NULL THEN NULL
            WHEN last_visited_at IS NULL THEN registered_on
            ELSE (last_visited_at AT TIME ZONE %s)::date + visit_interval_days END""",
]

_SQLITE = [
    """UPDATE towns_beneficiary SET visit_interval_days = (
         SELECT MIN(c.visit_interval_days) FROM towns_beneficiary_categories bc
           JOIN towns_category c ON c.id = bc.category_id WHERE bc.beneficiary_id = towns_beneficiary.id)""",
    """UPDATE towns_beneficiary SET last_visited_at = (
         SELECT MAX(visited_at) FROM visits_visit WHERE beneficiary_id = towns_beneficiary.id)""",
    # Stored times are UTC; the day of a visit is the day in Asia/Shanghai (UTC+8, no DST).
    """UPDATE towns_beneficiary SET next_visit_due = CASE
            WHEN visit_interval_days IS NULL THEN NULL
            WHEN last_visited_at IS NULL THEN registered_on
            ELSE date(last_visited_at, '+8 hours', '+' || visit_interval_days || ' days') END""",
]


def refresh_all() -> None:
    """Set-based recompute for everyone (after a bulk load or a change of a category's interval)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in _PG:
                cursor.execute(statement, [timezone.get_current_timezone_name()] if "%s" in statement else None)
        else:
            for statement in _SQLITE:
                cursor.execute(statement)
