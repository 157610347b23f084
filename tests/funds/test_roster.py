"""The printable grant roster (发放花名册, issue 5 §5): masked IDs, a signature column, totals, voided grants left
out with a note, every view recorded as a personal-data access, constant queries, scoped to the reader's town."""

import pytest
from django.test import override_settings
from django.urls import reverse

from core import idnumbers
from core.models import AuditRecord
from core.scoping import unscoped
from funds.models import Disbursement
from tests.cast import CANARY_ID, CANARY_NAME, at
from tests.dbroles import past_the_triggers
from tests.funds.inspection_objects import clean_budgets, gift, grant, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def season(cast):
    clean_budgets(cast)
    ys = cast.yeshan
    grants = [
        grant(cast, ys, ys.person, amount="300.00", proxy_name="王建国", proxy_relation="儿子"),
        grant(cast, ys, ys.person, kind="goods", goods=gift("80.00"), quantity=2),
        grant(cast, ys, ys.person_other_cell, amount="200.00", kind="transfer"),
        grant(cast, cast.tongcheng, cast.tongcheng.person, amount="300.00"),
    ]
    voided = grant(cast, ys, ys.person_other_cell, amount="500.00")
    with unscoped(), past_the_triggers():  # a grant voided back then, as fixture
        Disbursement.objects.filter(pk=voided.pk).update(
            status="voided", void_reason="金额错误", voided_at=at(2024, 1, 9), voided_by=ys.admin.cadre
        )
    return cast, grants, voided


def test_roster_masks_ids_has_signature_column_and_totals(client, season, django_assert_max_num_queries):
    cast, grants, voided = season
    client.force_login(cast.inspector)
    url = reverse("funds:roster") + f"?campaign={cast.campaign.pk}&town={cast.yeshan.town.pk}"
    with django_assert_max_num_queries(22):
        response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    for header in (
        "序号",
        "镇/村/网格",
        "身份证号",
        "类别",
        "慰问品",
        "发放方式",
        "领取人签名/手印",
        "代领人及关系",
        "发放人",
        "监督人",
        "日期",
    ):
        assert header in body
    full = idnumbers.decrypt(cast.yeshan.person.id_number_encrypted)
    assert full not in body and cast.yeshan.person.id_number_masked in body
    rows = response.context["roster"].rows
    assert [g.pk for g in rows] == [grants[0].pk, grants[1].pk, grants[2].pk]
    assert voided.pk not in [g.pk for g in rows] and "另有 1 笔已作废的发放未列入" in body
    assert "王建国（儿子）" in body and "测试礼包×2" in body and "独居老人" in body
    roster = response.context["roster"]
    assert str(roster.money_total) == "500.00" and str(roster.goods_total) == "160.00" and roster.people == 2
    assert "@media print" in body and "A4 landscape" in body and "table-header-group" in body
    with unscoped():
        record = AuditRecord.objects.filter(action="personal_data.export").latest("id")
    assert record.actor_id == cast.inspector.pk and record.after["what"] == "发放花名册" and record.after["count"] == 2


def test_query_count_does_not_grow_with_rows(client, season, django_assert_max_num_queries):
    cast, *_ = season
    for i in range(20):
        who = person(cast.yeshan, f"花名册{i}", categories=[cast.categories["elderly_alone"]])
        grant(cast, cast.yeshan, who)
    client.force_login(cast.yeshan.admin)
    with django_assert_max_num_queries(22):
        response = client.get(reverse("funds:roster"))
    assert len(response.context["roster"].rows) == 23


def test_town_roles_see_their_own_town_only(client, season):
    cast, *_ = season
    client.force_login(cast.yeshan.cadre)
    response = client.get(reverse("funds:roster"))
    body = response.content.decode()
    assert response.status_code == 200 and "李桂英" in body and CANARY_NAME not in body
    # Naming the other town in the filter is refused, not honoured.
    response = client.get(reverse("funds:roster"), {"town": cast.tongcheng.town.pk})
    assert response.status_code == 200 and CANARY_NAME not in response.content.decode() and not response.context["roster"].rows
    assert CANARY_ID not in response.content.decode()
    client.force_login(cast.yeshan.grid_worker)
    assert client.get(reverse("funds:roster")).status_code == 403


def test_too_many_rows_asks_for_a_narrower_filter(client, season):
    cast, *_ = season
    client.force_login(cast.county_viewer)
    response = client.get(reverse("funds:roster"))
    assert response.context["roster"].needs_town and "请先选择镇（街道）" in response.content.decode()
    with override_settings(INSPECTION_ROSTER_MAX_ROWS=2):
        response = client.get(reverse("funds:roster"), {"town": cast.yeshan.town.pk})
    assert response.context["roster"].too_many and "缩小范围" in response.content.decode()
    with unscoped():
        assert not AuditRecord.objects.filter(action="personal_data.export").exists()
