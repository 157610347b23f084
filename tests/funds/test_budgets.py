"""经费预算 page (issue 5 §1): what a town has spent against each budget, live, and the standards."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from core.models import AuditRecord
from core.scoping import unscoped
from funds import services
from funds.models import Budget, Disbursement, GoodsItem
from tests.cast import at
from visits.models import Campaign, GrantStandard

PAGE = reverse("funds:budgets")
D = Decimal


@pytest.fixture
def now():
    with time_machine.travel(at(2024, 1, 20, 16), tick=False):
        yield


def grant(
    town_cast,
    *,
    kind="cash",
    amount=None,
    source="town_finance",
    campaign=None,
    approval="not_required",
    approver=None,
    voided=False,
    goods_item=None,
    quantity=None,
    person=None,
):
    """A grant row as the services would leave it (its values are what the page sums)."""
    person = person or town_cast.person
    with unscoped():
        return Disbursement.objects.create(
            town=person.town,
            cell_id=person.cell_id,
            beneficiary=person,
            campaign=campaign,
            kind=kind,
            source=source,
            amount=amount,
            goods_item=goods_item,
            quantity=quantity,
            handed_by=town_cast.cadre.cadre,
            recorded_by=town_cast.cadre.cadre,
            handed_at=at(2024, 1, 10),
            approval_status=approval,
            approved_by=approver.cadre if approver else None,
            status="voided" if voided else "issued",
            void_reason="录入错误" if voided else "",
            voided_at=at(2024, 1, 11) if voided else None,
            idempotency_key=uuid.uuid4(),
        )


@pytest.fixture
def spending(cast, now):
    ys, tc, campaign = cast.yeshan, cast.tongcheng, cast.campaign
    services.budget_set(actor=ys.admin, campaign=campaign, town=ys.town, source="town_finance", amount=D("1000"))
    services.budget_set(actor=ys.admin, campaign=campaign, town=ys.town, source="party_fees", amount=D("500"))
    services.budget_set(actor=tc.admin, campaign=campaign, town=tc.town, source="town_finance", amount=D("500"))
    quilt = GoodsItem.objects.create(name="棉被", unit="床", unit_value=D("150.00"))
    grant(ys, amount=D("300"), campaign=campaign)
    grant(ys, kind="goods", goods_item=quilt, quantity=2, campaign=campaign)  # ¥300 at unit value
    grant(ys, kind="transfer", amount=D("400"), source="party_fees", campaign=campaign)
    grant(ys, amount=D("200"), source="party_fees", campaign=campaign, approval="approved", approver=ys.admin)
    grant(ys, amount=D("100"), campaign=campaign, approval="pending")  # committed, not yet spent
    grant(ys, amount=D("999"), campaign=campaign, voided=True)  # voided: not spent
    grant(ys, amount=D("88"), campaign=campaign, approval="rejected", approver=ys.admin)  # refused: not spent
    grant(ys, amount=D("777"))  # outside the campaign
    grant(ys, amount=D("50"), source="civil_affairs", campaign=campaign)  # spent without a budget
    grant(tc, amount=D("700"), campaign=campaign)
    return cast


def rows_of(response) -> dict:
    return {
        (tb.town.name, row.source): (row.budget, row.spent, row.pending, row.remaining, row.percent, row.over)
        for tb in response.context["overview"]
        for row in tb.rows
    }


def test_a_town_sees_spent_against_each_source(client, spending):
    client.force_login(spending.yeshan.cadre)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.context["campaign"] == spending.campaign  # the running campaign by default
    assert rows_of(response) == {
        ("冶山镇", "town_finance"): (D("1000.00"), D("600.00"), D("100.00"), D("400.00"), 60, False),
        ("冶山镇", "party_fees"): (D("500.00"), D("600.00"), D("0.00"), D("-100.00"), 120, True),
        ("冶山镇", "civil_affairs"): (None, D("50.00"), D("0.00"), None, None, True),
    }
    body = response.content.decode()
    assert "超预算" in body and "未设预算" in body and "-¥100.00" in body
    assert "¥700.00" not in body  # 铜城镇's spending is not 冶山镇's
    assert "已支出" in body and "按“数量×单价”折算" in body  # the rule is stated on the page


def test_a_grid_worker_sees_the_whole_towns_totals(client, spending):
    client.force_login(spending.yeshan.grid_worker)
    # The grid worker answers for one cell; the budget is the town's, and so is its spending.
    grant(spending.yeshan, amount=D("10"), campaign=spending.campaign, person=spending.yeshan.person_other_cell)
    rows = rows_of(client.get(PAGE))
    assert rows[("冶山镇", "town_finance")][1] == D("610.00")


def test_county_roles_see_every_town_in_one_table_in_constant_queries(client, spending, django_assert_max_num_queries):
    client.force_login(spending.county_viewer)
    with django_assert_max_num_queries(9):
        response = client.get(PAGE, {"campaign": spending.campaign.pk})
    rows = rows_of(response)
    assert rows[("铜城镇", "town_finance")] == (D("500.00"), D("700.00"), D("0.00"), D("-200.00"), 140, True)
    assert rows[("冶山镇", "party_fees")][1] == D("600.00")
    assert {s.category.name: s.amount for s in response.context["standards"]} == {
        "独居老人": D("300.00"),
        "困难党员": D("500.00"),
    }
    # One town chosen from the list.
    chosen = client.get(PAGE, {"campaign": spending.campaign.pk, "town": spending.tongcheng.town.pk})
    assert {town for town, _ in rows_of(chosen)} == {"铜城镇"}


def test_more_towns_and_grants_cost_no_more_queries(client, spending):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(spending.inspector)
    with CaptureQueriesContext(connection) as first:
        client.get(PAGE)
    for _ in range(5):
        grant(spending.tongcheng, amount=D("1"), campaign=spending.campaign, source="charity")
    with unscoped():
        from towns.models import Town

        extra = Town.objects.create(code="341181110000", name="郑集镇")
        spending.campaign.towns.add(extra)
    with CaptureQueriesContext(connection) as second:
        client.get(PAGE)
    assert len(second) == len(first)


def test_another_towns_budget_is_a_404_for_a_town_role(client, spending):
    client.force_login(spending.yeshan.admin)
    assert client.get(PAGE, {"town": spending.tongcheng.town.pk}).status_code == 404
    assert client.get(PAGE, {"campaign": 999_999}).status_code == 404


def test_a_town_outside_the_campaign_sees_no_budget(client, cast, now):
    with unscoped():
        other = Campaign.objects.create(name="2024年七一走访", starts_on=date(2024, 1, 1), ends_on=date(2024, 1, 31))
        other.towns.set([cast.tongcheng.town])
    client.force_login(cast.yeshan.cadre)
    response = client.get(PAGE, {"campaign": other.pk})
    assert response.status_code == 404  # a campaign 冶山镇 takes no part in is out of its scope


# --- setting budgets ------------------------------------------------------------------------


def test_a_town_admin_sets_a_budget_and_needs_a_reason_to_change_it(client, cast, now):
    client.force_login(cast.yeshan.admin)
    data = {"campaign": cast.campaign.pk, "town": cast.yeshan.town.pk, "source": "charity", "amount": "2000"}
    response = client.post(reverse("funds:budget_set"), data)
    assert response.status_code == 302
    with unscoped():
        budget = Budget.objects.get(town=cast.yeshan.town, source="charity")
    assert budget.amount == D("2000.00")

    refused = client.post(reverse("funds:budget_set"), {**data, "amount": "2500"})
    assert refused.status_code == 200
    assert "修改原因：修改预算须填写原因" in refused.content.decode()
    budget.refresh_from_db()
    assert budget.amount == D("2000.00")

    client.post(reverse("funds:budget_set"), {**data, "amount": "2500", "reason": "县慈善总会追加拨款"})
    budget.refresh_from_db()
    assert budget.amount == D("2500.00")
    with unscoped():
        record = AuditRecord.objects.filter(action="budget.update").get()
    assert record.reason == "县慈善总会追加拨款" and record.before["amount"] == "2000.00"


@pytest.mark.parametrize(
    ("amount", "message"), [("-1", "预算金额（元）不能为负数"), ("abc", "预算金额（元）须为数字"), ("1.234", "最多保留两位小数")]
)
def test_bad_budget_amounts_are_refused_by_field(client, cast, now, amount, message):
    client.force_login(cast.yeshan.admin)
    data = {"campaign": cast.campaign.pk, "town": cast.yeshan.town.pk, "source": "charity", "amount": amount}
    response = client.post(reverse("funds:budget_set"), data)
    assert response.status_code == 200 and message in response.content.decode()


def test_a_town_admin_cannot_set_another_towns_budget(client, cast, now):
    client.force_login(cast.yeshan.admin)
    data = {"campaign": cast.campaign.pk, "town": cast.tongcheng.town.pk, "source": "charity", "amount": "1"}
    response = client.post(reverse("funds:budget_set"), data)
    assert response.status_code == 200 and "镇（街道）不存在或不在您的管辖范围内" in response.content.decode()
    with unscoped():
        assert not Budget.objects.exists()


def test_only_budget_editors_may_post(client, cast):
    for user in (cast.yeshan.cadre, cast.yeshan.grid_worker, cast.county_viewer, cast.inspector):
        client.force_login(user)
        assert client.post(reverse("funds:budget_set"), {}).status_code == 403


# --- grant standards ------------------------------------------------------------------------


def test_county_roles_set_standards_with_a_reason_to_change(client, cast, now):
    client.force_login(cast.county_viewer)
    category = cast.categories["poor_party_member"]
    data = {"campaign": cast.campaign.pk, "category": category.pk, "amount": "600"}
    refused = client.post(reverse("funds:standard_set"), data)
    assert refused.status_code == 200 and "修改慰问标准须填写原因" in refused.content.decode()
    assert client.post(reverse("funds:standard_set"), {**data, "reason": "县委常委会研究提高标准"}).status_code == 302
    assert GrantStandard.objects.get(campaign=cast.campaign, category=category).amount == D("600.00")
    with unscoped():
        record = AuditRecord.objects.get(action="grantstandard.update")
    assert record.reason == "县委常委会研究提高标准" and record.after["amount"] == "600.00"
    page = client.get(PAGE).content.decode()
    assert "困难党员" in page and "¥600.00" in page


def test_town_roles_cannot_set_standards(client, cast):
    for user in (cast.yeshan.admin, cast.yeshan.cadre, cast.inspector):
        client.force_login(user)
        assert client.post(reverse("funds:standard_set"), {}).status_code == 403
