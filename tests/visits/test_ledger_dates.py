"""走访台账 dates (VisitFilter): local days, filtered as a range of visited_at so an index serves."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cast import at
from visits import services as visit_services
from visits.ledger_selectors import ledger_filter

pytestmark = pytest.mark.django_db


def _visit(tc, when):
    return visit_services.visit_create(actor=tc.cadre, beneficiary=tc.person, visited_at=when, idempotency_key=uuid.uuid4())[0]


def test_dates_are_local_days_at_their_edges(cast):
    ys = cast.yeshan
    # Shanghai is UTC+8: 00:30 on the 10th is still the 9th in UTC, 23:50 on the 10th is the 10th.
    early, late = _visit(ys, at(2024, 1, 10, 0, 30)), _visit(ys, at(2024, 1, 10, 23, 50))
    before, after = _visit(ys, at(2024, 1, 9, 23, 59)), _visit(ys, at(2024, 1, 11, 0, 0))

    def ids(**params):
        return set(ledger_filter(ys.cadre, params).qs.values_list("pk", flat=True))

    assert ids(date_from="2024-01-10", date_to="2024-01-10") == {early.pk, late.pk}
    assert ids(date_from="2024-01-10") >= {early.pk, late.pk, after.pk} and before.pk not in ids(date_from="2024-01-10")
    assert ids(date_to="2024-01-09") >= {before.pk} and not ids(date_to="2024-01-09") & {early.pk, late.pk, after.pk}


def test_a_date_range_compares_visited_at_itself(cast):
    """No cast of visited_at to a date: the (visited_at) and (town, visited_at) indexes serve the range."""
    with CaptureQueriesContext(connection) as queries:
        list(ledger_filter(cast.county_viewer, {"date_from": "2024-01-01", "date_to": "2024-01-31"}).qs.values_list("pk"))
    sql = queries.captured_queries[-1]["sql"]
    assert '"visits_visit"."visited_at" >=' in sql and '"visits_visit"."visited_at" <' in sql
    assert "AT TIME ZONE" not in sql.upper() and "::date" not in sql
