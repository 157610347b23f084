"""Writes for the field work: visits and follow-ups. Each audited in its own transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from funds import audit
from towns.models import Beneficiary, Cadre
from towns import visit_due
from towns.permissions import require
from towns.scoping import unscoped
from towns.services import _actor_cadre, _in_scope
from visits.models import Campaign, FollowUp, FollowUpEvent, Visit


def _existing_visit(actor, key):
    with unscoped():
        existing = Visit.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    # A key replayed by someone else, or into another scope, is not an answer they may see.
    if not Visit.objects.for_user(actor).filter(pk=existing.pk).exists():
        raise ValidationError({"__all__": ["该表单已提交过，请刷新页面后重新填写"]})
    return existing


@transaction.atomic
def visit_create(
    *,
    actor,
    beneficiary,
    visited_at: datetime,
    idempotency_key: uuid.UUID,
    kind: str = Visit.Kind.HOME,
    visitors=(),
    volunteers_count: int = 0,
    campaign=None,
    bp_systolic: int | None = None,
    bp_diastolic: int | None = None,
    notes: str = "",
) -> tuple[Visit, bool]:
    """Log a visit; returns (visit, created). The same idempotency key answers with the first visit."""
    require(actor, "visit.log")
    existing = _existing_visit(actor, idempotency_key)
    if existing is not None:
        return existing, False
    person = _in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    campaign = _in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    colleagues = [_in_scope(Cadre, actor, v, "visitors", "走访干部") for v in visitors]
    recorder = _actor_cadre(actor)
    errors = {}
    now = timezone.now()
    if visited_at > now + timezone.timedelta(minutes=5):
        errors["visited_at"] = ["走访时间不能晚于现在"]
    if timezone.localtime(visited_at).date() < person.registered_on:
        errors["visited_at"] = [f"走访时间不能早于该对象的建档日期（{person.registered_on:%Y年%m月%d日}）"]
    if person.status != Beneficiary.Status.ACTIVE:
        errors["beneficiary"] = [f"该对象状态为“{person.get_status_display()}”，不能登记走访"]
    if kind not in Visit.Kind.values:
        errors["kind"] = ["请选择走访方式"]
    if (bp_systolic is None) != (bp_diastolic is None):
        errors["bp_systolic"] = ["血压须同时填写收缩压和舒张压"]
    elif bp_systolic is not None:
        if not 60 <= bp_systolic <= 260:
            errors["bp_systolic"] = ["收缩压应在60–260之间"]
        if not 30 <= bp_diastolic <= 160:
            errors["bp_diastolic"] = ["舒张压应在30–160之间"]
        if bp_systolic <= bp_diastolic:
            errors["bp_diastolic"] = ["舒张压应低于收缩压"]
    if volunteers_count < 0 or volunteers_count > 500:
        errors["volunteers_count"] = ["志愿者人数应在0–500之间"]
    if campaign is not None and not (campaign.starts_on <= timezone.localtime(visited_at).date() <= campaign.ends_on):
        errors["campaign"] = ["走访时间不在该专项活动期间内"]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                beneficiary=person,
                household_id=person.household_id,
                town_id=person.town_id,
                cell_id=person.cell_id,
                campaign=campaign,
                kind=kind,
                visited_at=visited_at,
                recorded_by=recorder,
                volunteers_count=volunteers_count,
                bp_systolic=bp_systolic,
                bp_diastolic=bp_diastolic,
                notes=notes.strip(),
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # A concurrent retry with the same key won the insert.
        return _existing_visit(actor, idempotency_key), False
    visit.visitors.set({recorder.pk, *(c.pk for c in colleagues)})
    visit_due.refresh_one(person, last_visited_at=visited_at)
    after = audit.snapshot(visit, exclude=("idempotency_key",))
    after["visitors"] = sorted({recorder.pk, *(c.pk for c in colleagues)})
    audit.record(actor=actor, action="visit.create", obj=visit, after=after)
    return visit, True


@transaction.atomic
def followup_create(
    *,
    actor,
    kind: str,
    title: str,
    beneficiary=None,
    visit=None,
    town=None,
    description: str = "",
    urgency: int = FollowUp.Level.LOW,
    importance: int = FollowUp.Level.LOW,
    scope: str = FollowUp.Scope.PERSON,
    owner=None,
    deadline: date | None = None,
    raised_on: date | None = None,
) -> FollowUp:
    require(actor, "followup.edit")
    person = _in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    visit = _in_scope(Visit, actor, visit, "visit", "走访记录")
    owner = _in_scope(Cadre, actor, owner, "owner", "责任人")
    recorder = _actor_cadre(actor)
    errors = {}
    if kind not in FollowUp.Kind.values:
        errors["kind"] = ["请选择事项类型"]
    if not (title or "").strip():
        errors["title"] = ["请填写事项内容"]
    if person is None and recorder.town_id is None:
        errors["beneficiary"] = ["请选择慰问对象"]
    raised_on = raised_on or timezone.localdate()
    if deadline is not None and deadline < raised_on:
        errors["deadline"] = ["办结时限不能早于提出日期"]
    if errors:
        raise ValidationError(errors)
    followup = FollowUp.objects.create(
        town_id=person.town_id if person else recorder.town_id,
        village_id=person.household.village_id if person else None,
        cell_id=person.cell_id if person else None,
        beneficiary=person,
        visit=visit,
        campaign=visit.campaign if visit else None,
        kind=kind,
        title=title.strip()[:120],
        description=description.strip(),
        urgency=urgency,
        importance=importance,
        scope=scope,
        owner=owner,
        raised_by=recorder,
        raised_on=raised_on,
        deadline=deadline,
    )
    FollowUpEvent.objects.create(followup=followup, actor=recorder, to_status=followup.status, note="登记")
    audit.record(actor=actor, action="followup.create", obj=followup, after=audit.snapshot(followup))
    return followup
