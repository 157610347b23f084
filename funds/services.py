"""Writes for money and goods. A grant is never edited or deleted: voided with a reason, reissued."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core import audit, outbox
from core.permissions import require
from core.scoping import unscoped
from core.services import actor_profile, in_scope, service_atomic
from funds.models import Budget, Disbursement, GoodsItem, GoodsStock, Receipt, StockMovement
from towns.models import Beneficiary, Cadre, Town
from visits.models import Campaign, GrantStandard, Visit
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
        stock_after = _stock_take(town_id=person.town_id, goods_item=goods_item, quantity=quantity)
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
        _movement(
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


def approval_threshold(town_id: int, town: Town | None = None) -> tuple[Decimal, bool]:
    """The threshold a town's grants are judged by, and whether it is the town's own value (else
    the county default, GRANT_APPROVAL_THRESHOLD_DEFAULT). Read now, so a later change does not
    re-judge old grants. A town already read (the visit form's person comes with it) costs no query."""
    if town is not None:
        own = town.grant_approval_threshold
    else:
        own = Town._base_manager.filter(pk=town_id).values_list("grant_approval_threshold", flat=True).first()
    if own is None:
        return settings.GRANT_APPROVAL_THRESHOLD_DEFAULT, False
    return own, True


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
        _stock_put(town_id=grant.town_id, goods_item=grant.goods_item, quantity=grant.quantity)
        _movement(
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


# --- approval, reissue, receipts (issue 5 §2) ------------------------------------------------
#
# A grant for which approval_reasons() gives a reason is created 待审批 (pending). A town admin
# approves or rejects it. Neither a pending nor a rejected grant counts as handed out (a rejected
# one stays on record, never deleted): every total reads Disbursement.objects.handed_out().


@transaction.atomic
def disbursement_approve(*, actor, disbursement, approve: bool, note: str = "") -> Disbursement:
    require(actor, "grant.approve")
    grant = in_scope(Disbursement, actor, disbursement, "disbursement", "发放记录")
    grant = Disbursement._base_manager.select_for_update().get(pk=grant.pk)
    me = actor_profile(actor)
    note = (note or "").strip()
    # The service says why; the check constraint disbursement_not_self_approved is the second line.
    if me.pk in (grant.handed_by_id, grant.recorded_by_id):
        raise ValidationError({"__all__": ["不能审批自己经手的发放"]})
    if grant.status == Disbursement.Status.VOIDED:
        raise ValidationError({"__all__": ["该发放记录已作废，无需审批"]})
    if grant.approval_status != Disbursement.ApprovalStatus.PENDING:
        raise ValidationError({"__all__": [f"该发放记录不在待审批状态（{grant.get_approval_status_display()}）"]})
    if not approve and not note:
        raise ValidationError({"note": ["不通过须填写审批意见"]})
    if len(note) > 200:
        raise ValidationError({"note": ["审批意见最多200字"]})
    fields = ["approval_status", "approved_by", "approved_at", "approval_note"]
    before = audit.snapshot(grant, fields=fields)
    grant.approval_status = Disbursement.ApprovalStatus.APPROVED if approve else Disbursement.ApprovalStatus.REJECTED
    grant.approved_by = me
    grant.approved_at = timezone.now()
    grant.approval_note = note
    grant.save(update_fields=fields)
    audit.record(
        actor=actor,
        action="disbursement.approve",
        obj=grant,
        before=before,
        after=audit.snapshot(grant, fields=fields),
        reason=note or ("审批通过" if approve else ""),
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


RECEIPT_MAX_BYTES = 10 * 1024 * 1024
RECEIPT_MAX_GRANTS = 200  # a signed roster page lists a few dozen people; more is a mistake
# Magic bytes → (extension, content type). Pillow is not installed, and a name or a browser's
# declared type proves nothing: the first bytes decide what the file is.
RECEIPT_TYPES = (
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"%PDF-", "pdf", "application/pdf"),
)


def receipt_file_type(head: bytes) -> tuple[str, str] | None:
    for magic, extension, content_type in RECEIPT_TYPES:
        if head.startswith(magic):
            return extension, content_type
    return None


@transaction.atomic
def receipt_attach(*, actor, disbursements, kind: str, uploaded_file) -> Receipt:
    """Store a signed receipt and link it to its grants: a signature or thumbprint photo for one
    grant, or a scanned roster page for several of one town. A grant that already had a receipt
    gets the new one; the old link stays in the audit trail (and the old Receipt row is kept)."""
    require(actor, "grant.issue")
    ids = []
    for item in disbursements:
        pk = getattr(item, "pk", item)
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise ValidationError({"disbursements": ["发放记录不存在或不在您的管辖范围内"]}) from None
        if pk not in ids:
            ids.append(pk)
    errors: dict[str, list[str]] = {}
    if kind not in Receipt.Kind.values:
        errors["kind"] = ["请选择凭证类型"]
    if not ids:
        errors["disbursements"] = ["请选择发放记录"]
    elif len(ids) > RECEIPT_MAX_GRANTS:
        errors["disbursements"] = [f"一张花名册最多对应{RECEIPT_MAX_GRANTS}条发放记录"]
    elif kind in (Receipt.Kind.SIGNATURE, Receipt.Kind.THUMBPRINT) and len(ids) != 1:
        errors["kind"] = ["签字或手印照片只能对应一条发放记录；多人签领请上传花名册扫描页"]
    grants = list(Disbursement.objects.for_user(actor).select_for_update().filter(pk__in=ids).order_by("pk")) if ids else []
    if ids and len(grants) != len(ids) and "disbursements" not in errors:
        errors["disbursements"] = ["发放记录不存在或不在您的管辖范围内"]
    if any(g.status == Disbursement.Status.VOIDED for g in grants):
        errors.setdefault("disbursements", []).append("已作废的发放记录不能上传签领凭证")
    if len({g.town_id for g in grants}) > 1:
        errors.setdefault("disbursements", []).append("一张花名册只能对应同一个镇（街道）的发放记录")
    extension, digest, size = _check_receipt_file(uploaded_file, errors)
    if errors:
        raise ValidationError(errors)

    receipt = Receipt(
        town_id=grants[0].town_id,
        kind=kind,
        sha256=digest,
        original_name=(getattr(uploaded_file, "name", "") or "")[:200],
        uploaded_by=actor_profile(actor),
    )
    # A random name under receipts/YYYY/MM/ (MEDIA_ROOT-relative, never served publicly): the path
    # reveals nothing about the person; the original name is kept in a column.
    uploaded_file.seek(0)
    receipt.file.save(f"{uuid.uuid4().hex}.{extension}", uploaded_file, save=False)
    try:
        receipt.save()
        for grant in grants:
            before = {"receipt_id": grant.receipt_id}
            Disbursement._base_manager.filter(pk=grant.pk).update(receipt=receipt)
            grant.receipt = receipt
            audit.record(
                actor=actor,
                action="disbursement.receipt",
                obj=grant,
                before=before,
                after={"receipt_id": receipt.pk, "receipt_kind": kind, "sha256": digest, "covers": len(grants), "size": size},
                reason="更换签领凭证" if before["receipt_id"] else "",
            )
    except Exception:
        # Nothing was recorded: do not leave an orphan file of personal data behind.
        receipt.file.storage.delete(receipt.file.name)
        raise
    return receipt


def _check_receipt_file(uploaded_file, errors: dict) -> tuple[str, str, int]:
    if uploaded_file is None:
        errors["file"] = ["请选择要上传的文件"]
        return "", "", 0
    size = getattr(uploaded_file, "size", None) or 0
    if size > RECEIPT_MAX_BYTES:
        errors["file"] = [
            f"文件大小为 {size / 1024 / 1024:.1f} MB，超过 {RECEIPT_MAX_BYTES // 1024 // 1024} MB 的上限，请压缩后重新上传"
        ]
        return "", "", size
    if size == 0:
        errors["file"] = ["文件是空的，请重新拍照或扫描"]
        return "", "", size
    uploaded_file.seek(0)
    found = receipt_file_type(uploaded_file.read(8))
    if found is None:
        errors["file"] = ["只能上传 JPG、PNG 图片或 PDF 扫描件"]
        return "", "", size
    uploaded_file.seek(0)
    hasher = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        hasher.update(chunk)
    return found[0], hasher.hexdigest(), size


@transaction.atomic
def budget_set(*, actor, campaign, town, source: str, amount: Decimal, reason: str = "") -> Budget:
    require(actor, "budget.edit")
    campaign = in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    town = in_scope(Town, actor, town, "town", "镇（街道）")
    if amount is None or amount < 0:
        raise ValidationError({"amount": ["预算金额不能为负数"]})
    if source not in Budget.Source.values:
        raise ValidationError({"source": ["请选择经费来源"]})
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
    audit.record(
        actor=actor, action="budget.update", obj=budget, before=before, after=audit.snapshot(budget), reason=reason.strip()
    )
    return budget


# --- goods stock (issue 5 §1) ----------------------------------------------------------------
# Every stock write first takes its town's audit chain lock (which the transaction takes anyway when it
# records the write) and only then the stock row: one lock order for all of them, so a visit log
# (which has already audited its visit when it hands out goods) and a batch cannot deadlock.


def _lock_before_stock(town_id: int) -> None:
    audit.lock_chains([audit.chain_of(town_id)])  # the town's chain: stock is per town, like its chain


def _stock_take(*, town_id: int, goods_item: GoodsItem, quantity: int) -> int:
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


def _stock_put(*, town_id: int, goods_item: GoodsItem, quantity: int) -> None:
    """Add goods to a town's store (入库, 作废退回)."""
    _lock_before_stock(town_id)
    with unscoped():
        added = GoodsStock.objects.filter(town_id=town_id, goods_item_id=goods_item.pk).update(quantity=F("quantity") + quantity)
        if not added:
            # Under the chain lock no other stock writer can insert the same row meanwhile.
            GoodsStock.objects.create(town_id=town_id, goods_item=goods_item, quantity=quantity)


def _movement(
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
    _stock_put(town_id=cadre.town_id, goods_item=item, quantity=quantity)
    recorded_at = None
    if received_on is not None and received_on != today:
        recorded_at = datetime.combine(received_on, time(9), tzinfo=timezone.get_current_timezone())
    return _movement(
        actor=actor,
        town_id=cadre.town_id,
        goods_item=item,
        kind=StockMovement.Kind.RECEIVED,
        quantity=quantity,
        source=source,
        recorded_at=recorded_at,
    )


# --- grant standards (issue 5 §1) -------------------------------------------------------------


@transaction.atomic
def standard_set(*, actor, campaign, category, amount: Decimal, reason: str = "") -> GrantStandard:
    """慰问标准 of a category in a campaign; setting it the first time needs no reason, changing it does."""
    from towns.models import Category

    require(actor, "campaign.edit")
    campaign = in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    category = Category.objects.filter(pk=getattr(category, "pk", category)).first()
    errors = {}
    if category is None:
        errors["category"] = ["请选择人群类别"]
    if amount is not None and not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if amount is None or amount < 0:
        errors["amount"] = ["标准金额不能为负数"]
    elif amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = ["金额最多保留两位小数"]
    if errors:
        raise ValidationError(errors)
    amount = amount.quantize(Decimal("0.01"))  # 600 and 600.00 are one standard, recorded alike
    standard = GrantStandard.objects.select_for_update().filter(campaign=campaign, category=category).first()
    if standard is None:
        standard = GrantStandard.objects.create(campaign=campaign, category=category, amount=amount)
        audit.record(actor=actor, action="grantstandard.create", obj=standard, after=audit.snapshot(standard))
        return standard
    if not (reason or "").strip():
        raise ValidationError({"reason": ["修改慰问标准须填写原因"]})
    if standard.amount == amount:
        return standard
    before = audit.snapshot(standard)
    standard.amount = amount
    standard.save(update_fields=["amount"])
    audit.record(
        actor=actor,
        action="grantstandard.update",
        obj=standard,
        before=before,
        after=audit.snapshot(standard),
        reason=reason.strip(),
    )
    return standard


# --- batch distribution (issue 5 §2) --------------------------------------------------------

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


# --- end of stock, standards and batch (issue 5 §1-2) ---


# --- conflict-of-interest declarations and inspection findings (issue 5 §3, §5) ---
# Models imported inside the functions: this section is appended to a module others edit, and the
# imports at its top stay theirs.

DECLARATION_RELATIONS = ("配偶", "父母", "子女", "兄弟姐妹", "配偶父母", "子女配偶", "其他近亲属")
MAX_DECLARED_RELATIVES = 20


@transaction.atomic
def declaration_submit(*, actor, relatives: list[dict], nothing_to_declare: bool):
    """A cadre's 亲属申报, replacing the previous list. ID numbers are stored encrypted with an HMAC to match
    (like any registry ID); the audit record holds masked numbers only."""
    from core import idnumbers
    from funds.models import ConflictDeclaration, DeclaredRelative

    require(actor, "coi.declare")
    cadre = actor_profile(actor)
    errors: dict[str, list[str]] = {}
    cleaned, seen = [], set()
    for number, row in enumerate(relatives, start=1):
        name = (row.get("name") or "").strip()
        relation = (row.get("relation") or "").strip()
        raw = (row.get("id_number") or "").strip()
        if not (name or relation or raw):
            continue  # an empty row of the form
        if not name or len(name) > 30:
            errors.setdefault(f"relatives-{number}-name", []).append(f"第{number}行：请填写姓名（30字以内）")
        if relation not in DECLARATION_RELATIONS:
            errors.setdefault(f"relatives-{number}-relation", []).append(f"第{number}行：请选择关系")
        try:
            parsed = idnumbers.parse(raw)
        except ValidationError as error:
            errors.setdefault(f"relatives-{number}-id_number", []).append(f"第{number}行 身份证号：{error.messages[0]}")
            continue
        if parsed.number in seen:
            errors.setdefault(f"relatives-{number}-id_number", []).append(f"第{number}行：身份证号与前面的行重复")
            continue
        seen.add(parsed.number)
        cleaned.append((name, relation, parsed))
    if nothing_to_declare and cleaned:
        errors.setdefault("nothing_to_declare", []).append("已勾选“无需申报的近亲属”，就不能再填写亲属")
    if not nothing_to_declare and not cleaned and not errors:
        errors.setdefault("__all__", []).append("请填写近亲属，或勾选“无需申报的近亲属”")
    if len(cleaned) > MAX_DECLARED_RELATIVES:
        errors.setdefault("__all__", []).append(f"最多申报{MAX_DECLARED_RELATIVES}名近亲属")
    if errors:
        raise ValidationError(errors)
    with unscoped():  # the cadre's own declaration, whatever their scope (a grid worker's cells say nothing of it)
        declaration = ConflictDeclaration.objects.select_for_update().filter(cadre=cadre).first()
        before = None
        if declaration is not None:
            before = {
                "nothing_to_declare": declaration.nothing_to_declare,
                "relatives": list(declaration.relatives.values("name", "relation", "id_number_masked")),
            }
            declaration.relatives.all().delete()
            declaration.nothing_to_declare = nothing_to_declare
            declaration.declared_at = timezone.now()
            declaration.town_id = cadre.town_id
            declaration.save(update_fields=["nothing_to_declare", "declared_at", "town"])
        else:
            declaration = ConflictDeclaration.objects.create(
                cadre=cadre, town_id=cadre.town_id, declared_at=timezone.now(), nothing_to_declare=nothing_to_declare
            )
        DeclaredRelative.objects.bulk_create(
            [
                DeclaredRelative(
                    declaration=declaration,
                    name=name,
                    relation=relation,
                    id_number_encrypted=idnumbers.encrypt(parsed.number),
                    id_number_digest=idnumbers.digest(parsed.number),
                    id_number_masked=parsed.masked,
                )
                for name, relation, parsed in cleaned
            ]
        )
    audit.record(
        actor=actor,
        action="declaration.submit",
        obj=declaration,
        town=cadre.town_id,
        before=before,
        after={
            "nothing_to_declare": nothing_to_declare,
            "relatives": [{"name": n, "relation": r, "id_number_masked": p.masked} for n, r, p in cleaned],
        },
    )
    return declaration


@transaction.atomic
def finding_record(*, actor, flag, verdict: str, notes: str):
    """An inspector's finding on a flag (核实中 / 属实 / 排除); the newest is the flag's verdict."""
    from funds.models import Finding, InspectionFlag

    require(actor, "inspection.review")
    flag = in_scope(InspectionFlag, actor, flag, "flag", "预警")
    errors = {}
    if verdict not in Finding.Verdict.values:
        errors["verdict"] = ["请选择核查结论"]
    notes = (notes or "").strip()
    if not notes:
        errors["notes"] = ["请填写核查情况"]
    elif len(notes) > 2000:
        errors["notes"] = ["核查情况请控制在2000字以内"]
    if errors:
        raise ValidationError(errors)
    finding = Finding.objects.create(flag=flag, verdict=verdict, notes=notes, inspector=actor_profile(actor))
    audit.record(
        actor=actor,
        action="finding.create",
        obj=finding,
        town=flag.town_id,
        object_repr=f"{flag.title} #{flag.pk}：{finding.get_verdict_display()}",
        after={"flag": flag.pk, "rule": flag.rule, "verdict": verdict, "notes": notes},
    )
    return finding


# --- end of declarations and findings (issue 5 §3, §5) ---
