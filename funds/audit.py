"""The audit trail: append a hash-chained record in the caller's transaction, and verify the chain."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from funds.models import AuditRecord
from towns import bulk

GENESIS = "0" * 64
# Same key in the PostgreSQL trigger function (migration funds 0002): one chain, one lock.
CHAIN_LOCK_KEY = 72_410_101
# Transaction-local flag the money-table triggers read (migration funds 0002).
AUDITED_WRITE_SETTING = "nuanxin.audited_write"


@dataclass
class AuditContext:
    channel: str = AuditRecord.Channel.SHELL
    request_id: str = ""


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("audit_context", default=None)
_DEFAULT_CONTEXT = AuditContext()


@contextlib.contextmanager
def audit_context(*, channel: str, request_id: str = ""):
    """Set the channel and request id for every record written inside (middleware, tasks, imports)."""
    token = _context.set(AuditContext(channel=channel, request_id=request_id))
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> AuditContext:
    return _context.get() or _DEFAULT_CONTEXT


_pending: contextvars.ContextVar[list | None] = contextvars.ContextVar("audit_pending", default=None)


@contextlib.contextmanager
def appended_together():
    """Hold the records written inside and append them to the chain in one go when the block ends.

    For one form that calls several services (the visit log: a visit, its grants, its demands):
    one lock and one read of the chain's head instead of one per record. The block must run in
    the transaction of its writes and let every failure propagate: a failure discards the held
    records, and the transaction they describe is rolled back with it.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit.appended_together() must run inside the transaction of the writes it records")
    held: list[dict] = []
    token = _pending.set(held)
    try:
        yield
    finally:
        _pending.reset(token)
    _append(held)


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "pk"):
        return value.pk
    return value


def snapshot(instance, fields: list[str] | None = None, exclude: tuple[str, ...] = ()) -> dict:
    """Field values of a model instance for before/after (FKs as ids; encrypted fields left out)."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude or (fields is not None and field.name not in fields):
            continue
        data[field.attname] = _jsonable(getattr(instance, field.attname))
        if hasattr(data[field.attname], "name") and not isinstance(data[field.attname], str):  # FieldFile
            data[field.attname] = str(data[field.attname])
    return data


def _chain_head_and_now() -> tuple[str, datetime]:
    """The hash the next record chains to, and the database's clock for its time.

    On PostgreSQL the advisory lock is its own statement: a statement's snapshot is taken when it
    starts, so reading the head in the statement that waited for the lock could miss the record
    the lock's previous holder committed, and fork the chain.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Serialises writers of the chain until commit; the trigger takes the same lock.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
            # The service's write has been made by now and this record describes it, so close the
            # window mark_service_write() opened: any later unaudited write in the same transaction
            # (raw SQL, queryset.update) is again caught by the money-table triggers.
            cursor.execute(
                "SELECT (SELECT hash FROM funds_auditrecord ORDER BY id DESC LIMIT 1),"
                " clock_timestamp(), set_config(%s, 'off', true)",
                [AUDITED_WRITE_SETTING],
            )
            last, now, _ = cursor.fetchone()
            return last or GENESIS, now
    last = AuditRecord._base_manager.order_by("-id").values_list("hash", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
        now = parse_datetime(cursor.fetchone()[0]).replace(tzinfo=UTC)
    return last or GENESIS, now


def compute_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _actor_fields(actor) -> dict:
    if actor is None:
        return {"actor_id": None, "actor_name": "", "actor_role": "", "actor_town": ""}
    cadre = getattr(actor, "cadre", None) if hasattr(actor, "cadre") else None
    return {
        "actor_id": actor.pk,
        "actor_name": cadre.name if cadre else actor.get_username(),
        "actor_role": cadre.role if cadre else ("superuser" if actor.is_superuser else ""),
        "actor_town": cadre.town.name if cadre and cadre.town_id else "",
    }


def record(
    *,
    actor,
    action: str,
    obj=None,
    town=None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    channel: str | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditRecord:
    """Append one record. Must run inside the transaction of the write it describes."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the write it records")
    fields = _record_fields(
        actor_fields=_actor_fields(actor),
        ctx=current_context(),
        action=action,
        obj=obj,
        town=town,
        before=before,
        after=after,
        reason=reason,
        channel=channel,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
    )
    pending = _pending.get()
    if pending is not None:
        pending.append(fields)
        return None
    prev_hash, created_at = _chain_head_and_now()
    payload = _payload(fields, created_at)
    return AuditRecord._base_manager.create(
        created_at=created_at,
        payload=payload,
        prev_hash=prev_hash,
        hash=compute_hash(prev_hash, payload),
        **fields,
    )


def _record_fields(
    *,
    actor_fields,
    ctx,
    action,
    obj=None,
    town=None,
    before=None,
    after=None,
    reason="",
    channel=None,
    object_type="",
    object_id="",
    object_repr="",
) -> dict:
    """The columns of one record, shared by record() and record_many() so both sign the same way."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:120]
        if town is None and getattr(obj, "town_id", None):
            town = obj.town_id
    return {
        **actor_fields,
        "town_id": getattr(town, "pk", town),
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr[:120],
        "before": _jsonable(before) if before is not None else None,
        "after": _jsonable(after) if after is not None else None,
        "reason": reason,
        "request_id": ctx.request_id,
        "channel": channel or ctx.channel,
    }


def _payload(fields: dict, created_at: datetime) -> str:
    return json.dumps({**fields, "created_at": created_at.isoformat()}, ensure_ascii=False, sort_keys=True, default=str)


def record_many(*, actor, entries, batch_size: int = 5000) -> int:
    """Append many records for one bulk write (a roster import): one lock, one read of the head,
    the chain computed here, rows inserted with COPY (towns/bulk.py) under ids reserved in list
    order. Same payload and hash as record(), so verify_chain walks them like any other; the
    advisory lock keeps every other writer of the chain out until commit.

    ``entries`` are dicts of record()'s keyword arguments other than ``actor``. Returns how many.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record_many() must run inside the transaction of the write it records")
    actor_fields = _actor_fields(actor)  # one actor for the batch: read once, not per record
    ctx = current_context()
    return _append([_record_fields(actor_fields=actor_fields, ctx=ctx, **entry) for entry in entries], batch_size)


def _append(records: list[dict], batch_size: int = 5000) -> int:
    if not records:
        return 0
    prev_hash, created_at = _chain_head_and_now()
    rows = []
    for fields in records:
        payload = _payload(fields, created_at)
        digest = compute_hash(prev_hash, payload)
        rows.append(AuditRecord(created_at=created_at, payload=payload, prev_hash=prev_hash, hash=digest, **fields))
        prev_hash = digest
    bulk.insert(AuditRecord, rows, batch_size=batch_size)  # ids in list order: the chain's order
    return len(rows)


def mark_service_write() -> None:
    """Tell the PostgreSQL money-table triggers that the next write is audited by a service.

    Call it right before the write; the record() that follows closes the window again, so a
    service making two writes marks each. Forgetting costs an extra 'db' record, never a lost one.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [AUDITED_WRITE_SETTING])


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    problem: str = ""
    head: str = ""  # hash of the last record: write it down to notice later removal of the newest records

    @property
    def ok(self) -> bool:
        return self.broken_id is None


# Every column that mirrors the signed payload: changing any of them without re-signing is caught.
_COMPARED = (
    "actor_id",
    "actor_name",
    "actor_role",
    "actor_town",
    "town_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "reason",
    "request_id",
    "channel",
)


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in id order; report the first record whose hash, link or columns disagree.

    Records written by the PostgreSQL trigger (channel 'db') are signed the same way, so one
    walk covers both writers.
    """
    prev = GENESIS
    checked = 0
    last_id = 0
    with transaction.atomic():
        while True:
            rows = list(
                AuditRecord._base_manager.filter(id__gt=last_id)
                .order_by("id")
                .values("id", "payload", "prev_hash", "hash", "created_at", *_COMPARED)[:batch_size]
            )
            if not rows:
                break
            for row in rows:
                problem = _check_row(row, prev)
                if problem:
                    return ChainReport(checked, row["id"], problem)
                prev = row["hash"]
                checked += 1
                last_id = row["id"]
    return ChainReport(checked, head=prev)


def _check_row(row: dict, prev: str) -> str:
    if row["prev_hash"] != prev:
        return "上一条哈希不符（前面的记录被删除、插入或改动）"
    if compute_hash(row["prev_hash"], row["payload"]) != row["hash"]:
        return "哈希与内容不符（内容被篡改）"
    try:
        signed = json.loads(row["payload"])
    except ValueError:
        return "签名内容无法解析"
    if not isinstance(signed, dict):
        return "签名内容无法解析"
    for column in _COMPARED:
        if _normalise(signed.get(column)) != _normalise(row[column]):
            return f"字段 {column} 与签名内容不符（内容被篡改）"
    # Compared as instants: Python signs UTC, the trigger signs in the session's time zone.
    try:
        signed_at = parse_datetime(signed["created_at"]) if isinstance(signed.get("created_at"), str) else None
    except ValueError:
        signed_at = None
    if signed_at is None or signed_at != row["created_at"]:
        return "字段 created_at 与签名内容不符（内容被篡改）"
    return ""


def _normalise(value):
    # JSON round trips turn ints in keys to strings and "" / None may both mean empty.
    if value in ("", None):
        return None
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def record_personal_data_access(*, actor, what: str, count: int, town=None, filters: dict | None = None) -> AuditRecord:
    """Leave a record of personal data leaving the screen (exports, printed rosters).

    ``what`` names the list ("慰问对象台账"), ``count`` how many people's data it held,
    ``filters`` which rows were asked for. Call it inside the transaction that produces the file.
    """
    return record(
        actor=actor,
        action="personal_data.export",
        town=town,
        object_type="export",
        object_repr=f"{what}（{count}人）"[:120],
        after={"what": what, "count": count, "filters": filters or {}},
    )


# --- how records read on the audit page ---------------------------------------------------

ACTION_LABELS: dict[str, str] = {
    "account.login": "登录",
    "account.login_failed": "登录失败",
    "account.logout": "退出登录",
    "account.locked": "账号被锁定",
    "account.password_change": "修改密码",
    "account.password_reset": "重置密码",
    "account.setup_admin": "创建首个系统管理员",
    "beneficiary.create": "新增慰问对象",
    "beneficiary.update": "修改慰问对象",
    "beneficiary.status": "变更对象状态",
    "beneficiary.reveal_id": "查看完整身份证号",
    "beneficiary.import": "导入花名册",
    "household.create": "新增户",
    "household.update": "修改户",
    "gridcell.create": "新增网格",
    "gridcell.update": "修改网格",
    "assignment.create": "新增包保责任区",
    "assignment.end": "结束包保责任区",
    "visit.create": "登记走访",
    "visit.update": "修改走访记录",
    "activity.create": "登记集中活动",
    "followup.create": "登记诉求",
    "followup.update": "办理诉求",
    "followup.close": "诉求销号",
    "disbursement.create": "登记发放",
    "disbursement.void": "作废发放",
    "disbursement.approve": "审批发放",
    "disbursement.receipt": "上传签领凭证",
    "budget.create": "新增预算",
    "budget.update": "修改预算",
    "campaign.create": "新增专项活动",
    "campaign.update": "修改专项活动",
    "personal_data.export": "导出个人信息",
    "export.request": "申请导出",
    "inspection.run": "计算监督预警",
    "finding.create": "记录核查结论",
    "declaration.submit": "亲属申报",
    "disbursement.db_insert": "数据库直接插入发放记录",
    "disbursement.db_update": "数据库直接修改发放记录",
    "budget.db_insert": "数据库直接插入预算",
    "budget.db_update": "数据库直接修改预算",
    "budget.db_delete": "数据库直接删除预算",
}

# Generic verbs for actions written by code that has no entry above (e.g. the admin's "goodsitem.update").
_VERB_LABELS = {
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "db_insert": "数据库直接插入",
    "db_update": "数据库直接修改",
    "db_delete": "数据库直接删除",
}

OBJECT_TYPE_LABELS: dict[str, str] = {
    "towns.beneficiary": "慰问对象",
    "towns.household": "户",
    "towns.gridcell": "网格",
    "towns.village": "村（社区）",
    "towns.town": "镇（街道）",
    "towns.assignment": "包保责任区",
    "towns.cadre": "干部账号",
    "towns.category": "人群类别",
    "auth.user": "账号",
    "visits.visit": "走访记录",
    "visits.activity": "集中活动",
    "visits.followup": "诉求事项",
    "visits.campaign": "专项活动",
    "funds.disbursement": "发放记录",
    "funds.budget": "经费预算",
    "funds.goodsitem": "慰问品",
    "export": "导出",
    "reports.exportjob": "导出文件",
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    model, _, verb = action.partition(".")
    if verb in _VERB_LABELS:
        return _VERB_LABELS[verb] + _model_verbose_name(model)
    return action


def object_type_label(object_type: str) -> str:
    if object_type in OBJECT_TYPE_LABELS:
        return OBJECT_TYPE_LABELS[object_type]
    model = _model_for(object_type)
    return str(model._meta.verbose_name) if model else object_type


def _model_for(object_type: str):
    from django.apps import apps

    try:
        return apps.get_model(object_type) if "." in object_type else None
    except LookupError:
        return None


def _model_verbose_name(model_name: str) -> str:
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return str(model._meta.verbose_name)
    return model_name


@dataclass
class DiffRow:
    key: str
    label: str
    before: str
    after: str
    changed: bool


def diff_rows(record: AuditRecord, *, changed_only: bool = True) -> list[DiffRow]:
    """Before and after side by side, one row per field, labelled with the field's Chinese name.

    A create shows every value it set; an update shows the changed fields (or all, on the detail page).
    """
    before = record.before if isinstance(record.before, dict) else ({} if record.before is None else {"值": record.before})
    after = record.after if isinstance(record.after, dict) else ({} if record.after is None else {"值": record.after})
    keys = list(after) + [k for k in before if k not in after]
    labels = _field_labels(record.object_type)
    rows = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        changed = (key in before) != (key in after) or _normalise(old) != _normalise(new)
        if changed_only and record.before is not None and record.after is not None and not changed:
            continue
        rows.append(
            DiffRow(
                key, labels.get(key, key), _display(old) if key in before else "", _display(new) if key in after else "", changed
            )
        )
    return rows


def _field_labels(object_type: str) -> dict[str, str]:
    model = _model_for(object_type)
    if model is None:
        return {}
    labels = {}
    for field in model._meta.concrete_fields:
        labels[field.attname] = labels[field.name] = str(field.verbose_name)
    return labels


def _display(value) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, float):
        # Only numeric columns with decimals (money) arrive as floats, from the database trigger's to_jsonb().
        return f"{value:.2f}" if round(value, 2) == value else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
