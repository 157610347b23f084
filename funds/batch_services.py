"""集中发放: one date, one handing cadre, a list of people, all or nothing (issue 5 §2)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from core.permissions import require
from core.scoping import unscoped
from core.services import actor_profile
from funds.grant_services import disbursement_create
from funds.models import Budget, Disbursement, GoodsItem, GoodsStock
from towns.models import Beneficiary

BATCH_MAX_PEOPLE = 500  # a village's collective distribution; a bigger list is an import


@dataclass(frozen=True)
class BatchRow:
    beneficiary: object  # a Beneficiary or its id
    amount: Decimal | None = None
    quantity: int | None = None
    guardian_name: str = ""  # a minor's guardian, for cash (disbursement_create requires one)
    guardian_relation: str = ""


@transaction.atomic
def disbursement_batch(
    *,
    actor,
    idempotency_key: uuid.UUID,
    rows: list[BatchRow],
    kind: str,
    handed_at: datetime,
    handed_by=None,
    campaign=None,
    source: str = Budget.Source.TOWN_FINANCE,
    goods_item=None,
) -> tuple[list[Disbursement], int]:
    """集中发放: one date, one handing cadre, a list of people, all or nothing.

    Each grant goes through disbursement_create with a key derived from the form's key and the
    person (uuid5), so a double submit or a retry answers with the same grants and writes none.
    Goods are checked against the store for the whole list before anything is written; each grant
    still takes its own units with the conditional UPDATE, which settles a race with another cadre.
    Returns (grants in list order, how many were created now).
    """
    require(actor, "grant.issue")
    key = uuid.UUID(str(idempotency_key))
    errors: dict[str, list[str]] = {}
    if not rows:
        errors["people"] = ["请至少选择一位慰问对象"]
    elif len(rows) > BATCH_MAX_PEOPLE:
        errors["people"] = [f"一次最多发放{BATCH_MAX_PEOPLE}人（现有{len(rows)}人），请分批登记"]
    ids = [getattr(r.beneficiary, "pk", r.beneficiary) for r in rows]
    repeated = sorted({pk for pk in ids if ids.count(pk) > 1}, key=ids.index)
    if repeated:
        errors["people"] = [f"名单中有 {len(repeated)} 人重复，每人只能发放一次"]
    if errors:
        raise ValidationError(errors)
    keys = {pk: uuid.uuid5(key, str(pk)) for pk in ids}
    if kind == Disbursement.Kind.GOODS:
        item = GoodsItem.objects.filter(pk=getattr(goods_item, "pk", goods_item)).first()
        if item is None:
            raise ValidationError({"goods_item": ["请选择慰问品"]})
        _check_batch_stock(actor, item, rows, keys)
    grants, created_count = [], 0
    row_errors: list[str] = []
    for number, row in enumerate(rows, start=1):
        pk = getattr(row.beneficiary, "pk", row.beneficiary)
        # A batch transfer goes to each person's own account; proxies are recorded one by one.
        holder = _person_name(actor, pk) if kind == Disbursement.Kind.TRANSFER else ""
        try:
            grant, created = disbursement_create(
                actor=actor,
                beneficiary=row.beneficiary,
                kind=kind,
                handed_at=handed_at,
                idempotency_key=keys[pk],
                amount=row.amount,
                goods_item=goods_item,
                quantity=row.quantity,
                campaign=campaign,
                handed_by=handed_by,
                source=source,
                account_holder=holder,
                guardian_name=row.guardian_name,
                guardian_relation=row.guardian_relation,
            )
        except ValidationError as error:
            by_field = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
            name = _person_name(actor, pk) or f"编号{pk}"
            row_errors.extend(f"第{number}行 {name}：{m}" for messages in by_field.values() for m in messages)
            continue
        grants.append(grant)
        created_count += created
    if row_errors:
        # Raising rolls back every grant written above: nothing is half-saved.
        raise ValidationError({"people": row_errors})
    return grants, created_count


def _person_name(actor, pk) -> str:
    return Beneficiary.objects.for_user(actor).filter(pk=pk).values_list("name", flat=True).first() or ""


def _check_batch_stock(actor, item: GoodsItem, rows: list[BatchRow], keys: dict) -> None:
    """Refuse the whole list up front when the store cannot cover it (replayed grants took theirs already)."""
    with unscoped():
        done = set(Disbursement.objects.filter(idempotency_key__in=list(keys.values())).values_list("idempotency_key", flat=True))
    needed = sum((r.quantity or 0) for r in rows if keys[getattr(r.beneficiary, "pk", r.beneficiary)] not in done)
    if not needed:
        return
    town_id = actor_profile(actor).town_id
    with unscoped():
        left = GoodsStock.objects.filter(town_id=town_id, goods_item=item).values_list("quantity", flat=True).first() or 0
    if needed > left:
        raise ValidationError({"quantity": [f"库存不足：本次共需 {item.name} {needed}{item.unit}，现有 {left}{item.unit}"]})
