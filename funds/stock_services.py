"""The towns' goods stores (issue 5 §1): goods in (入库), out with a grant, back when a grant is voided.

Every stock write first takes its town's audit chain lock (which the transaction takes anyway when it
records the write) and only then the stock row: one lock order for all of them, so a visit log
(which has already audited its visit when it hands out goods) and a batch cannot deadlock.
"""

from __future__ import annotations

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core import audit
from core.permissions import require
from core.scoping import unscoped
from core.services import actor_profile
from funds.models import GoodsItem, GoodsStock, StockMovement


def _lock_before_stock(town_id: int) -> None:
    audit.lock_chains([audit.chain_of(town_id)])  # the town's chain: stock is per town, like its chain


def take_from_store(*, town_id: int, goods_item: GoodsItem, quantity: int) -> int:
    """Take goods out of a town's store and return what is left, or refuse with what is left.

    One conditional UPDATE: the row is locked and the condition re-checked against the committed
    quantity, so two cadres handing out the last units at once cannot both succeed. The check
    constraint goodsstock_never_negative is the last line behind it. RETURNING gives the movement
    record its balance without a second read (the visit log's hot path).
    """
    _lock_before_stock(town_id)
    with connection.cursor() as cursor:  # the person was resolved through the actor's scope; the store is their town's
        cursor.execute(
            "UPDATE funds_goodsstock SET quantity = quantity - %s"
            " WHERE town_id = %s AND goods_item_id = %s AND quantity >= %s RETURNING quantity",
            [quantity, town_id, goods_item.pk, quantity],
        )
        taken = cursor.fetchone()
    if taken is not None:
        return taken[0]
    with unscoped():
        left = GoodsStock.objects.filter(town_id=town_id, goods_item_id=goods_item.pk).values_list("quantity", flat=True).first()
    raise ValidationError({"quantity": [f"库存不足：{goods_item.name} 现有 {left or 0}{goods_item.unit}"]})


def put_in_store(*, town_id: int, goods_item: GoodsItem, quantity: int) -> None:
    """Add goods to a town's store (入库, 作废退回)."""
    _lock_before_stock(town_id)
    with unscoped():
        added = GoodsStock.objects.filter(town_id=town_id, goods_item_id=goods_item.pk).update(quantity=F("quantity") + quantity)
        if not added:
            # Under the chain lock no other stock writer can insert the same row meanwhile.
            GoodsStock.objects.create(town_id=town_id, goods_item=goods_item, quantity=quantity)


def record_movement(
    *,
    actor,
    town_id,
    goods_item,
    kind,
    quantity,
    disbursement=None,
    source="",
    recorded_at=None,
    recorded_by=None,
    stock_after=None,
) -> StockMovement:
    """The movement row and its audit record, with the store's quantity after it (read here unless given)."""
    if stock_after is None:
        with unscoped():
            stock_after = (
                GoodsStock.objects.filter(town_id=town_id, goods_item_id=goods_item.pk).values_list("quantity", flat=True).first()
            )
    movement = StockMovement.objects.create(
        town_id=town_id,
        goods_item=goods_item,
        kind=kind,
        quantity=quantity,
        disbursement=disbursement,
        source=source,
        recorded_by=recorded_by or actor_profile(actor),
    )
    if recorded_at is not None:
        # auto_now_add ignores a given value; goods are often booked a day or two after they came.
        with unscoped():
            StockMovement.objects.filter(pk=movement.pk).update(recorded_at=recorded_at)
        movement.recorded_at = recorded_at
    audit.record(
        actor=actor,
        action="stockmovement.create",
        obj=movement,
        object_repr=f"{movement.get_kind_display()} {goods_item.name} {quantity}{goods_item.unit}",
        after={**audit.snapshot(movement), "stock_after": stock_after},
        reason=source if kind == StockMovement.Kind.RETURNED else "",
    )
    return movement


@transaction.atomic
def stock_receive(*, actor, goods_item, quantity: int, source: str, received_on=None) -> StockMovement:
    """入库: goods arrive at the actor's town store (bought with town money, donated by the county charity...)."""
    require(actor, "stock.manage")
    cadre = actor_profile(actor)
    item = GoodsItem.objects.filter(pk=getattr(goods_item, "pk", goods_item)).first()
    errors = {}
    if item is None:
        errors["goods_item"] = ["请选择慰问品"]
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        errors["quantity"] = ["入库数量须为大于0的整数"]
    elif quantity > 1_000_000:
        errors["quantity"] = ["入库数量过大，请核对"]  # a typing slip, not a delivery
    source = (source or "").strip()
    if not source:
        errors["source"] = ["请填写来源（如：镇财政采购、县慈善总会捐赠）"]
    elif len(source) > 120:
        errors["source"] = ["来源最多120字"]
    today = timezone.localdate()
    if received_on is not None and received_on > today:
        errors["received_on"] = ["入库日期不能晚于今天"]
    if errors:
        raise ValidationError(errors)
    put_in_store(town_id=cadre.town_id, goods_item=item, quantity=quantity)
    recorded_at = None
    if received_on is not None and received_on != today:
        recorded_at = datetime.combine(received_on, time(9), tzinfo=timezone.get_current_timezone())
    return record_movement(
        actor=actor,
        town_id=cadre.town_id,
        goods_item=item,
        kind=StockMovement.Kind.RECEIVED,
        quantity=quantity,
        source=source,
        recorded_at=recorded_at,
    )
