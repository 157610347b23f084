"""Writes for money and goods. A grant is never edited or deleted: voided with a reason, reissued."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from funds import audit
from funds.models import Budget, Disbursement, GoodsItem
from towns.models import Beneficiary, Cadre, Town
from towns.permissions import require
from towns.scoping import unscoped
from towns.services import _actor_cadre, _in_scope
from visits.models import Campaign, Visit


@transaction.atomic
def disbursement_create(
    *,
    actor,
    beneficiary,
    kind: str,
    handed_at: datetime,
    idempotency_key: uuid.UUID,
    amount: Decimal | None = None,
    goods_item=None,
    quantity: int | None = None,
    campaign=None,
    visit=None,
    handed_by=None,
    source: str = Budget.Source.TOWN_FINANCE,
    proxy_name: str = "",
    proxy_relation: str = "",
    replaces=None,
) -> tuple[Disbursement, bool]:
    require(actor, "grant.issue")
    with unscoped():
        existing = Disbursement.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if not Disbursement.objects.for_user(actor).filter(pk=existing.pk).exists():
            raise ValidationError({"__all__": ["该表单已提交过，请刷新页面后重新填写"]})
        return existing, False
    person = _in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    campaign = _in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    visit = _in_scope(Visit, actor, visit, "visit", "走访记录")
    handed_by = _in_scope(Cadre, actor, handed_by, "handed_by", "发放人") or _actor_cadre(actor)
    errors = {}
    if amount is not None and not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if kind in (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER):
        if amount is None or amount <= 0:
            errors["amount"] = ["请填写大于0的金额"]
        elif amount != amount.quantize(Decimal("0.01")):
            errors["amount"] = ["金额最多保留两位小数"]
        goods_item, quantity = None, None
    elif kind == Disbursement.Kind.GOODS:
        goods_item = GoodsItem.objects.filter(pk=getattr(goods_item, "pk", goods_item)).first()
        if goods_item is None:
            errors["goods_item"] = ["请选择慰问品"]
        if not quantity or quantity <= 0:
            errors["quantity"] = ["请填写数量"]
        amount = None
    else:
        errors["kind"] = ["请选择发放方式"]
    if handed_at > timezone.now() + timezone.timedelta(minutes=5):
        errors["handed_at"] = ["发放时间不能晚于现在"]
    if proxy_name and not proxy_relation:
        errors["proxy_relation"] = ["代领须填写代领人与对象的关系"]
    if visit is not None and visit.beneficiary_id != person.pk:
        errors["visit"] = ["走访记录与慰问对象不一致"]
    if handed_by.town_id != person.town_id:
        errors["handed_by"] = ["发放人须为本镇干部"]
    if errors:
        raise ValidationError(errors)
    audit.mark_service_write()
    grant = Disbursement.objects.create(
        town_id=person.town_id,
        cell_id=person.cell_id,
        beneficiary=person,
        campaign=campaign,
        visit=visit,
        kind=kind,
        source=source,
        amount=amount,
        goods_item=goods_item,
        quantity=quantity,
        proxy_name=proxy_name.strip(),
        proxy_relation=proxy_relation.strip(),
        handed_by=handed_by,
        handed_at=handed_at,
        recorded_by=_actor_cadre(actor),
        replaces=replaces,
        idempotency_key=idempotency_key,
    )
    audit.record(actor=actor, action="disbursement.create", obj=grant, after=audit.snapshot(grant, exclude=("idempotency_key",)))
    return grant, True


@transaction.atomic
def disbursement_void(*, actor, disbursement, reason: str) -> Disbursement:
    require(actor, "grant.void")
    grant = _in_scope(Disbursement, actor, disbursement, "disbursement", "发放记录")
    grant = Disbursement._base_manager.select_for_update().get(pk=grant.pk)
    if grant.status == Disbursement.Status.VOIDED:
        raise ValidationError({"__all__": ["该发放记录已作废"]})
    if not (reason or "").strip():
        raise ValidationError({"reason": ["作废须填写原因"]})
    before = audit.snapshot(grant, fields=["status", "void_reason", "voided_by", "voided_at"])
    audit.mark_service_write()
    grant.status = Disbursement.Status.VOIDED
    grant.void_reason = reason.strip()
    grant.voided_by = _actor_cadre(actor)
    grant.voided_at = timezone.now()
    grant.save(update_fields=["status", "void_reason", "voided_by", "voided_at"])
    audit.record(
        actor=actor,
        action="disbursement.void",
        obj=grant,
        before=before,
        after=audit.snapshot(grant, fields=["status", "void_reason", "voided_by", "voided_at"]),
        reason=reason.strip(),
    )
    return grant


@transaction.atomic
def budget_set(*, actor, campaign, town, source: str, amount: Decimal, reason: str = "") -> Budget:
    require(actor, "budget.edit")
    campaign = _in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    town = _in_scope(Town, actor, town, "town", "镇（街道）")
    if amount is None or amount < 0:
        raise ValidationError({"amount": ["预算金额不能为负数"]})
    if source not in Budget.Source.values:
        raise ValidationError({"source": ["请选择经费来源"]})
    audit.mark_service_write()
    budget = Budget._base_manager.select_for_update().filter(campaign=campaign, town=town, source=source).first()
    if budget is None:
        budget = Budget.objects.create(campaign=campaign, town=town, source=source, amount=amount)
        audit.record(actor=actor, action="budget.create", obj=budget, after=audit.snapshot(budget))
        return budget
    if not (reason or "").strip():
        raise ValidationError({"reason": ["修改预算须填写原因"]})
    before = audit.snapshot(budget)
    budget.amount = amount
    budget.save(update_fields=["amount"])
    audit.record(actor=actor, action="budget.update", obj=budget, before=before, after=audit.snapshot(budget), reason=reason.strip())
    return budget
