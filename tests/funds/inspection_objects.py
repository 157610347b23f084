"""Grants with history for the inspection tests: written with the ORM inside unscoped() so that handing,
recording and visit times can lie in the past (the services stamp the present)."""

import hashlib
import uuid
from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from django.db import transaction

from core import idnumbers
from core.scoping import unscoped
from funds.models import Budget, Disbursement, GoodsItem, Receipt
from tests.cast import at, make_person
from tests.dbroles import past_the_triggers
from visits.models import Visit

_seq = count(1)
NOW = at(2024, 3, 1)  # the runs' clock: every grant below is more than 15 days old


def budget(cast, town, amount="100000.00", source="town_finance"):
    with unscoped():
        return Budget.objects.create(campaign=cast.campaign, town=town, source=source, amount=Decimal(amount))


def clean_budgets(cast):
    for tc in (cast.yeshan, cast.tongcheng):
        for source in ("town_finance", "civil_affairs"):
            budget(cast, tc.town, source=source)


def person(tc, name, *, categories, born=date(1950, 5, 5), household=None):
    with unscoped():
        return make_person(
            household or tc.household,
            name=name,
            id_number=idnumbers.make_number("341181", born, next(_seq) * 2 + 1),
            categories=categories,
        )


def receipt(tc, *, kind="signature", sha=None, by=None):
    with unscoped():
        return Receipt.objects.create(
            town=tc.town,
            kind=kind,
            file=f"receipts/test/{next(_seq)}.jpg",
            sha256=sha or hashlib.sha256(f"img-{next(_seq)}".encode()).hexdigest(),
            uploaded_by=(by or tc.grid_worker).cadre,
        )


def grant(
    cast,
    tc,
    who,
    *,
    handed_at=None,
    amount="300.00",
    kind="cash",
    goods=None,
    quantity=None,
    by=None,
    recorded_by=None,
    recorded_at=None,
    visit=True,
    with_receipt=True,
    campaign="default",
    source="town_finance",
    **more,
):
    """A handed-out grant that breaks no rule unless told to: visited, signed for, recorded on time."""
    handed_at = handed_at or at(2024, 1, 8)
    by = by or tc.grid_worker
    campaign = cast.campaign if campaign == "default" else campaign
    with unscoped(), transaction.atomic():
        visit_row = None
        if visit:
            visit_row = Visit.objects.create(
                beneficiary=who,
                household_id=who.household_id,
                town_id=who.town_id,
                cell_id=who.cell_id,
                campaign=campaign,
                visited_at=handed_at - timedelta(minutes=30),
                recorded_by=by.cadre,
                idempotency_key=uuid.uuid4(),
            )
        with past_the_triggers():  # a grant as the rules will meet it, not a service write under test
            row = Disbursement.objects.create(
                town_id=who.town_id,
                cell_id=who.cell_id,
                beneficiary=who,
                campaign=campaign,
                visit=visit_row,
                kind=kind,
                source=source,
                amount=Decimal(amount) if kind != "goods" else None,
                goods_item=goods,
                quantity=quantity,
                handed_by=by.cadre,
                handed_at=handed_at,
                recorded_by=(recorded_by or by).cadre,
                receipt=receipt(tc) if with_receipt and kind != "transfer" else None,
                idempotency_key=uuid.uuid4(),
                **more,
            )
            Disbursement.objects.filter(pk=row.pk).update(recorded_at=recorded_at or handed_at + timedelta(minutes=20))
    row.refresh_from_db()
    return row


def gift(value="100.00"):
    return GoodsItem.objects.get_or_create(name="测试礼包", defaults={"unit": "份", "unit_value": Decimal(value)})[0]
