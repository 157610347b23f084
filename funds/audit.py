"""The audit trail: append a hash-chained record in the caller's transaction, and verify the chain."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from funds.models import AuditRecord

GENESIS = "0" * 64
# Same key in the PostgreSQL trigger function (migration funds 0002): one chain, one lock.
CHAIN_LOCK_KEY = 72_410_101


@dataclass
class AuditContext:
    channel: str = AuditRecord.Channel.SHELL
    request_id: str = ""


_context = contextvars.ContextVar("audit_context", default=AuditContext())


@contextlib.contextmanager
def audit_context(*, channel: str, request_id: str = ""):
    """Set the channel and request id for every record written inside (middleware, tasks, imports)."""
    token = _context.set(AuditContext(channel=channel, request_id=request_id))
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> AuditContext:
    return _context.get()


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


def _database_now() -> datetime:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT clock_timestamp()")
            return cursor.fetchone()[0]
        cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
        return timezone.make_aware(parse_datetime(cursor.fetchone()[0]), timezone.UTC)


def _chain_head() -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Serialises writers of the chain until commit; the trigger takes the same lock.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    last = AuditRecord._base_manager.order_by("-id").values_list("hash", flat=True).first()
    return last or GENESIS


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
    ctx = current_context()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:120]
        if town is None and getattr(obj, "town_id", None):
            town = obj.town_id
    town_id = getattr(town, "pk", town)
    fields = {
        **_actor_fields(actor),
        "town_id": town_id,
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
    prev_hash = _chain_head()
    created_at = _database_now()
    payload = json.dumps({**fields, "created_at": created_at.isoformat()}, ensure_ascii=False, sort_keys=True, default=str)
    return AuditRecord._base_manager.create(
        created_at=created_at,
        payload=payload,
        prev_hash=prev_hash,
        hash=compute_hash(prev_hash, payload),
        **fields,
    )


def mark_service_write() -> None:
    """Tell the PostgreSQL money-table triggers that this transaction's writes are audited by a service."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('nuanxin.audited_write', 'on', true)")


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


_COMPARED = ("actor_id", "town_id", "action", "object_type", "object_id", "reason", "channel", "before", "after")


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in id order; report the first record whose hash, link or columns disagree."""
    prev = GENESIS
    checked = 0
    last_id = 0
    with transaction.atomic():
        while True:
            rows = list(
                AuditRecord._base_manager.filter(id__gt=last_id)
                .order_by("id")
                .values("id", "payload", "prev_hash", "hash", *_COMPARED)[:batch_size]
            )
            if not rows:
                break
            for row in rows:
                if row["prev_hash"] != prev:
                    return ChainReport(checked, row["id"], "上一条哈希不符（记录被删除或插入）")
                if compute_hash(row["prev_hash"], row["payload"]) != row["hash"]:
                    return ChainReport(checked, row["id"], "哈希与内容不符（内容被篡改）")
                try:
                    signed = json.loads(row["payload"])
                except ValueError:
                    return ChainReport(checked, row["id"], "签名内容无法解析")
                for column in _COMPARED:
                    if _normalise(signed.get(column)) != _normalise(row[column]):
                        return ChainReport(checked, row["id"], f"字段 {column} 与签名内容不符（内容被篡改）")
                prev = row["hash"]
                checked += 1
                last_id = row["id"]
    return ChainReport(checked)


def _normalise(value):
    # JSON round trips turn ints in keys to strings and "" / None may both mean empty.
    if value in ("", None):
        return None
    return json.loads(json.dumps(value, sort_keys=True, default=str))
