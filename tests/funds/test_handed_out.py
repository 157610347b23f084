"""One definition of "handed out" (issue 12 §1): Disbursement.objects.handed_out().

Every page, file and rule that counts grants agrees with it — the grant list's 已发放 filter, the
budgets page, the printed roster and its export, the inspection rules and the dashboard rollups'
raw SQL — on data holding every state a grant can be in: needing no approval, pending (待审批),
approved, rejected (未通过), voided, and a void reissued as a correction.
"""

import uuid
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.db.models import Sum
from django.http import QueryDict

from core.scoping import unscoped
from funds import services
from funds.budget_selectors import budget_overview
from funds.grant_selectors import grant_page
from funds.inspection import Context
from funds.inspection_selectors import roster
from funds.models import Disbursement, GoodsItem, handed_out_sql
from reports.exporters import RosterExporter
from reports.models import CellDay, TownDay
from reports.rollups import refresh_campaign
from tests.cast import at, give_stock
from tests.funds.grant_objects import make_grant

NOW = at(2024, 1, 12, 16)


@pytest.fixture
def grants(cast, settings):
    """Each state once, in 冶山镇's campaign; returns (all grants by name, the ones handed out)."""
    settings.GRANT_APPROVAL_THRESHOLD_DEFAULT = Decimal("1000")
    ys = cast.yeshan
    rice = GoodsItem.objects.create(name="大米", unit="袋", unit_value=Decimal("50.00"))
    give_stock(ys.town, rice, 10)
    with time_machine.travel(NOW, tick=False):
        g = {
            "plain": make_grant(ys, amount="300.00", campaign=cast.campaign),
            "pending": make_grant(ys, amount="1500.00", campaign=cast.campaign),
            "approved": make_grant(ys, amount="2000.00", campaign=cast.campaign),
            "rejected": make_grant(ys, amount="3000.00", campaign=cast.campaign, person=ys.person_other_cell),
            "voided": make_grant(ys, amount="400.00", campaign=cast.campaign, person=ys.person_other_cell),
            "original": make_grant(ys, amount="500.00", campaign=cast.campaign, person=ys.person_other_cell),
            "goods": make_grant(ys, kind="goods", goods_item=rice, quantity=2, campaign=cast.campaign),
        }
        services.disbursement_approve(actor=ys.admin, disbursement=g["approved"], approve=True, note="同意")
        services.disbursement_approve(actor=ys.admin, disbursement=g["rejected"], approve=False, note="超出标准")
        services.disbursement_void(actor=ys.admin, disbursement=g["voided"], reason="重复登记")
        g["correction"], _ = services.disbursement_reissue(
            actor=ys.admin,
            original=g["original"],
            reason="金额录入错误，应为450元",
            idempotency_key=uuid.uuid4(),
            amount=Decimal("450.00"),
        )
    with unscoped():
        for grant in g.values():
            grant.refresh_from_db()
    handed = {g[name].pk for name in ("plain", "approved", "correction", "goods")}
    return g, handed


def test_the_queryset_counts_issued_grants_needing_no_approval_or_approved(grants):
    g, handed = grants
    assert (g["pending"].approval_status, g["rejected"].approval_status) == ("pending", "rejected")
    assert (g["voided"].status, g["original"].status, g["correction"].replaces_id) == ("voided", "voided", g["original"].pk)
    with unscoped():
        assert set(Disbursement.objects.handed_out().values_list("pk", flat=True)) == handed
        assert set(Disbursement.objects.pending_approval().values_list("pk", flat=True)) == {g["pending"].pk}
    assert {grant.pk for grant in g.values() if grant.counts_as_handed_out} == handed


def test_the_rollups_sql_is_the_querysets_definition(grants, cast):
    """The raw SQL the dashboards are built with selects exactly the queryset's grants, and the
    rollups' grant figures equal the queryset's sums."""
    _, handed = grants
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT d.id FROM funds_disbursement d WHERE {handed_out_sql('d')}")  # noqa: S608
        assert {row[0] for row in cursor.fetchall()} == handed
    refresh_campaign(cast.campaign.pk)
    with unscoped():
        expected = Disbursement.objects.handed_out().filter(campaign=cast.campaign)
        cash = expected.exclude(kind="goods").aggregate(s=Sum("amount"))["s"]
        goods = sum(d.quantity * d.goods_item.unit_value for d in expected.filter(kind="goods"))
        for table in (CellDay, TownDay):
            figures = table.objects.filter(campaign_id=cast.campaign.pk).aggregate(
                grants=Sum("grants"), cash=Sum("cash"), goods=Sum("goods_value")
            )
            assert (figures["grants"], figures["cash"], figures["goods"]) == (4, cash, goods) == (4, Decimal("2750.00"), 100)


def test_budgets_count_handed_out_and_show_pending_apart(grants, cast):
    town_budget = budget_overview(cast.county_viewer, cast.campaign, [cast.yeshan.town])[0]
    assert town_budget.spent == Decimal("2850.00")  # 300 + 2000 + 450 + rice 2 × 50
    assert town_budget.pending == Decimal("1500.00")


def test_the_grant_lists_states_follow_the_definition(grants, cast):
    g, handed = grants
    user = cast.yeshan.admin
    pages = {state: grant_page(user, QueryDict(f"state={state}"))[1] for state in ("issued", "pending", "rejected", "voided")}
    assert {d.pk for d in pages["issued"]} == handed
    assert {d.pk for d in pages["pending"]} == {g["pending"].pk}
    assert {d.pk for d in pages["rejected"]} == {g["rejected"].pk}
    assert {d.pk for d in pages["voided"]} == {g["voided"].pk, g["original"].pk}


def test_the_printed_roster_and_its_export_list_what_was_handed_out(grants, cast):
    _, handed = grants
    user = cast.yeshan.admin
    params = QueryDict(f"campaign={cast.campaign.pk}")
    printed = roster(user, params)
    assert {d.pk for d in printed.rows} == handed
    assert (printed.voided, printed.pending) == (2, 2)  # voided; pending or rejected: named in the note
    exporter = RosterExporter(user, {"campaign": cast.campaign.pk})
    assert set(exporter.queryset().values_list("pk", flat=True)) == handed


def test_the_inspection_rules_read_the_same_grants(grants):
    _, handed = grants
    with unscoped():
        assert set(Context(now=NOW).handed().values_list("pk", flat=True)) == handed
