"""The audit trail: append a hash-chained record in the caller's transaction, and verify the chain."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from core import bulk
from core.models import AuditRecord
from core.scoping import area_model, profile_of

GENESIS = "0" * 64
# pg_advisory_xact_lock(CHAIN_LOCK_KEY, chain): one lock per chain, taken by record() and by the
# capture trigger (migration funds 0005). Writers in different towns never wait for each other.
CHAIN_LOCK_KEY = 72_410_101
# Records with no town (logins of county accounts, campaigns, seals of the town heads) chain here.
COUNTY_CHAIN = 0


def chain_of(town_id) -> int:
    return int(town_id) if town_id else COUNTY_CHAIN


def _audit_key() -> bytes:
    # Read per call (not at import) so a test can sign with another key and watch verify fail.
    return settings.AUDIT_HMAC_KEY.encode()


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


def lock_chains(chains) -> None:
    """Take the chains' locks (until commit) in one order, so two writers of two chains cannot deadlock.

    Its own statement: a statement's snapshot is taken when it starts, so reading the head in the
    statement that waited for the lock could miss the record the lock's previous holder committed,
    and fork the chain.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for chain in sorted(set(chains)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CHAIN_LOCK_KEY, chain])


def _chain_heads_and_now(chains) -> tuple[dict[int, str], datetime]:
    """The hash each chain's next record links to, and the database's clock for their time."""
    chains = sorted(set(chains))
    if connection.vendor == "postgresql":
        lock_chains(chains)
        with connection.cursor() as cursor:
            # One index probe per chain (audit_chain_head); the clock after the locks were granted.
            cursor.execute(
                "SELECT c, (SELECT hash FROM funds_auditrecord WHERE chain = c ORDER BY id DESC LIMIT 1), clock_timestamp()"
                " FROM unnest(%s::integer[]) AS c",
                [chains],
            )
            rows = cursor.fetchall()
        return {c: last or GENESIS for c, last, _ in rows}, rows[0][2]
    heads = {}
    for chain in chains:
        last = AuditRecord._base_manager.filter(chain=chain).order_by("-id").values_list("hash", flat=True).first()
        heads[chain] = last or GENESIS
    with connection.cursor() as cursor:
        cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
        now = parse_datetime(cursor.fetchone()[0]).replace(tzinfo=UTC)
    return heads, now


def compute_hash(prev_hash: str, payload: str, *, keyed: bool = True) -> str:
    """HMAC-SHA256 under AUDIT_HMAC_KEY, which the database never holds: whoever rewrites a record
    and re-hashes the chain without the key is caught by verify_chain. Unkeyed (plain SHA-256) are
    only the records the database's own trigger writes (it has no key) and those written before the
    chain was keyed; each is covered by the keyed record that follows it in its chain."""
    message = (prev_hash + payload).encode()
    if keyed:
        return hmac.new(_audit_key(), message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def _actor_fields(actor) -> dict:
    if actor is None:
        return {"actor_id": None, "actor_name": "", "actor_role": "", "actor_town": ""}
    profile = profile_of(actor)  # read once per user object (core/scoping.py)
    return {
        "actor_id": actor.pk,
        "actor_name": profile.name if profile else actor.get_username(),
        "actor_role": profile.role if profile else ("superuser" if actor.is_superuser else ""),
        "actor_town": profile.town.name if profile and profile.town_id else "",
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
    chain = chain_of(fields["town_id"])
    heads, created_at = _chain_heads_and_now([chain])
    payload = _payload(fields, created_at)
    return AuditRecord._base_manager.create(
        created_at=created_at,
        payload=payload,
        prev_hash=heads[chain],
        hash=compute_hash(heads[chain], payload),
        chain=chain,
        keyed=True,
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
    the chain computed here, rows inserted with COPY (core/bulk.py) under ids reserved in list
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
    heads, created_at = _chain_heads_and_now(chain_of(fields["town_id"]) for fields in records)
    rows = []
    for fields in records:
        chain = chain_of(fields["town_id"])
        payload = _payload(fields, created_at)
        digest = compute_hash(heads[chain], payload)
        rows.append(
            AuditRecord(
                created_at=created_at, payload=payload, prev_hash=heads[chain], hash=digest, chain=chain, keyed=True, **fields
            )
        )
        heads[chain] = digest
    bulk.insert(AuditRecord, rows, batch_size=batch_size)  # ids in list order: the chain's order
    return len(rows)


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    problem: str = ""
    # chain -> (id, hash) of its newest record: what audit_anchor writes down outside the database.
    heads: dict[int, tuple[int, str]] = dataclasses.field(default_factory=dict)
    unkeyed: int = 0  # records signed without the key: the trigger's 'db' records and any older than the key
    anchor_at: str = ""  # when the anchor the chains were checked against was written ("" = none)

    @property
    def ok(self) -> bool:
        return self.broken_id is None

    @property
    def head(self) -> str:
        """The newest record's hash over all chains (kept for the command's one-line summary)."""
        return max(self.heads.values())[1] if self.heads else ""


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


def verify_chain(batch_size: int = 5000, anchor: dict | None = None) -> ChainReport:
    """Walk every chain in id order; report the first record whose link, keyed hash or columns disagree.

    Each town has its own chain (and the county one, 0): one pass keeps the last hash per chain.
    ``anchor`` is a chain head list written outside the database (core/audit_anchor.py): every
    head it names must still be there with the same hash, so cutting off the newest records
    (which leaves a shorter chain that is whole) is caught.
    """
    prev: dict[int, str] = {}
    heads: dict[int, tuple[int, str]] = {}
    anchored = {int(c): (int(i), h) for c, (i, h) in (anchor or {}).get("heads", {}).items()}
    seen_anchored: set[int] = set()
    keyed_chains: set[int] = set()
    checked = unkeyed = 0
    last_id = 0
    with transaction.atomic():
        while True:
            rows = list(
                AuditRecord._base_manager.filter(id__gt=last_id)
                .order_by("id")
                .values("id", "chain", "keyed", "payload", "prev_hash", "hash", "created_at", *_COMPARED)[:batch_size]
            )
            if not rows:
                break
            for row in rows:
                chain = row["chain"]
                problem = _check_row(row, prev.get(chain, GENESIS))
                # Unkeyed are only the trigger's 'db' records and the county chain's records from before
                # the key (migration funds 0005 left them there); anything else unkeyed was forged.
                if not problem and row["keyed"]:
                    keyed_chains.add(chain)
                elif (
                    not problem
                    and row["channel"] != AuditRecord.Channel.DATABASE
                    and (chain != COUNTY_CHAIN or chain in keyed_chains)
                ):
                    problem = "业务记录缺少密钥签名（伪造的记录）"
                # (Records from before the per-town chains all stayed in the county chain, unkeyed.)
                if not problem and row["keyed"] and chain != chain_of(row["town_id"]):
                    problem = "所属链与对象所属镇不符（记录被移动）"
                if problem:
                    return ChainReport(checked, row["id"], problem, heads=heads, unkeyed=unkeyed)
                prev[chain] = row["hash"]
                heads[chain] = (row["id"], row["hash"])
                if chain in anchored and anchored[chain][0] == row["id"]:
                    if anchored[chain][1] != row["hash"]:
                        return ChainReport(checked, row["id"], "与库外锚定的链头哈希不符（记录被改写）", heads=heads)
                    seen_anchored.add(chain)
                checked += 1
                unkeyed += not row["keyed"]
                last_id = row["id"]
    anchor_at = (anchor or {}).get("at", "")
    for chain, (anchored_id, _) in sorted(anchored.items()):
        if chain not in seen_anchored:
            return ChainReport(
                checked,
                anchored_id,
                f"{anchor_at} 锚定的{_chain_label(chain)}链头记录已不在库中（最新的记录被删除）",
                heads=heads,
                unkeyed=unkeyed,
                anchor_at=anchor_at,
            )
    return ChainReport(checked, heads=heads, unkeyed=unkeyed, anchor_at=anchor_at)


def _chain_label(chain: int) -> str:
    if chain == COUNTY_CHAIN:
        return "全市"
    area = area_model()
    name = area._base_manager.filter(pk=chain).values_list("name", flat=True).first()
    return name or f"镇 {chain} "


def _check_row(row: dict, prev: str) -> str:
    if row["prev_hash"] != prev:
        return "上一条哈希不符（前面的记录被删除、插入或改动）"
    if not hmac.compare_digest(compute_hash(row["prev_hash"], row["payload"], keyed=row["keyed"]), row["hash"]):
        if row["keyed"]:
            return "密钥签名与内容不符（内容被篡改，或用错误的密钥重新计算过）"
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


# --- how records read on the audit page: core/audit_labels.py holds the one table of labels ---------

from core.audit_labels import (  # noqa: E402  (re-exported for callers of audit.action_label & co.)
    ACTION_LABELS,  # noqa: F401
    OBJECT_TYPE_LABELS,  # noqa: F401
    DiffRow,  # noqa: F401
    action_label,  # noqa: F401
    diff_rows,  # noqa: F401
    object_type_label,  # noqa: F401
)
