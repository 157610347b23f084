"""The follow-up lifecycle (issue 6 §1): 问题清单销号机制.

待受理 → 办理中 → 已办结 → 已回访 → 已销号, or 不予受理 with a reason. What can be settled at
once is (当场解决); what cannot is 挂图作战: a deadline and milestones counted back from it
(倒排工期). Only a return visit in which the person says 满意/基本满意 lets an item be closed;
不满意 reopens it (复号).

Every service: keyword-only, one transaction, ``require("followup.edit")``, the item and every id
resolved through for_user(actor), one FollowUpEvent and one audit record per change.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import audit, outbox
from core.permissions import require
from core.services import actor_profile, in_scope
from towns.dates import cn_date
from towns.models import Beneficiary, Cadre, PartyBranch, Village
from visits.models import FollowUp, FollowUpEvent, FollowUpMilestone, FollowUpRule

S = FollowUp.Status
Ev = FollowUpEvent.Kind

# When a town has written no rule: 高 3 天, 较高 7 天, 一般 15 天 (by the more pressing of urgency
# and importance, so an important item is not left a fortnight because it was not marked urgent).
DEFAULT_DAYS = {FollowUp.Level.HIGH: 3, FollowUp.Level.MEDIUM: 7, FollowUp.Level.LOW: 15}
DEFAULT_MILESTONES = ("受理交办", "办理落实", "回访核实")
MAX_MILESTONES = 12
_AUDITED = (
    "status",
    "owner",
    "owner_department",
    "deadline",
    "tracked",
    "resolved_at_once",
    "satisfaction",
    "reopened_count",
    "closed_on",
    "resolved_on",
    "claimed_by_name",
    "claimed_by_branch",
    "claimed_at",
    "fulfilled_at",
    "rejection_reason",
)


def _snap(item: FollowUp) -> dict:
    return audit.snapshot(item, fields=list(_AUDITED))


def deadline_days(actor, town_id: int, urgency: int, importance: int) -> int:
    """Days an item gets: the town's rule for urgency+importance, else for the urgency alone, else the default."""
    rules = {
        (r.urgency, r.importance): r.days for r in FollowUpRule.objects.for_user(actor).filter(town_id=town_id, urgency=urgency)
    }
    if (urgency, importance) in rules:
        return rules[(urgency, importance)]
    if (urgency, None) in rules:
        return rules[(urgency, None)]
    return DEFAULT_DAYS[max(int(urgency), int(importance))]


def _load(actor, followup) -> FollowUp:
    """The item, locked for the change, through the actor's scope; another town's id is refused."""
    pk = getattr(followup, "pk", followup)
    item = FollowUp.objects.for_user(actor).select_for_update(of=("self",)).filter(pk=pk).first()
    if item is None:
        raise ValidationError({"__all__": ["诉求事项不存在或不在您的管辖范围内"]})
    return item


def _refuse(item: FollowUp, action: str, allowed) -> None:
    if item.status not in allowed:
        names = "、".join(S(s).label for s in allowed)
        raise ValidationError({"__all__": [f"该事项当前为“{item.get_status_display()}”，不能{action}（须为{names}）"]})


def _commit(item, *, actor, recorder, action, before, kind=Ev.STATUS, from_status="", to_status="", note="", reason=""):
    """Save the item, append its event and its audit record: one change, one of each."""
    item.save()
    FollowUpEvent.objects.create(
        followup=item, actor=recorder, kind=kind, from_status=from_status, to_status=to_status, note=note or reason
    )
    audit.record(actor=actor, action=action, obj=item, before=before, after=_snap(item), reason=reason)
    outbox.campaign_changed(item.campaign_id)
    return item


def _status(item, new, *, actor, recorder, action, before, note="", reason="", kind=Ev.STATUS):
    old = item.status
    item.status = new
    return _commit(
        item,
        actor=actor,
        recorder=recorder,
        action=action,
        before=before,
        kind=kind,
        from_status=old,
        to_status=new,
        note=note,
        reason=reason,
    )


def _level(value, field, label, errors) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = None
    if value not in FollowUp.Level.values:
        errors[field] = [f"请选择{label}"]
        return FollowUp.Level.LOW
    return value


@transaction.atomic
def followup_raise(
    *,
    actor,
    kind: str,
    title: str,
    description: str = "",
    beneficiary=None,
    village=None,
    urgency=FollowUp.Level.LOW,
    importance=FollowUp.Level.LOW,
    scope: str = FollowUp.Scope.PERSON,
    owner=None,
    owner_department: str = "",
    deadline: date | None = None,
    raised_on: date | None = None,
) -> FollowUp:
    """登记: a person's item, or a village's (意见建议 from a 板凳会 has no one person)."""
    require(actor, "followup.edit")
    person = in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    village = in_scope(Village, actor, village, "village", "村（社区）")
    owner = in_scope(Cadre, actor, owner, "owner", "责任人")
    recorder = actor_profile(actor)
    errors: dict[str, list[str]] = {}
    if kind not in FollowUp.Kind.values:
        errors["kind"] = ["请选择事项类型"]
    title = (title or "").strip()
    if not title:
        errors["title"] = ["请填写事项内容"]
    elif len(title) > 120:
        errors["title"] = ["事项最多120个字，详细情况请写在“详细情况”里"]
    if person is None and village is None:
        errors["village"] = ["未选择慰问对象时，请选择事项所在的村（社区）"]
    if person is not None and village is not None and person.household.village_id != village.pk:
        errors["village"] = ["所选村（社区）与慰问对象所在村不一致"]
    town_id = person.town_id if person else (village.town_id if village else recorder.town_id)
    if recorder.town_id is not None and town_id != recorder.town_id:
        errors["__all__"] = ["只能登记本镇的事项"]
    if kind == FollowUp.Kind.MEASURE and person is None:
        errors["beneficiary"] = ["帮扶措施须落实到具体慰问对象"]
    urgency = _level(urgency, "urgency", "紧急程度", errors)
    importance = _level(importance, "importance", "重要程度", errors)
    if scope not in FollowUp.Scope.values:
        errors["scope"] = ["请选择影响范围"]
    owner_department = (owner_department or "").strip()
    if len(owner_department) > 60:
        errors["owner_department"] = ["责任部门最多60个字"]
    if owner is not None and owner.town_id != town_id:
        errors["owner"] = ["责任人须为本镇干部"]
    raised_on = raised_on or timezone.localdate()
    if deadline is not None and deadline < raised_on:
        errors["deadline"] = ["办结时限不能早于提出日期"]
    if errors:
        raise ValidationError(errors)
    if deadline is None:
        deadline = raised_on + timedelta(days=deadline_days(actor, town_id, urgency, importance))
    item = FollowUp.objects.create(
        town_id=town_id,
        village_id=person.household.village_id if person else village.pk,
        cell_id=person.cell_id if person else None,
        beneficiary=person,
        kind=kind,
        title=title,
        description=(description or "").strip(),
        urgency=urgency,
        importance=importance,
        scope=scope,
        owner=owner,
        owner_department=owner_department,
        raised_by=recorder,
        raised_on=raised_on,
        deadline=deadline,
    )
    FollowUpEvent.objects.create(followup=item, actor=recorder, kind=Ev.STATUS, to_status=item.status, note="登记")
    audit.record(actor=actor, action="followup.create", obj=item, after=audit.snapshot(item))
    outbox.campaign_changed(item.campaign_id)
    return item


def _assign(item, owner, department):
    if owner is not None:
        item.owner = owner
    if department:
        item.owner_department = department


@transaction.atomic
def followup_accept(*, actor, followup, owner=None, owner_department: str = "", note: str = "") -> FollowUp:
    """受理: 待受理 → 办理中; with no owner yet, the one accepting it answers for it."""
    require(actor, "followup.edit")
    item = _load(actor, followup)
    _refuse(item, "受理", [S.PENDING])
    owner = in_scope(Cadre, actor, owner, "owner", "责任人")
    recorder = actor_profile(actor)
    before = _snap(item)
    _assign(item, owner, (owner_department or "").strip()[:60])
    if item.owner_id is None and not item.owner_department:
        item.owner = recorder
    return _status(
        item, S.IN_PROGRESS, actor=actor, recorder=recorder, action="followup.accept", before=before, note=note.strip() or "受理"
    )


@transaction.atomic
def followup_resolve_at_once(*, actor, followup, note: str = "") -> FollowUp:
    """能立即解决的立即解决: 待受理/办理中 → 已办结 the same day."""
    require(actor, "followup.edit")
    item = _load(actor, followup)
    _refuse(item, "当场解决", [S.PENDING, S.IN_PROGRESS])
    recorder = actor_profile(actor)
    before = _snap(item)
    if item.owner_id is None and not item.owner_department:
        item.owner = recorder
    item.resolved_at_once = True
    item.resolved_on = timezone.localdate()
    return _status(
        item,
        S.RESOLVED,
        actor=actor,
        recorder=recorder,
        action="followup.resolve_at_once",
        before=before,
        note=note.strip() or "当场解决",
    )


def counted_back(deadline: date, start: date, titles) -> list[tuple[str, date]]:
    """倒排工期: the last step falls on the deadline, the others evenly before it, none before start."""
    n = len(titles)
    span = max((deadline - start).days, 0)
    return [(title, deadline - timedelta(days=span * (n - 1 - i) // n)) for i, title in enumerate(titles)]


@transaction.atomic
def followup_track(*, actor, followup, deadline: date, milestones=None, note: str = "") -> FollowUp:
    """挂图作战: a deadline and milestones counted back from it (or the ones given as (title, due_on))."""
    require(actor, "followup.edit")
    item = _load(actor, followup)
    _refuse(item, "挂图作战", [S.PENDING, S.IN_PROGRESS])
    today = timezone.localdate()
    if deadline is None:
        raise ValidationError({"deadline": ["请填写办结时限"]})
    if deadline < today:
        raise ValidationError({"deadline": ["办结时限不能早于今天"]})
    if milestones:
        steps = [((t or "").strip()[:100], d) for t, d in milestones]
        if len(steps) > MAX_MILESTONES:
            raise ValidationError({"milestones": [f"节点最多{MAX_MILESTONES}个"]})
        for title, due in steps:
            if not title:
                raise ValidationError({"milestones": ["节点须填写名称"]})
            if due is None or due > deadline or due < today:
                raise ValidationError({"milestones": [f"节点“{title}”的时限须在今天与办结时限之间"]})
    else:
        steps = counted_back(deadline, today, DEFAULT_MILESTONES)
    recorder = actor_profile(actor)
    before = _snap(item)
    # Re-planning replaces the open steps; the ones already done stay as history.
    item.milestones.filter(done_on__isnull=True).delete()
    FollowUpMilestone.objects.bulk_create(FollowUpMilestone(followup=item, title=t, due_on=d) for t, d in steps)
    item.tracked = True
    item.deadline = deadline
    if item.owner_id is None and not item.owner_department:
        item.owner = recorder
    old = item.status
    item.status = S.IN_PROGRESS  # putting it on the board is accepting it
    plan = "；".join(f"{t} {cn_date(d)}" for t, d in steps)
    return _commit(
        item,
        actor=actor,
        recorder=recorder,
        action="followup.track",
        before=before,
        kind=Ev.PROGRESS,
        from_status=old,
        to_status=item.status,
        note=f"挂图作战，{cn_date(deadline)}前办结：{plan}" + (f"。{note.strip()}" if note.strip() else ""),
    )


@transaction.atomic
def milestone_done(*, actor, milestone, followup=None, note: str = "") -> FollowUpMilestone:
    """Tick off a step; given the item (as the page does), a step of another item is refused."""
    require(actor, "followup.edit")
    pk = getattr(milestone, "pk", milestone)
    step = FollowUpMilestone.objects.for_user(actor).filter(pk=pk).first()
    if step is None or (followup is not None and step.followup_id != getattr(followup, "pk", followup)):
        raise ValidationError({"__all__": ["办理节点不存在或不在您的管辖范围内"]})
    item = _load(actor, step.followup_id)
    _refuse(item, "完成节点", [S.IN_PROGRESS])
    if step.done_on is not None:
        raise ValidationError({"__all__": [f"节点“{step.title}”已于{cn_date(step.done_on)}完成"]})
    recorder = actor_profile(actor)
    step.done_on = timezone.localdate()
    step.note = note.strip()[:200]
    step.save(update_fields=["done_on", "note"])
    late = "（逾期完成）" if step.done_on > step.due_on else ""
    FollowUpEvent.objects.create(
        followup=item,
        actor=recorder,
        kind=Ev.PROGRESS,
        note=f"完成节点：{step.title}{late}" + (f"。{step.note}" if step.note else ""),
    )
    audit.record(
        actor=actor,
        action="followup.milestone_done",
        obj=step,
        before={"done_on": None},
        after={"done_on": step.done_on.isoformat(), "followup_id": item.pk},
        reason=step.note,
    )
    return step


@transaction.atomic
def followup_progress(*, actor, followup, note: str) -> FollowUpEvent:
    """跟踪反馈: a progress note on an open item."""
    require(actor, "followup.edit")
    item = _load(actor, followup)
    _refuse(item, "记录进展", [S.PENDING, S.IN_PROGRESS, S.RESOLVED, S.REVISITED])
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["请填写进展情况"]})
    recorder = actor_profile(actor)
    event = FollowUpEvent.objects.create(followup=item, actor=recorder, kind=Ev.PROGRESS, note=note[:2000])
    audit.record(actor=actor, action="followup.progress", obj=item, after={"note": note[:2000]})
    return event


@transaction.atomic
def followup_reassign(*, actor, followup, owner=None, owner_department: str = "", reason: str) -> FollowUp:
    """改派: a new owner or department; the event keeps who had it before and why it moved."""
    require(actor, "followup.edit")
    item = _load(actor, followup)
    _refuse(item, "改派", [S.PENDING, S.IN_PROGRESS])
    owner = in_scope(Cadre, actor, owner, "owner", "责任人")
    department = (owner_department or "").strip()[:60]
    reason = (reason or "").strip()
    errors = {}
    if owner is None and not department:
        errors["owner"] = ["请选择新的责任人或填写责任部门"]
    if owner is not None and owner.town_id != item.town_id:
        errors["owner"] = ["责任人须为本镇干部"]
    if not reason:
        errors["reason"] = ["改派须填写原因"]
    if owner is not None and owner.pk == item.owner_id and department == item.owner_department:
        errors["owner"] = ["新责任人与原责任人相同"]
    if errors:
        raise ValidationError(errors)
    recorder = actor_profile(actor)
    before = _snap(item)
    was = "、".join(x for x in (item.owner.name if item.owner_id else "", item.owner_department) if x) or "未指定"
    # Exactly who answers now: a new cadre alone clears the old department, and vice versa.
    item.owner = owner
    item.owner_department = department
    now = "、".join(x for x in (owner.name if owner else "", department) if x)
    return _commit(
        item,
        actor=actor,
        recorder=recorder,
        action="followup.reassign",
        before=before,
        kind=Ev.REASSIGN,
        note=f"由 {was} 改派给 {now}：{reason}",
        reason=reason,
    )


@transaction.atomic
def followup_resolve(*, actor, followup, note: str = "") -> FollowUp:
    require(actor, "followup.edit")
    item = _load(actor, followup)
    _refuse(item, "办结", [S.IN_PROGRESS])
    recorder = actor_profile(actor)
    before = _snap(item)
    item.resolved_on = timezone.localdate()
    return _status(
        item, S.RESOLVED, actor=actor, recorder=recorder, action="followup.resolve", before=before, note=note.strip() or "办结"
    )


@transaction.atomic
def followup_revisit(*, actor, followup, satisfaction: str, note: str = "") -> FollowUp:
    """回访: the person's view. 不满意 reopens it (复号): back to 办理中, counted."""
    require(actor, "followup.edit")
    item = _load(actor, followup)
    _refuse(item, "回访", [S.RESOLVED])
    if satisfaction not in FollowUp.Satisfaction.values:
        raise ValidationError({"satisfaction": ["请选择群众评价：满意、基本满意或不满意"]})
    recorder = actor_profile(actor)
    before = _snap(item)
    item.satisfaction = satisfaction
    label = FollowUp.Satisfaction(satisfaction).label
    note = (note or "").strip()
    if satisfaction == FollowUp.Satisfaction.DISSATISFIED:
        item.reopened_count += 1
        item.resolved_on = None
        item.resolved_at_once = False
        return _status(
            item,
            S.IN_PROGRESS,
            actor=actor,
            recorder=recorder,
            action="followup.reopen",
            before=before,
            kind=Ev.REOPEN,
            note=f"回访：{label}，复号重办（第{item.reopened_count}次）" + (f"。{note}" if note else ""),
            reason=note,
        )
    return _status(
        item,
        S.REVISITED,
        actor=actor,
        recorder=recorder,
        action="followup.revisit",
        before=before,
        kind=Ev.REVISIT,
        note=f"回访：{label}" + (f"。{note}" if note else ""),
    )


@transaction.atomic
def followup_close(*, actor, followup, note: str = "") -> FollowUp:
    """销号: only after a return visit the person was satisfied with."""
    require(actor, "followup.edit")
    item = _load(actor, followup)
    _refuse(item, "销号", [S.REVISITED])
    if item.satisfaction not in (FollowUp.Satisfaction.SATISFIED, FollowUp.Satisfaction.MOSTLY):
        raise ValidationError({"__all__": ["回访评价为满意或基本满意后才能销号"]})
    recorder = actor_profile(actor)
    before = _snap(item)
    item.closed_on = timezone.localdate()
    settled = settle_milestones(item, item.closed_on)
    note = note.strip() or "销号"
    if settled:
        note += f"（{'、'.join(settled)}随销号完成）"
    return _status(item, S.CLOSED, actor=actor, recorder=recorder, action="followup.close", before=before, note=note)


SETTLED_NOTE = "随销号完成"


def settle_milestones(item: FollowUp, day: date) -> list[str]:
    """销号 ends the board's plan: a step still open (回访核实 is usually the last) is done on that day,
    so a closed item never shows a step waiting. Returns the titles settled."""
    open_steps = list(item.milestones.filter(done_on__isnull=True).order_by("due_on", "id"))
    if open_steps:
        FollowUpMilestone.objects.filter(pk__in=[m.pk for m in open_steps]).update(done_on=day, note=SETTLED_NOTE)
    return [m.title for m in open_steps]


@transaction.atomic
def followup_reject(*, actor, followup, reason: str) -> FollowUp:
    require(actor, "followup.edit")
    item = _load(actor, followup)
    _refuse(item, "不予受理", [S.PENDING])
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["不予受理须填写原因"]})
    recorder = actor_profile(actor)
    before = _snap(item)
    item.rejection_reason = reason[:200]
    return _status(
        item,
        S.REJECTED,
        actor=actor,
        recorder=recorder,
        action="followup.reject",
        before=before,
        note=f"不予受理：{item.rejection_reason}",
        reason=item.rejection_reason,
    )


@transaction.atomic
def wish_claim(*, actor, followup, name: str, branch) -> FollowUp:
    """认领微心愿: a party member by name and their branch (a branch of the item's town)."""
    require(actor, "followup.edit")
    item = _load(actor, followup)
    if item.kind != FollowUp.Kind.WISH:
        raise ValidationError({"__all__": ["只有微心愿可以认领"]})
    _refuse(item, "认领", [S.PENDING, S.IN_PROGRESS])
    if item.claimed_by_name:
        raise ValidationError({"__all__": [f"该微心愿已由{item.claimed_by_name}认领"]})
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = ["请填写认领党员姓名"]
    elif len(name) > 30:
        errors["name"] = ["姓名最多30个字"]
    found = None
    if branch in (None, ""):
        errors["branch"] = ["请选择认领党员所在支部"]
    else:
        found = PartyBranch.objects.for_user(actor).filter(pk=getattr(branch, "pk", branch), town_id=item.town_id).first()
        if found is None:
            errors["branch"] = ["党支部不存在或不在您的管辖范围内"]
    if errors:
        raise ValidationError(errors)
    recorder = actor_profile(actor)
    before = _snap(item)
    item.claimed_by_name = name
    item.claimed_by_branch = found
    item.claimed_at = timezone.now()
    if item.owner_id is None and not item.owner_department:
        item.owner = recorder  # a cadre still answers for the wish being kept
    old = item.status
    item.status = S.IN_PROGRESS  # a claimed wish is being worked on
    return _commit(
        item,
        actor=actor,
        recorder=recorder,
        action="followup.wish_claim",
        before=before,
        kind=Ev.CLAIM,
        from_status=old,
        to_status=item.status,
        note=f"{found.name} {name} 认领",
    )


@transaction.atomic
def wish_fulfil(*, actor, followup, note: str = "") -> FollowUp:
    """兑现: the claimed wish was kept; it goes to 已办结 and waits for its return visit like any item."""
    require(actor, "followup.edit")
    item = _load(actor, followup)
    if item.kind != FollowUp.Kind.WISH or not item.claimed_by_name:
        raise ValidationError({"__all__": ["只有已认领的微心愿可以登记兑现"]})
    _refuse(item, "登记兑现", [S.IN_PROGRESS])
    recorder = actor_profile(actor)
    before = _snap(item)
    item.fulfilled_at = timezone.now()
    item.resolved_on = timezone.localdate()
    return _status(
        item,
        S.RESOLVED,
        actor=actor,
        recorder=recorder,
        action="followup.wish_fulfil",
        before=before,
        note=f"心愿兑现（{item.claimed_by_name}）" + (f"。{note.strip()}" if note.strip() else ""),
    )


def owner_choices(actor):
    """Cadres of the actor's town who can own an item (active field roles), with their village for the label."""
    from towns.cadre_labels import with_place

    return with_place(
        Cadre.objects.for_user(actor)
        .filter(is_active=True)
        .filter(Q(role__in=["grid_worker", "town_cadre", "town_admin"]))
        .order_by("name", "id")
    )
