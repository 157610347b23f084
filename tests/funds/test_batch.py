"""集中发放 (issue 5 §2): a list of people, one date and one handing cadre, all or nothing, never twice."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from core import idnumbers
from core.models import AuditRecord
from core.scoping import unscoped
from funds import services
from funds.models import Disbursement, GoodsItem, StockMovement
from tests.cast import at, give_stock, make_person

BATCH = reverse("funds:batch")


@pytest.fixture
def now():
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


@pytest.fixture
def three(cast):
    """Three people of 冶山镇: the cast's two and a third in the grid worker's cell."""
    third = make_person(cast.yeshan.household, name="王德兵", id_number=idnumbers.make_number("341181", date(1948, 5, 6), 151))
    return [cast.yeshan.person, cast.yeshan.person_other_cell, third]


@pytest.fixture
def rice(db):
    return GoodsItem.objects.create(name="大米", unit="袋", unit_value=Decimal("60.00"))


def grants_in(town) -> int:
    with unscoped():
        return Disbursement.objects.filter(town=town).count()


def form(cast, people, **extra) -> dict:
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "campaign": cast.campaign.pk,
        "handed_at": "2024-01-09T10:00",
        "handed_by": cast.yeshan.cadre.cadre.pk,
        "kind": "cash",
        "source": "town_finance",
        "amount": "300",
        "beneficiaries": [p.pk for p in people],
    }
    data.update(extra)
    return data


def test_a_batch_of_three_previews_then_saves_once_even_when_submitted_twice(client, cast, now, three):
    client.force_login(cast.yeshan.cadre)
    data = form(cast, three, **{f"amount_{three[2].pk}": "500"})
    preview = client.post(BATCH, {**data, "_preview": "1"})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "确认发放（3 人）" in body and "¥1,100.00" in body and "王德兵" in body
    assert grants_in(cast.yeshan.town) == 0  # a preview writes nothing

    first = client.post(BATCH, {**data, "_confirm": "1"})
    assert first.status_code == 302
    again = client.post(BATCH, {**data, "_confirm": "1"})  # a double tap / a retry
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert grants_in(cast.yeshan.town) == 3

    with unscoped():
        grants = list(Disbursement.objects.filter(town=cast.yeshan.town).order_by("id"))
    assert [(g.beneficiary_id, g.amount) for g in grants] == [
        (three[0].pk, Decimal("300.00")),
        (three[1].pk, Decimal("300.00")),
        (three[2].pk, Decimal("500.00")),
    ]
    assert all(
        g.handed_by == cast.yeshan.cadre.cadre and g.handed_at == at(2024, 1, 9, 10) and g.campaign == cast.campaign
        for g in grants
    )
    key = uuid.UUID(data["idempotency_key"])
    assert grants[0].idempotency_key == uuid.uuid5(key, str(three[0].pk))
    with unscoped():
        assert AuditRecord.objects.filter(action="disbursement.create").count() == 3

    result = client.get(first["Location"])
    page = result.content.decode()
    assert result.status_code == 200 and page.count('data-testid="batch-grant"') == 3
    assert reverse("funds:grant_detail", kwargs={"pk": grants[0].pk}) in page
    assert "该批发放已登记过，未重复保存。" in page


def test_people_found_by_pasted_id_numbers_join_the_picked_ones(client, cast, now, three):
    client.force_login(cast.yeshan.cadre)
    lines = "\n".join(idnumbers.decrypt(p.id_number_encrypted) for p in three[1:]) + "\n"
    data = form(cast, three[:2], id_numbers=lines)  # three[1] both picked and pasted: once
    response = client.post(BATCH, {**data, "_confirm": "1"})
    assert response.status_code == 302
    with unscoped():
        assert sorted(Disbursement.objects.values_list("beneficiary_id", flat=True)) == sorted(p.pk for p in three)


def test_one_bad_row_writes_nothing(client, cast, now, three):
    client.force_login(cast.yeshan.cadre)
    data = form(cast, three, **{f"amount_{three[1].pk}": "-5"})
    response = client.post(BATCH, {**data, "_confirm": "1"})
    assert response.status_code == 200
    assert "周德海：请填写大于0的金额" in response.content.decode()
    assert grants_in(cast.yeshan.town) == 0


def test_a_refusal_inside_the_service_rolls_the_whole_batch_back(cast, now, three):
    rows = [services.BatchRow(p, Decimal("300")) for p in three]
    rows[2] = services.BatchRow(three[2], Decimal("300.123"))  # refused by disbursement_create, after two grants were written
    with pytest.raises(ValidationError) as refused:
        services.disbursement_batch(
            actor=cast.yeshan.cadre,
            idempotency_key=uuid.uuid4(),
            rows=rows,
            kind="cash",
            handed_at=at(2024, 1, 9, 10),
        )
    assert refused.value.message_dict["people"] == ["第3行 王德兵：金额最多保留两位小数"]
    assert grants_in(cast.yeshan.town) == 0


def test_another_towns_person_is_refused_and_nothing_is_written(client, cast, now, three):
    client.force_login(cast.yeshan.cadre)
    data = form(cast, [*three, cast.tongcheng.person])
    response = client.post(BATCH, {**data, "_confirm": "1"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "有 1 位勾选的对象不存在或不在您的管辖范围内" in body
    assert cast.tongcheng.person.name not in body
    assert grants_in(cast.yeshan.town) == 0 and grants_in(cast.tongcheng.town) == 0
    # The service refuses the same on its own.
    with pytest.raises(ValidationError) as refused:
        services.disbursement_batch(
            actor=cast.yeshan.cadre,
            idempotency_key=uuid.uuid4(),
            kind="cash",
            handed_at=at(2024, 1, 9, 10),
            rows=[services.BatchRow(p, Decimal("300")) for p in [three[0], cast.tongcheng.person]],
        )
    assert refused.value.message_dict["people"] == [f"第2行 编号{cast.tongcheng.person.pk}：慰问对象不存在或不在您的管辖范围内"]
    assert grants_in(cast.yeshan.town) == 0


def test_pasted_numbers_not_on_the_registry_are_named_by_line_masked(client, cast, now, three):
    client.force_login(cast.yeshan.cadre)
    unknown = idnumbers.make_number("341181", date(1950, 1, 1), 999)
    data = form(cast, three[:1], id_numbers=f"{unknown}\n12345\n{idnumbers.decrypt(cast.tongcheng.person.id_number_encrypted)}")
    body = client.post(BATCH, {**data, "_preview": "1"}).content.decode()
    assert f"粘贴第1行 {idnumbers.mask(unknown)}：信息库中没有在册的该身份证号，或不在您的管辖范围内" in body
    assert "粘贴第2行" in body and "粘贴第3行" in body
    assert cast.tongcheng.person.name not in body


def test_goods_are_checked_against_the_stock_for_the_whole_list(client, cast, now, three, rice):
    give_stock(cast.yeshan.town, rice, 5)
    client.force_login(cast.yeshan.cadre)
    data = form(cast, three, kind="goods", amount="", goods_item=rice.pk, quantity="2")
    preview = client.post(BATCH, {**data, "_preview": "1"}).content.decode()
    assert "本镇现有大米 5袋，本次共需 6袋，库存不足" in preview
    refused = client.post(BATCH, {**data, "_confirm": "1"})
    assert "库存不足：本次共需 大米 6袋，现有 5袋" in refused.content.decode()
    assert grants_in(cast.yeshan.town) == 0
    with unscoped():
        assert not StockMovement.objects.exists()

    # One row lowered to 1: 5 in all, which the store can cover.
    saved = client.post(BATCH, {**data, f"quantity_{three[0].pk}": "1", "_confirm": "1"})
    assert saved.status_code == 302 and grants_in(cast.yeshan.town) == 3
    with unscoped():
        assert list(StockMovement.objects.order_by("id").values_list("kind", "quantity")) == [("out", 1), ("out", 2), ("out", 2)]
        from funds.models import GoodsStock

        assert GoodsStock.objects.get(town=cast.yeshan.town, goods_item=rice).quantity == 0


def test_form_errors_name_their_fields(client, cast, now, three):
    client.force_login(cast.yeshan.cadre)
    body = client.post(BATCH, {**form(cast, three, kind="goods", amount=""), "_preview": "1"}).content.decode()
    assert "慰问品：发放慰问品须选择物品" in body and "每人数量：发放慰问品须填写每人数量" in body
    body = client.post(BATCH, {**form(cast, [], handed_by=cast.tongcheng.cadre.cadre.pk), "_preview": "1"}).content.decode()
    assert "发放人：发放人不存在或不在您的管辖范围内" in body
    body = client.post(BATCH, {**form(cast, []), "_preview": "1"}).content.decode()
    assert "请至少选择一位慰问对象" in body


def test_the_picker_searches_the_users_scope(client, cast, three):
    client.force_login(cast.yeshan.cadre)
    response = client.get(reverse("funds:batch_people"), {"q": "wdb"})
    assert "王德兵" in response.content.decode()
    assert cast.tongcheng.person.name not in client.get(reverse("funds:batch_people"), {"q": "qjf"}).content.decode()


def test_the_form_opens_for_town_roles_only(client, cast):
    for user, status in (
        (cast.yeshan.grid_worker, 200),
        (cast.yeshan.admin, 200),
        (cast.county_viewer, 403),
        (cast.inspector, 403),
    ):
        client.force_login(user)
        assert client.get(BATCH).status_code == status
