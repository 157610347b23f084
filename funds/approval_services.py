"""Approval of grants that wait for a town admin (issue 5 §2)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit, outbox
from core.permissions import require
from core.services import actor_profile, in_scope
from funds.models import Disbursement

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
