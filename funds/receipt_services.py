"""Signed receipts (签领凭证) of grants: a photo for one grant, a roster scan for several (issue 5 §2)."""

from __future__ import annotations

import hashlib
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit
from core.permissions import require
from core.services import actor_profile
from funds.models import Disbursement, Receipt

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
def receipt_viewed(*, actor, receipt, covers: int) -> None:
    """Each view of a receipt's file is recorded: a signature next to a name is personal data."""
    require(actor, "registry.view")
    audit.record_personal_data_access(
        actor=actor,
        what=f"签领凭证 #{receipt.pk}（{receipt.get_kind_display()}）",
        count=covers,
        town=receipt.town_id,
        filters={"receipt": receipt.pk, "sha256": receipt.sha256},
    )
