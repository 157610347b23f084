"""走访台账 and 发放记录 list newest first (by the visit's or the handing-out's time, ties by id), and
their keyset pages walk forward and back without losing or repeating a row (issue 12 §1)."""

import uuid

import pytest
from django.urls import reverse

from funds import grant_selectors
from tests.cast import at
from tests.funds.grant_objects import make_grant
from visits import ledger_selectors
from visits import services as visit_services

pytestmark = pytest.mark.django_db

# A backdated entry (补录) comes last by id but sits by its date; two share one minute.
MOMENTS = [
    at(2024, 1, 9, 10),
    at(2024, 1, 12, 9),
    at(2024, 1, 8, 15),
    at(2024, 1, 12, 9),
    at(2024, 1, 3, 8),
    at(2024, 1, 11, 16),
    at(2024, 1, 2, 9),
]


def _walk(page_of, user, expected):
    """Forward with ?after= to the end, then back with ?before= to the start."""
    forward, params, pages = [], {}, []
    while True:
        page = page_of(user, params)[1]
        pages.append([row.pk for row in page])
        forward += pages[-1]
        if not page.next_after:
            break
        params = {"after": page.next_after}
    assert forward == expected
    backward = [pages[-1]]
    page = page_of(user, params)[1]
    while page.prev_before:
        page = page_of(user, {"before": page.prev_before})[1]
        backward.append([row.pk for row in page])
    assert list(reversed(backward)) == pages


def test_the_visit_ledger_lists_the_newest_visit_first_and_pages_both_ways(cast, client, monkeypatch):
    ys = cast.yeshan
    visits = [
        visit_services.visit_create(actor=ys.cadre, beneficiary=ys.person, visited_at=when, idempotency_key=uuid.uuid4())[0]
        for when in MOMENTS
    ]
    expected = [v.pk for v in sorted(visits, key=lambda v: (v.visited_at, v.pk), reverse=True)]
    monkeypatch.setattr(ledger_selectors, "LEDGER_PAGE_SIZE", 3)
    _walk(ledger_selectors.ledger_page, ys.cadre, expected)
    client.force_login(ys.cadre)
    page = client.get(reverse("visits:visit_list")).context["page"]
    assert [v.pk for v in page] == expected[:3]
    assert client.get(reverse("visits:visit_list"), {"after": "not-a-cursor"}).status_code == 200


def test_the_grant_list_lists_the_newest_grant_first_and_pages_both_ways(cast, client, monkeypatch):
    grants = [make_grant(cast.yeshan, amount=f"{100 + i}.00", handed_at=when) for i, when in enumerate(MOMENTS)]
    expected = [g.pk for g in sorted(grants, key=lambda g: (g.handed_at, g.pk), reverse=True)]
    monkeypatch.setattr(grant_selectors, "GRANT_PAGE_SIZE", 3)
    _walk(grant_selectors.grant_page, cast.yeshan.cadre, expected)
    client.force_login(cast.inspector)
    page = client.get(reverse("funds:grant_list")).context["page"]
    assert [g.pk for g in page] == expected[:3]
