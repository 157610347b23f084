"""Grants: hand one out, void it, correct it (void and reissue in one write), and the one decision
whether a grant waits for approval. A grant is never edited or deleted: voided with a reason, reissued."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit, outbox
from core.permissions import require
from core.scoping import unscoped
from core.services import actor_profile, in_scope, service_atomic
from funds.grant_selectors import approval_threshold
from funds.models import Budget, Disbursement, GoodsItem, StockMovement
from funds.stock_services import put_in_store, record_movement, take_from_store
from towns.models import Beneficiary, Cadre
from visits.models import Campaign, Visit
from visits.targets import off_approved_list


@service_atomic
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
    account_holder: str = "",
    guardian_name: str = "",
    guardian_relation: str = "",
    reason: str = "",
    key_checked: bool = False,
) -> tuple[Disbursement, bool]:
    """Hand out one grant; returns (grant, created). ``key_checked``: the caller knows the key is new."""
    require(actor, "grant.issue")
    existing = None
    if not key_checked:
        with unscoped():
            existing = Disbursement.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if not Disbursement.objects.for_user(actor).filter(pk=existing.pk).exists():
            raise ValidationError({"__all__": ["该表单已提交过，请刷新页面后重新填写"]})
        return existing, False
    person = in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    campaign = in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    visit = in_scope(Visit, actor, visit, "visit", "走访记录")
    handed_by = in_scope(Cadre, actor, handed_by, "handed_by", "发放人") or actor_profile(actor)
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
        if not isinstance(goods_item, GoodsItem):  # an instance (from a form's choices) needs no second read
            goods_item = GoodsItem.objects.filter(pk=goods_item).first()
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
    guardian_name, guardian_relation = (guardian_name or "").strip(), (guardian_relation or "").strip()
    errors.update(_guardian_errors(person, kind, handed_at, guardian_name, guardian_relation))
    account_holder = (account_holder or "").strip()
    if kind == Disbursement.Kind.TRANSFER:
        if not _account_holder_allowed(account_holder, person.name, proxy_name, proxy_relation, guardian_name):
            errors["account_holder"] = ["转账户名须为慰问对象本人，或填写代领人及关系；未成年人可转入所登记监护人的账户"]
    else:
        account_holder = ""  # only a transfer goes to an account
    if visit is not None and visit.beneficiary_id != person.pk:
        errors["visit"] = ["走访记录与慰问对象不一致"]
    if handed_by.town_id != person.town_id:
        errors["handed_by"] = ["发放人须为本镇干部"]
    # The grant's value (cash, or goods at their unit value), judged with the other errors so all show at once.
    value = None
    if kind in (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER) and "amount" not in errors:
        value = amount
    elif kind == Disbursement.Kind.GOODS and goods_item is not None and quantity and quantity > 0:
        value = goods_item.unit_value * quantity
    if value is not None and value > settings.GRANT_CEILING:
        # A hard county limit: no approval makes it right, so nothing is written.
        errors["amount" if kind != Disbursement.Kind.GOODS else "quantity"] = [
            f"单笔发放{_yuan(value)}，超过全市单笔发放上限{_yuan(settings.GRANT_CEILING)}，不能登记。请核对金额或数量"
        ]
    if errors:
        raise ValidationError(errors)
    if kind == Disbursement.Kind.GOODS:
        # Taken out before the grant is written, in the same transaction: a refusal writes nothing.
        stock_after = take_from_store(town_id=person.town_id, goods_item=goods_item, quantity=quantity)
    reasons = approval_reasons(person=person, value=value, campaign=campaign)
    approval = Disbursement.ApprovalStatus.PENDING if reasons else Disbursement.ApprovalStatus.NOT_REQUIRED
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
        recorded_by=actor_profile(actor),
        replaces=replaces,
        idempotency_key=idempotency_key,
        account_holder=account_holder,
        guardian_name=guardian_name,
        guardian_relation=guardian_relation,
        approval_status=approval,
        approval_reason="；".join(reasons)[:200],
    )
    audit.record(
        actor=actor,
        action="disbursement.create",
        obj=grant,
        after=audit.snapshot(grant, exclude=("idempotency_key",)),
        reason=(reason or "").strip(),
    )
    if kind == Disbursement.Kind.GOODS:
        record_movement(
            actor=actor,
            town_id=grant.town_id,
            goods_item=goods_item,
            kind=StockMovement.Kind.HANDED_OUT,
            quantity=quantity,
            disbursement=grant,
            recorded_by=grant.recorded_by,
            stock_after=stock_after,
        )
    outbox.campaign_changed(grant.campaign_id)
    return grant, True


def _account_holder_allowed(holder: str, person_name: str, proxy_name: str, proxy_relation: str, guardian: str = "") -> bool:
    """A transfer goes to the person's own account, their recorded guardian's, or a named proxy's whose
    relation is given: money sent to anyone else's account (a cadre's, a stranger's) is the abuse this rule stops."""
    if not holder:
        return False
    if holder == person_name.strip() or (guardian and holder == guardian):
        return True
    return bool(proxy_name.strip()) and holder == proxy_name.strip() and bool(proxy_relation.strip())


def _yuan(value) -> str:
    return f"¥{Decimal(value):,.2f}"


def _guardian_errors(person: Beneficiary, kind: str, handed_at: datetime, name: str, relation: str) -> dict:
    """Cash or a transfer to a minor is handed to a guardian, who is recorded by name and relation."""
    errors = {}
    if name and not relation:
        errors["guardian_relation"] = ["请填写监护人与慰问对象的关系（如：母亲、祖父）"]
    money = kind in (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER)
    if money and not name and person.is_minor_on(timezone.localtime(handed_at).date()):
        errors["guardian_name"] = [f"{person.name}未满{settings.GRANT_MINOR_AGE}周岁，发放慰问金须登记监护人姓名及与其关系"]
    return errors


def approval_reasons(*, person: Beneficiary, value: Decimal, campaign=None) -> list[str]:
    """Why a grant must wait for a town admin's approval (待审批); an empty list: it need not.

    The one decision for every way a grant is made (a visit, a batch, a correction). Each reason is
    a short Chinese sentence stored on the grant (``approval_reason``) and shown to the approver.
    Add a check here, returning its own reason, rather than deciding approval anywhere else.
    ``campaign`` is the grant's campaign (None outside one)."""
    reasons = []
    town = person.town if Beneficiary.town.is_cached(person) else None
    threshold, own = approval_threshold(person.town_id, town)
    if value > threshold:
        which = "本镇审批限额" if own else "全市默认审批限额"
        reasons.append(f"单笔{_yuan(value)}超过{which}{_yuan(threshold)}")
    if campaign is not None and off_approved_list(campaign, person):
        # 名单外 (issue 12 §2): the town's approved 慰问对象名单 does not name the person (visits/targets.py).
        reasons.append("不在本镇经镇党委审定的慰问对象名单上")
    return reasons


@transaction.atomic
def disbursement_void(*, actor, disbursement, reason: str) -> Disbursement:
    require(actor, "grant.void")
    grant = in_scope(Disbursement, actor, disbursement, "disbursement", "发放记录")
    grant = Disbursement._base_manager.select_for_update().get(pk=grant.pk)
    if grant.status == Disbursement.Status.VOIDED:
        raise ValidationError({"__all__": ["该发放记录已作废"]})
    if not (reason or "").strip():
        raise ValidationError({"reason": ["作废须填写原因"]})
    before = audit.snapshot(grant, fields=["status", "void_reason", "voided_by", "voided_at"])
    grant.status = Disbursement.Status.VOIDED
    grant.void_reason = reason.strip()
    grant.voided_by = actor_profile(actor)
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
    if grant.kind == Disbursement.Kind.GOODS:
        # The goods go back to the store they came from (作废退回).
        put_in_store(town_id=grant.town_id, goods_item=grant.goods_item, quantity=grant.quantity)
        record_movement(
            actor=actor,
            town_id=grant.town_id,
            goods_item=grant.goods_item,
            kind=StockMovement.Kind.RETURNED,
            quantity=grant.quantity,
            disbursement=grant,
            source=reason.strip()[:120],
            recorded_by=grant.voided_by,
        )
    outbox.campaign_changed(grant.campaign_id)
    return grant


# What a correction may change; the person, campaign and visit stay the original's (a grant to
# somebody else is not a correction of this one: void it and log a new grant instead).
REISSUE_FIELDS = frozenset(
    {
        "kind",
        "amount",
        "goods_item",
        "quantity",
        "handed_at",
        "handed_by",
        "source",
        "proxy_name",
        "proxy_relation",
        "account_holder",
        "guardian_name",
        "guardian_relation",
    }
)


@transaction.atomic
def disbursement_reissue(*, actor, original, reason: str, idempotency_key: uuid.UUID, **new_values) -> tuple[Disbursement, bool]:
    """Void ``original`` with ``reason`` and create the corrected grant (replaces=original) in one
    transaction: both are audited, both stay visible, and a failure of either writes nothing.
    A replay of the same key answers with the correction already made."""
    require(actor, "grant.void")
    require(actor, "grant.issue")
    unknown = set(new_values) - REISSUE_FIELDS
    if unknown:
        raise TypeError(f"disbursement_reissue() cannot change {sorted(unknown)}")
    with unscoped():  # a replay is found by its key wherever it is; scope is checked just below
        existing = Disbursement.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if not Disbursement.objects.for_user(actor).filter(pk=existing.pk).exists():
            raise ValidationError({"__all__": ["该表单已提交过，请刷新页面后重新填写"]})
        return existing, False
    grant = in_scope(Disbursement, actor, original, "original", "发放记录")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["更正须填写原因"]})
    values = {
        "kind": grant.kind,
        "amount": grant.amount,
        "goods_item": grant.goods_item_id,
        "quantity": grant.quantity,
        "handed_at": grant.handed_at,
        "handed_by": grant.handed_by_id,
        "source": grant.source,
        "proxy_name": grant.proxy_name,
        "proxy_relation": grant.proxy_relation,
        "account_holder": grant.account_holder,
        "guardian_name": grant.guardian_name,
        "guardian_relation": grant.guardian_relation,
        **new_values,
    }
    voided = disbursement_void(actor=actor, disbursement=grant, reason=reason)
    corrected, _ = disbursement_create(
        actor=actor,
        beneficiary=voided.beneficiary_id,
        campaign=voided.campaign_id,
        visit=voided.visit_id,
        replaces=voided,
        idempotency_key=idempotency_key,
        reason=f"更正发放记录 #{voided.pk}：{reason.strip()}",
        **values,
    )
    return corrected, True
