"""Goods stock (issue 5 §1): 入库, 出库 with every goods grant, refused beyond the stock, 作废退回."""

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, transaction

from core.models import AuditRecord
from core.scoping import unscoped
from funds import services
from funds.models import Disbursement, GoodsItem, GoodsStock, StockMovement
from tests.cast import at, build_cast, give_stock


@pytest.fixture
def now():
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


@pytest.fixture
def quilt(db):
    return GoodsItem.objects.create(name="棉被", unit="床", unit_value=Decimal("150.00"))


def stock_of(town, item) -> int:
    with unscoped():
        return GoodsStock.objects.filter(town=town, goods_item=item).values_list("quantity", flat=True).first() or 0


def movements(town, item) -> list:
    with unscoped():
        return list(StockMovement.objects.filter(town=town, goods_item=item).order_by("id").values_list("kind", "quantity"))


def hand_out(actor, person, item, quantity, key=None):
    return services.disbursement_create(
        actor=actor,
        beneficiary=person,
        kind="goods",
        goods_item=item,
        quantity=quantity,
        handed_at=at(2024, 1, 10, 10),
        idempotency_key=key or uuid.uuid4(),
    )


def test_receiving_adds_to_the_towns_store_with_a_movement_and_an_audit_record(cast, now, quilt):
    movement = services.stock_receive(
        actor=cast.yeshan.cadre, goods_item=quilt, quantity=30, source="县慈善总会捐赠", received_on=date(2024, 1, 8)
    )
    services.stock_receive(actor=cast.yeshan.admin, goods_item=quilt.pk, quantity=5, source="镇财政采购")
    assert stock_of(cast.yeshan.town, quilt) == 35
    assert stock_of(cast.tongcheng.town, quilt) == 0
    assert movements(cast.yeshan.town, quilt) == [("in", 30), ("in", 5)]
    assert movement.recorded_at == at(2024, 1, 8, 9) and movement.recorded_by == cast.yeshan.cadre.cadre
    with unscoped():
        record = AuditRecord.objects.get(action="stockmovement.create", object_id=str(movement.pk))
    assert record.town == cast.yeshan.town and record.after["source"] == "县慈善总会捐赠"
    assert record.after["stock_after"] == 30 and record.after["kind"] == "in"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"quantity": 0}, "quantity", "入库数量须为大于0的整数"),
        ({"quantity": -3}, "quantity", "入库数量须为大于0的整数"),
        ({"source": "  "}, "source", "请填写来源（如：镇财政采购、县慈善总会捐赠）"),
        ({"goods_item": 999_999}, "goods_item", "请选择慰问品"),
        ({"received_on": date(2024, 1, 11)}, "received_on", "入库日期不能晚于今天"),
    ],
)
def test_bad_receipts_are_refused_by_field_and_write_nothing(cast, now, quilt, kwargs, field, message):
    data = {"goods_item": quilt, "quantity": 10, "source": "县慈善总会捐赠", **kwargs}
    with pytest.raises(ValidationError) as refused:
        services.stock_receive(actor=cast.yeshan.cadre, **data)
    assert refused.value.message_dict[field] == [message]
    assert stock_of(cast.yeshan.town, quilt) == 0 and movements(cast.yeshan.town, quilt) == []


@pytest.mark.parametrize("role", ["grid_worker", "county_viewer", "inspector", "sysadmin"])
def test_only_town_cadres_and_admins_receive_goods(cast, quilt, role):
    with pytest.raises(PermissionDenied):
        services.stock_receive(actor=cast.users_by_role()[role], goods_item=quilt, quantity=1, source="x")


def test_a_goods_grant_takes_from_the_store_and_links_its_movement(cast, now, quilt):
    give_stock(cast.yeshan.town, quilt, 3)
    grant, created = hand_out(cast.yeshan.grid_worker, cast.yeshan.person, quilt, 2)
    assert created and stock_of(cast.yeshan.town, quilt) == 1
    with unscoped():
        out = StockMovement.objects.get(kind="out")
        record = AuditRecord.objects.get(action="stockmovement.create", object_id=str(out.pk))
    assert out.disbursement == grant and out.quantity == 2 and out.recorded_by == cast.yeshan.grid_worker.cadre
    assert record.after["stock_after"] == 1
    # A replay of the same key takes nothing more.
    again, created = hand_out(cast.yeshan.grid_worker, cast.yeshan.person, quilt, 2, key=grant.idempotency_key)
    assert again == grant and not created and stock_of(cast.yeshan.town, quilt) == 1


def test_handing_out_more_than_the_stock_is_refused_with_what_is_left(cast, now, quilt):
    give_stock(cast.yeshan.town, quilt, 1)
    give_stock(cast.tongcheng.town, quilt, 50)  # another town's store is not this town's
    with unscoped():
        grants_before = Disbursement.objects.count()
    with pytest.raises(ValidationError) as refused:
        hand_out(cast.yeshan.cadre, cast.yeshan.person, quilt, 2)
    assert refused.value.message_dict["quantity"] == ["库存不足：棉被 现有 1床"]
    with unscoped():
        assert Disbursement.objects.count() == grants_before
    assert stock_of(cast.yeshan.town, quilt) == 1 and movements(cast.yeshan.town, quilt) == []


def test_no_stock_row_at_all_reads_as_none_left(cast, now, quilt):
    with pytest.raises(ValidationError) as refused:
        hand_out(cast.yeshan.cadre, cast.yeshan.person, quilt, 1)
    assert refused.value.message_dict["quantity"] == ["库存不足：棉被 现有 0床"]


def test_the_visit_log_shows_the_shortage_on_its_quantity_field(cast, now, quilt):
    from visits import services as visit_services

    with pytest.raises(ValidationError) as refused:
        visit_services.visit_log(
            actor=cast.yeshan.grid_worker,
            beneficiary=cast.yeshan.person,
            idempotency_key=uuid.uuid4(),
            visited_at=at(2024, 1, 10, 15),
            kind="home",
            goods_item=quilt,
            goods_quantity=1,
        )
    assert refused.value.message_dict["goods_quantity"] == ["库存不足：棉被 现有 0床"]


def test_voiding_a_goods_grant_puts_the_goods_back(cast, now, quilt):
    give_stock(cast.yeshan.town, quilt, 2)
    grant, _ = hand_out(cast.yeshan.cadre, cast.yeshan.person, quilt, 2)
    assert stock_of(cast.yeshan.town, quilt) == 0
    services.disbursement_void(actor=cast.yeshan.admin, disbursement=grant, reason="对象姓名录入错误，作废重发")
    assert stock_of(cast.yeshan.town, quilt) == 2
    assert movements(cast.yeshan.town, quilt) == [("out", 2), ("return", 2)]
    with unscoped():
        back = StockMovement.objects.get(kind="return")
    assert back.disbursement == grant and back.source == "对象姓名录入错误，作废重发"
    assert back.recorded_by == cast.yeshan.admin.cadre
    # Voiding a cash grant moves no goods.
    cash, _ = services.disbursement_create(
        actor=cast.yeshan.cadre,
        beneficiary=cast.yeshan.person,
        kind="cash",
        amount=Decimal("300"),
        handed_at=at(2024, 1, 10, 10),
        idempotency_key=uuid.uuid4(),
    )
    services.disbursement_void(actor=cast.yeshan.admin, disbursement=cash, reason="金额错误")
    assert movements(cast.yeshan.town, quilt) == [("out", 2), ("return", 2)]


def test_the_database_refuses_a_negative_stock_whatever_the_code_does(cast, quilt):
    give_stock(cast.yeshan.town, quilt, 1)
    with unscoped(), pytest.raises(IntegrityError), transaction.atomic():
        GoodsStock.objects.filter(town=cast.yeshan.town).update(quantity=-1)


# --- two cadres hand out the last units at the same moment --------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_connections_racing_for_the_last_units_one_wins(quilt):
    cast = build_cast()
    give_stock(cast.yeshan.town, quilt, 2)
    barrier = threading.Barrier(2)
    outcomes = []

    def hand_out_two(actor, person):
        # Each thread has its own database connection; contextvars (scope guard, audit context)
        # start at their defaults there.
        try:
            barrier.wait(timeout=10)
            hand_out(actor, person, quilt, 2)
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(error.message_dict["quantity"][0])
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=hand_out_two, args=(cast.yeshan.grid_worker, cast.yeshan.person)),
        threading.Thread(target=hand_out_two, args=(cast.yeshan.cadre, cast.yeshan.person_other_cell)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "库存不足：棉被 现有 0床"]
    assert stock_of(cast.yeshan.town, quilt) == 0
    with unscoped():
        assert Disbursement.objects.filter(kind="goods").count() == 1
        assert list(StockMovement.objects.values_list("kind", "quantity")) == [("out", 2)]


# --- the goods page -------------------------------------------------------------------------

GOODS = "/funds/goods/"


def test_the_goods_page_shows_the_towns_stock_and_history_with_links_to_grants(
    client, cast, now, quilt, django_assert_max_num_queries
):
    services.stock_receive(actor=cast.yeshan.cadre, goods_item=quilt, quantity=4, source="县慈善总会捐赠")
    grant, _ = hand_out(cast.yeshan.cadre, cast.yeshan.person, quilt, 1)
    give_stock(cast.tongcheng.town, quilt, 77)
    client.force_login(cast.yeshan.grid_worker)
    with django_assert_max_num_queries(8):
        response = client.get(GOODS)
    assert response.status_code == 200
    assert [(r["town"].name, [c["quantity"] for c in r["cells"]]) for r in response.context["stock"]] == [("冶山镇", [3])]
    body = response.content.decode()
    assert "77床" not in body and "铜城镇" not in body
    assert [m.kind for m in response.context["movements"]] == ["out", "in"]
    assert f"/funds/grants/{grant.pk}/" in body and "县慈善总会捐赠" in body
    assert 'data-testid="receive-form"' not in body  # a grid worker does not receive goods


def test_county_roles_see_every_towns_store_and_town_roles_only_their_own(client, cast, now, quilt):
    give_stock(cast.yeshan.town, quilt, 3)
    give_stock(cast.tongcheng.town, quilt, 77)
    client.force_login(cast.county_viewer)
    stock = client.get(GOODS).context["stock"]
    assert {r["town"].name: r["cells"][0]["quantity"] for r in stock} == {"冶山镇": 3, "铜城镇": 77}
    assert client.get(GOODS, {"town": cast.tongcheng.town.pk}).status_code == 200
    client.force_login(cast.yeshan.admin)
    assert client.get(GOODS, {"town": cast.tongcheng.town.pk}).status_code == 404


def test_receiving_through_the_page(client, cast, now, quilt):
    client.force_login(cast.yeshan.admin)
    data = {"goods_item": quilt.pk, "quantity": "12", "source": "镇财政采购", "received_on": "2024-01-09"}
    assert client.post("/funds/goods/receive/", data).status_code == 302
    assert stock_of(cast.yeshan.town, quilt) == 12
    refused = client.post("/funds/goods/receive/", {**data, "quantity": "0", "received_on": "2024-02-01"})
    body = refused.content.decode()
    assert refused.status_code == 200
    assert "入库数量：入库数量须为大于0的整数" in body
    assert stock_of(cast.yeshan.town, quilt) == 12


def test_the_history_pages_by_id_without_counting(client, cast, now, quilt):
    from funds import budget_selectors

    for _ in range(budget_selectors.MOVEMENTS_PAGE + 3):
        services.stock_receive(actor=cast.yeshan.cadre, goods_item=quilt, quantity=1, source="分批到货")
    client.force_login(cast.yeshan.cadre)
    first = client.get(GOODS)
    assert len(first.context["movements"]) == budget_selectors.MOVEMENTS_PAGE and first.context["next_query"]
    second = client.get(GOODS + "?" + first.context["next_query"])
    assert len(second.context["movements"]) == 3
