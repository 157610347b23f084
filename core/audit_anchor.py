"""Chain heads kept outside the database, and the county's seal of the town chains (issue 13 §3).

A chain that lost its newest records is still a whole chain: only a copy of its head kept where
the database's owner cannot write shows the loss. ``write_anchor()`` (``manage.py audit_anchor``,
beat every AUDIT_ANCHOR_MINUTES) first seals: one record in the county chain listing every town
chain's newest record, so the county chain vouches for the towns' and one head vouches for all.
Then it appends one line of JSON to AUDIT_ANCHOR_FILE, an append-only file on another volume:

    {"at": "2026-12-03T10:05:00+08:00", "heads": {"0": [id, hash], "12": [id, hash], ...}, "mac": "..."}

``mac`` is an HMAC of the rest under AUDIT_HMAC_KEY, so a line cannot be forged without the key.
``verify_chain(anchor=latest_anchor())`` requires every anchored head to be there, unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import audit
from core.models import AuditRecord
from core.scoping import area_model

SEAL_ACTION = "audit.seal"


class AnchorFileError(Exception):
    """The anchor file exists but its last line is not one we wrote (changed or forged)."""


def chain_ids() -> list[int]:
    area = area_model()
    return [audit.COUNTY_CHAIN, *sorted(area._base_manager.values_list("pk", flat=True))]


def current_heads() -> dict[int, tuple[int, str]]:
    """Each chain's newest record (id, hash): one index probe per chain (audit_chain_head)."""
    heads = {}
    for chain in chain_ids():
        row = AuditRecord._base_manager.filter(chain=chain).order_by("-id").values_list("id", "hash").first()
        if row:
            heads[chain] = (row[0], row[1])
    return heads


@transaction.atomic
def seal() -> AuditRecord | None:
    """Append a county record of every town chain's head, unless none moved since the last seal."""
    town_heads = {str(c): list(h) for c, h in current_heads().items() if c != audit.COUNTY_CHAIN}
    if not town_heads:
        return None
    last = (
        AuditRecord._base_manager.filter(chain=audit.COUNTY_CHAIN, action=SEAL_ACTION)
        .order_by("-id")
        .values_list("after", flat=True)
        .first()
    )
    if last and last.get("heads") == town_heads:
        return None
    return audit.record(
        actor=None,
        action=SEAL_ACTION,
        object_type="audit.chain",
        object_id="*",
        object_repr=f"各镇审计链链头（{len(town_heads)}条链）",
        after={"heads": town_heads},
    )


def _mac(entry: dict) -> str:
    body = json.dumps({k: v for k, v in entry.items() if k != "mac"}, sort_keys=True, ensure_ascii=False)
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), body.encode(), hashlib.sha256).hexdigest()


def write_anchor(path: str | os.PathLike | None = None) -> tuple[dict, bool]:
    """Seal, then append the heads to the anchor file. Returns (entry, written): nothing is written
    when no chain moved since the file's last line."""
    path = Path(path or settings.AUDIT_ANCHOR_FILE)
    seal()
    # Each head is a committed record; a record appended meanwhile is simply in the next line.
    heads = current_heads()
    entry = {"at": timezone.localtime().isoformat(timespec="seconds"), "heads": {str(c): list(h) for c, h in heads.items()}}
    try:
        previous = latest_anchor(path)
    except AnchorFileError:
        previous = None  # a bad last line stays for verify_audit to report; the new line is good
    if previous and previous["heads"] == entry["heads"]:
        return previous, False
    entry["mac"] = _mac(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n").encode()
    # O_APPEND: each line lands at the end even with two writers; the file is never rewritten.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry, True


def latest_anchor(path: str | os.PathLike | None = None) -> dict | None:
    """The file's last line, checked against its MAC; None when there is no file or it is empty."""
    path = Path(path or settings.AUDIT_ANCHOR_FILE)
    if not path.exists():
        return None
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 256 * 1024))  # a line is ~100 bytes per chain
        tail = handle.read().decode("utf-8", errors="replace")
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        entry = json.loads(lines[-1])
    except ValueError as error:
        raise AnchorFileError("锚定文件最后一行无法解析") from error
    if not isinstance(entry, dict) or not hmac.compare_digest(str(entry.get("mac", "")), _mac(entry)):
        raise AnchorFileError("锚定文件最后一行的密钥签名不符（被改动或伪造）")
    return entry
