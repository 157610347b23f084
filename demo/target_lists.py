"""The demo county's 慰问对象名单 (issue 12 §2): every town decided its list before each campaign began."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from core.permissions import TOWN_ADMIN
from core.scoping import unscoped
from towns.models import Beneficiary, Cadre
from visits.models import Campaign, TargetList, TargetListEntry
from visits.target_list_services import fill_from_categories

DEMO_SHOWCASE_TOWN = "冶山镇"  # where the demo shows a proposal's removal and a later addition, with reasons


def approve_target_lists(log=lambda line: None) -> int:
    """The demo county's towns decided their lists before each campaign began: for every campaign
    and town without a list, the categories' list is proposed by the town admin and approved at a
    committee meeting a week before the start (seed data with historical timestamps, covered by
    the load's one demo.load audit record, like the rest of the demo). In 冶山镇 the proposal drops
    one person and a later addition names another, each with its reason; with more than one campaign, the newest one's last town is left 待审定
    so the proposal and approval can be tried. Returns the number of lists approved."""
    approved = 0
    with unscoped():
        admins = {}
        for cadre in Cadre.objects.filter(role=TOWN_ADMIN, is_active=True).select_related("user", "town").order_by("id"):
            admins.setdefault(cadre.town_id, cadre)
        pairs = list(Campaign.towns.through.objects.order_by("campaign_id", "town__code").values_list("campaign_id", "town_id"))
        existing = set(TargetList.objects.values_list("campaign_id", "town_id"))
        campaigns = {c.pk: c for c in Campaign.objects.all()}
        newest = max(campaigns.values(), key=lambda c: (c.starts_on, c.pk), default=None)
        left_draft = None
        if newest is not None and len(campaigns) > 1:
            left_draft = next(((c, t) for c, t in reversed(pairs) if c == newest.pk), None)
        for campaign_id, town_id in pairs:
            admin = admins.get(town_id)
            if (campaign_id, town_id) in existing or admin is None:
                continue
            campaign = campaigns[campaign_id]
            decided = campaign.starts_on - timedelta(days=7)
            proposed_at = timezone.make_aware(datetime.combine(decided - timedelta(days=5), time(9, 30)))
            tl = TargetList.objects.create(campaign_id=campaign_id, town_id=town_id, proposed_by=admin, proposed_at=proposed_at)
            count = fill_from_categories(tl, admin, proposed_at)
            if (campaign_id, town_id) == left_draft:
                continue
            showcase = admin.town.name == DEMO_SHOWCASE_TOWN
            if showcase:
                count -= _demo_removal(tl, admin, proposed_at + timedelta(days=2))
            tl.status = TargetList.Status.APPROVED
            tl.decided_on, tl.decided_by = decided, f"镇党委{decided.year}年第{decided.month * 2}次会议"
            tl.decision_note = "按慰问对象类别拟定，经研究同意"
            tl.approved_by, tl.approved_at = admin, timezone.make_aware(datetime.combine(decided, time(16, 0)))
            tl.save()
            if showcase:
                _demo_addition(tl, admin, tl.approved_at + timedelta(days=10))
            approved += 1
    log(f"慰问对象名单：{approved} 份已审定")
    return approved


def _demo_removal(tl: TargetList, admin, at) -> int:
    entry = TargetListEntry.objects.filter(target_list=tl, listed=True).select_related("beneficiary").order_by("id").first()
    if entry is None:
        return 0
    entry.listed, entry.removed_at, entry.removed_by = False, at, admin
    entry.removed_reason = "子女已接至城区赡养，本人申请不再列入，经村两委核实"
    entry.save()
    return 1


def _demo_addition(tl: TargetList, admin, at) -> None:
    on_list = TargetListEntry.objects.filter(target_list=tl).values("beneficiary_id")
    person = (
        Beneficiary.objects.filter(town_id=tl.town_id, status=Beneficiary.Status.ACTIVE)
        .exclude(pk__in=on_list)
        .order_by("id")
        .first()
    )
    if person is None:
        return
    TargetListEntry.objects.create(
        target_list=tl,
        beneficiary=person,
        town_id=tl.town_id,
        cell_id=person.cell_id,
        source=TargetListEntry.Source.ADDED,
        added_at=at,
        added_by=admin,
        added_after_approval=True,
        added_reason="突发重病住院，家庭临时困难，经村两委提名、镇党委同意增补",
    )
