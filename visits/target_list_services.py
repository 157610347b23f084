"""Writes for the 慰问对象名单 (issue 12 §2): propose, add, remove, record the committee's decision.

Every write checks ``targetlist.edit`` (town admins), resolves what it is given through the
actor's scope, locks the list row, and appends one audit record in the same transaction. An
approved list is never edited in place: an addition or a removal after approval is its own
service call with its reason (``added_after_approval`` / ``removed_after_approval``), and the
dashboards are refreshed after commit because the list decides who counts.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit, outbox
from core.permissions import require
from core.scoping import unscoped
from core.services import actor_profile, in_scope
from towns.dates import cn_date
from towns.models import Beneficiary, Town
from visits import targets
from visits.models import Campaign, TargetList, TargetListEntry

REASON_MAX = 200


def _reason(reason: str, field: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: [f"请填写{what}理由"]})
    if len(reason) > REASON_MAX:
        raise ValidationError({field: [f"{what}理由不超过{REASON_MAX}字（现有{len(reason)}字）"]})
    return reason


def _snapshot(tl: TargetList, **extra) -> dict:
    return {
        "campaign": tl.campaign_id,
        "town": tl.town_id,
        "status": tl.status,
        "decided_on": tl.decided_on.isoformat() if tl.decided_on else None,
        "decided_by": tl.decided_by,
        **extra,
    }


def _entry_snapshot(entry: TargetListEntry) -> dict:
    return {
        "list": entry.target_list_id,
        "beneficiary": entry.beneficiary_id,
        "name": entry.beneficiary.name,
        "id_number_masked": entry.beneficiary.id_number_masked,
        "source": entry.source,
        "listed": entry.listed,
        "added_reason": entry.added_reason,
        "removed_reason": entry.removed_reason,
    }


def _locked(actor, target_list) -> TargetList:
    tl = in_scope(TargetList, actor, target_list, "target_list", "慰问对象名单")
    with unscoped():
        return TargetList.objects.select_for_update().select_related("campaign", "town").get(pk=tl.pk)


@transaction.atomic
def target_list_propose(*, actor, campaign, town=None, now: datetime | None = None) -> TargetList:
    """The town admin's proposal: every 在册 person of the town in the campaign's target categories,
    as a draft (待审定). One list per campaign and town; proposing again is refused."""
    require(actor, "targetlist.edit")
    cadre = actor_profile(actor)
    campaign = in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    town = in_scope(Town, actor, town if town is not None else cadre.town_id, "town", "镇（街道）")
    if not Campaign.towns.through.objects.filter(campaign_id=campaign.pk, town_id=town.pk).exists():
        raise ValidationError({"campaign": [f"{town.name}未参加“{campaign.name}”"]})
    with unscoped():
        if TargetList.objects.filter(campaign=campaign, town=town).exists():
            raise ValidationError({"__all__": [f"{town.name}“{campaign.name}”的慰问对象名单已经拟定，请在名单上增补或移出"]})
    now = now or timezone.now()
    tl = TargetList.objects.create(campaign=campaign, town=town, proposed_by=cadre, proposed_at=now)
    count = fill_from_categories(tl, cadre, now)
    audit.record(
        actor=actor,
        action="targetlist.propose",
        obj=tl,
        after=_snapshot(tl, people=count),
        reason=f"按慰问对象类别从信息库生成，共{count}人",
    )
    return tl


def fill_from_categories(tl: TargetList, cadre, now) -> int:
    """Entries for everyone the categories name in the town (set-based: a big town has ~20k)."""
    with unscoped():
        people = list(
            Beneficiary.objects.filter(targets.provisional_q(tl.campaign_id, tl.town_id))
            .order_by("id")
            .values_list("id", "cell_id")
        )
        TargetListEntry.objects.bulk_create(
            [
                TargetListEntry(
                    target_list=tl,
                    beneficiary_id=pk,
                    town_id=tl.town_id,
                    cell_id=cell_id,
                    source=TargetListEntry.Source.GENERATED,
                    added_at=now,
                    added_by=cadre,
                )
                for pk, cell_id in people
            ],
            batch_size=2000,
        )
    return len(people)


@transaction.atomic
def target_list_add(*, actor, target_list, beneficiary, reason: str) -> TargetListEntry:
    """Put a 在册 person of the town on the list, with the reason (增补)."""
    require(actor, "targetlist.edit")
    tl = _locked(actor, target_list)
    person = in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    reason = _reason(reason, "reason", "增补")
    if person.town_id != tl.town_id:
        raise ValidationError({"beneficiary": [f"{person.name}不是{tl.town.name}的慰问对象"]})
    if person.status != Beneficiary.Status.ACTIVE:
        raise ValidationError({"beneficiary": [f"{person.name}{person.get_status_display()}，不能列入名单"]})
    cadre = actor_profile(actor)
    now = timezone.now()
    with unscoped():
        entry = TargetListEntry.objects.select_related("beneficiary").filter(target_list=tl, beneficiary=person).first()
    before = None
    if entry is not None:
        if entry.listed:
            raise ValidationError({"beneficiary": [f"{person.name}已在名单上"]})
        before = _entry_snapshot(entry)
        entry.listed = True
        entry.removed_reason, entry.removed_at, entry.removed_by, entry.removed_after_approval = "", None, None, False
    else:
        entry = TargetListEntry(target_list=tl, beneficiary=person, town_id=tl.town_id, cell_id=person.cell_id)
    entry.source = TargetListEntry.Source.ADDED
    entry.added_reason, entry.added_at, entry.added_by = reason, now, cadre
    entry.added_after_approval = tl.approved
    entry.cell_id = person.cell_id
    entry.save()
    audit.record(
        actor=actor,
        action="targetlist.add",
        obj=entry,
        before=before,
        after={**_entry_snapshot(entry), "after_approval": tl.approved},
        reason=reason,
    )
    if tl.approved:
        outbox.campaign_changed(tl.campaign_id)
    return entry


@transaction.atomic
def target_list_remove(*, actor, entry, reason: str) -> TargetListEntry:
    """Take a person off the list, with the reason (移出). The row stays, marked, with who and why."""
    require(actor, "targetlist.edit")
    entry = in_scope(TargetListEntry, actor, entry, "entry", "名单人员")
    tl = _locked(actor, entry.target_list_id)
    reason = _reason(reason, "reason", "移出")
    with unscoped():
        entry = TargetListEntry.objects.select_related("beneficiary").get(pk=entry.pk)
    if not entry.listed:
        raise ValidationError({"entry": [f"{entry.beneficiary.name}已不在名单上"]})
    before = _entry_snapshot(entry)
    entry.listed = False
    entry.removed_reason, entry.removed_at, entry.removed_by = reason, timezone.now(), actor_profile(actor)
    entry.removed_after_approval = tl.approved
    entry.save(update_fields=["listed", "removed_reason", "removed_at", "removed_by", "removed_after_approval"])
    audit.record(
        actor=actor,
        action="targetlist.remove",
        obj=entry,
        before=before,
        after={**_entry_snapshot(entry), "after_approval": tl.approved},
        reason=reason,
    )
    if tl.approved:
        outbox.campaign_changed(tl.campaign_id)
    return entry


@transaction.atomic
def target_list_approve(*, actor, target_list, decided_on: date, decided_by: str, note: str = "") -> TargetList:
    """Record the town party committee's decision: the meeting's date and name. The list is frozen
    from now on, and becomes the campaign's targets in the town."""
    require(actor, "targetlist.edit")
    tl = _locked(actor, target_list)
    errors: dict = {}
    decided_by = (decided_by or "").strip()
    note = (note or "").strip()
    if tl.approved:
        raise ValidationError({"__all__": [f"该名单已于{cn_date(tl.decided_on, full=True)}审定，不能再次审定"]})
    if decided_on is None:
        errors["decided_on"] = ["请填写镇党委审定的日期"]
    elif decided_on > timezone.localdate():
        errors["decided_on"] = ["审定日期不能晚于今天"]
    if not decided_by:
        errors["decided_by"] = ["请填写审定的会议（如：镇党委2023年第24次会议）"]
    elif len(decided_by) > 100:
        errors["decided_by"] = ["审定会议不超过100字"]
    if len(note) > 200:
        errors["decision_note"] = ["审定意见不超过200字"]
    with unscoped():
        listed = TargetListEntry.objects.filter(target_list=tl, listed=True).count()
    if not listed:
        errors.setdefault("__all__", []).append("名单上没有人，不能审定")
    if errors:
        raise ValidationError(errors)
    before = _snapshot(tl)
    tl.status = TargetList.Status.APPROVED
    tl.decided_on, tl.decided_by, tl.decision_note = decided_on, decided_by, note
    tl.approved_by, tl.approved_at = actor_profile(actor), timezone.now()
    tl.save(update_fields=["status", "decided_on", "decided_by", "decision_note", "approved_by", "approved_at"])
    audit.record(actor=actor, action="targetlist.approve", obj=tl, before=before, after=_snapshot(tl, people=listed), reason=note)
    outbox.campaign_changed(tl.campaign_id)
    return tl
