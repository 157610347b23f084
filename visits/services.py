"""Writes for the field work: visits and follow-ups. Each audited in its own transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import audit, outbox
from core.permissions import require
from core.scoping import mark_in_scope, unscoped
from core.services import actor_profile, in_scope, part_refused, parts_of_one_write, service_atomic
from towns import visit_due
from towns.dates import cn_date
from towns.models import Beneficiary, Cadre, Village, VolunteerTeam
from visits.models import Activity, Campaign, FollowUp, FollowUpEvent, Visit


def _existing_visit(actor, key):
    with unscoped():
        existing = Visit.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    # A key replayed by someone else, or into another scope, is not an answer they may see.
    if not Visit.objects.for_user(actor).filter(pk=existing.pk).exists():
        raise ValidationError({"__all__": ["该表单已提交过，请刷新页面后重新填写"]})
    return existing


@service_atomic
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
    key_checked: bool = False,
) -> tuple[Visit, bool]:
    """Log a visit; returns (visit, created). The same idempotency key answers with the first visit.

    ``key_checked``: the caller has just looked the key up itself (the visit log does).
    """
    require(actor, "visit.log")
    existing = None if key_checked else _existing_visit(actor, idempotency_key)
    if existing is not None:
        return existing, False
    person = in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    campaign = in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    colleagues = [in_scope(Cadre, actor, v, "visitors", "走访干部") for v in visitors]
    recorder = actor_profile(actor)
    errors = {}
    now = timezone.now()
    if visited_at > now + timezone.timedelta(minutes=5):
        errors["visited_at"] = ["走访时间不能晚于现在"]
    if timezone.localtime(visited_at).date() < person.registered_on:
        errors["visited_at"] = [f"走访时间不能早于该对象的建档日期（{cn_date(person.registered_on)}）"]
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
    mark_in_scope(visit, actor)  # of a person in scope: the grants and demands below need no re-read
    visitor_ids = sorted({recorder.pk, *(c.pk for c in colleagues)})
    through = Visit.visitors.through  # a new visit has no visitors yet: one INSERT, no read first
    through.objects.bulk_create([through(visit_id=visit.pk, cadre_id=pk) for pk in visitor_ids])
    visit_due.refresh_one(person, last_visited_at=visited_at)
    after = audit.snapshot(visit, exclude=("idempotency_key",))
    after["visitors"] = visitor_ids
    audit.record(actor=actor, action="visit.create", obj=visit, after=after)
    outbox.campaign_changed(visit.campaign_id)
    return visit, True


@service_atomic
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
    person = in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    visit = in_scope(Visit, actor, visit, "visit", "走访记录")
    owner = in_scope(Cadre, actor, owner, "owner", "责任人")
    recorder = actor_profile(actor)
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
    outbox.campaign_changed(followup.campaign_id)
    return followup


# --- the visit log (issue 4 §3): one screen, one transaction ----------------------------------

MAX_DEMANDS = 10
DEMAND_MAX_CHARS = 120

# Keys of the inner services' errors, renamed to the visit-log form's fields.
_GRANT_FIELDS = {"amount": "cash_amount", "kind": "cash_kind", "quantity": "goods_quantity", "handed_at": "visited_at"}
_FOLLOWUP_FIELDS = {"title": "demands", "kind": "demands", "deadline": "demands"}


@dataclass(frozen=True)
class VisitLogResult:
    visit: Visit
    grants: list
    followups: list
    created: bool


def _logged(visit: Visit, *, created: bool) -> VisitLogResult:
    # Reached through the visit instance, so the scope guard lets these pass: the visit was scoped.
    grants = list(visit.disbursements.select_related("goods_item").order_by("id"))
    followups = list(visit.followups.order_by("id"))
    return VisitLogResult(visit=visit, grants=grants, followups=followups, created=created)


def default_campaign(actor, person: Beneficiary, on: date) -> Campaign | None:
    """The running campaign of the person's town that names them (their categories, or its approved list), on that day."""
    from visits.selectors import running_campaigns
    from visits.targets import campaign_off_list_q, named_in_campaign

    campaign = (
        running_campaigns(actor, today=on)
        .filter(named_in_campaign(person))
        .annotate(person_off_list=campaign_off_list_q(person))
        .distinct()
        .first()
    )
    if campaign is not None:
        campaign.off_list_for = {person.pk: campaign.person_off_list}  # the grants' 名单外 check, already answered
    return campaign and mark_in_scope(campaign, actor)


def _merge(errors: dict, error: ValidationError, renames: dict) -> None:
    """Add an inner service's errors under the form's field names, without repeating a message."""
    by_field = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for field, messages in by_field.items():
        bucket = errors.setdefault(renames.get(field, field), [])
        bucket.extend(m for m in messages if m not in bucket)


def _demand_lines(demands) -> tuple[list[str], list[str]]:
    lines = [line.strip() for line in demands if line and line.strip()]
    problems = []
    if len(lines) > MAX_DEMANDS:
        problems.append(f"一次最多登记{MAX_DEMANDS}条诉求（现有{len(lines)}条），其余请另行登记")
    for number, line in enumerate(lines, start=1):
        if len(line) > DEMAND_MAX_CHARS:
            problems.append(f"第{number}条超过{DEMAND_MAX_CHARS}字（{len(line)}字），请精简或拆成两条")
    return lines, problems


@transaction.atomic
@audit.appended_together()  # every part's failure ends in the raise below, so held records never outlive their writes
@parts_of_one_write()  # likewise: the parts take no savepoints of their own
def visit_log(
    *,
    actor,
    beneficiary,
    idempotency_key: uuid.UUID,
    visited_at: datetime,
    kind: str,
    visitor_ids=(),
    volunteers_count: int = 0,
    cash_amount: Decimal | None = None,
    cash_kind: str = "cash",
    goods_item=None,
    goods_quantity: int | None = None,
    bp_systolic: int | None = None,
    bp_diastolic: int | None = None,
    demands=(),
    notes: str = "",
    campaign=None,
    proxy_name: str = "",
    proxy_relation: str = "",
    account_holder: str = "",
    guardian_name: str = "",
    guardian_relation: str = "",
) -> VisitLogResult:
    """A visit with what was handed over and what the person asked for, all or nothing.

    The form's idempotency key identifies the visit; the grants' keys are derived from it, so a
    double tap, a back-and-resubmit or a network retry answers with the first result and writes
    nothing more. Errors of every part come back together, keyed by the form's field names.
    """
    from funds.models import Disbursement
    from funds.services import disbursement_create

    require(actor, "visit.log")
    key = uuid.UUID(str(idempotency_key))
    existing = _existing_visit(actor, key)
    if existing is not None:
        return _logged(existing, created=False)
    person = in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")

    errors: dict[str, list[str]] = {}
    if cash_amount is not None and cash_kind not in (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER):
        errors["cash_kind"] = ["请选择现金或银行转账"]
    if goods_item is not None and not goods_quantity:
        errors["goods_quantity"] = ["选择了慰问品，请填写数量"]
    if goods_item is None and goods_quantity:
        errors["goods_item"] = ["填写了数量，请选择慰问品"]
    if proxy_name.strip() and cash_amount is None and goods_item is None:
        errors["proxy_name"] = ["未发放慰问金或慰问品，无需填写代领人"]
    lines, problems = _demand_lines(demands)
    if problems:
        errors["demands"] = problems

    visited_on = timezone.localtime(visited_at).date()
    if campaign is None:
        campaign = default_campaign(actor, person, visited_on)
    # Each inner service runs in its own savepoint (@transaction.atomic), so a refusal leaves this
    # transaction usable: the errors of the other parts are still collected and shown together.
    try:
        visit, created = visit_create(
            actor=actor,
            beneficiary=person,
            visited_at=visited_at,
            idempotency_key=key,
            kind=kind,
            visitors=list(visitor_ids),
            volunteers_count=volunteers_count,
            campaign=campaign,
            bp_systolic=bp_systolic,
            bp_diastolic=bp_diastolic,
            notes=notes,
            key_checked=True,
        )
    except ValidationError as error:
        _merge(errors, error, {})
        raise ValidationError(errors) from None
    if not created:
        # A concurrent retry with the same key won the insert: answer with its result.
        return _logged(visit, created=False)

    grants = []
    # The guardian of a minor is recorded on the visit's grants; the service requires one for cash.
    proxy = {
        "proxy_name": proxy_name,
        "proxy_relation": proxy_relation,
        "guardian_name": guardian_name,
        "guardian_relation": guardian_relation,
    }
    handed = []
    if cash_amount is not None:
        handed.append(("cash", {"kind": cash_kind, "amount": cash_amount, "account_holder": account_holder, **proxy}))
    if goods_item is not None:
        handed.append(("goods", {"kind": Disbursement.Kind.GOODS, "goods_item": goods_item, "quantity": goods_quantity, **proxy}))
    for part, content in handed:
        try:
            grant, _ = disbursement_create(
                actor=actor,
                beneficiary=person,
                handed_at=visited_at,
                idempotency_key=uuid.uuid5(key, part),
                campaign=visit.campaign,
                visit=visit,
                key_checked=True,  # derived from the key of the visit just created: cannot exist yet
                **content,
            )
            grants.append(grant)
        except ValidationError as error:
            part_refused()
            _merge(errors, error, _GRANT_FIELDS if part == "cash" else {**_GRANT_FIELDS, "kind": "goods_item"})
    followups = []
    due = None
    if lines and not errors:
        from visits.followup_services import deadline_days  # the lifecycle module imports this one

        # Demands heard on a visit get the town's deadline for an ordinary item (rules read once).
        due = visited_on + timedelta(days=deadline_days(actor, person.town_id, FollowUp.Level.LOW, FollowUp.Level.LOW))
    for line in lines if not errors else ():
        try:
            followup = followup_create(
                actor=actor,
                kind=FollowUp.Kind.DEMAND,
                title=line,
                beneficiary=person,
                visit=visit,
                raised_on=visited_on,
                deadline=due,
            )
            followups.append(followup)
        except ValidationError as error:
            part_refused()
            _merge(errors, error, _FOLLOWUP_FIELDS)
    if errors:
        # Raising rolls back the visit and whatever was written with it: nothing is half-saved.
        raise ValidationError(errors)
    return VisitLogResult(visit=visit, grants=grants, followups=followups, created=True)


# --- group activities (issue 4 §4) ---------------------------------------------------------

# Upper bounds for the counts on an activity: a town-wide event reaches a few thousand people;
# anything beyond is a typing slip (an extra zero), not an event.
ACTIVITY_COUNT_LIMITS = {"participants_count": 5_000, "reached_count": 50_000, "gifts_count": 50_000}
# People picked by name on one activity; more than this is an import, not a form.
ACTIVITY_MAX_PICKED = 2_000


def _existing_activity(actor, key):
    with unscoped():  # the key is global: a replay must be found whoever's it is
        existing = Activity.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    if not Activity.objects.for_user(actor).filter(pk=existing.pk).exists():
        raise ValidationError({"__all__": ["该表单已提交过，请刷新页面后重新填写"]})
    return existing


def _activity_people(actor, beneficiary_ids) -> tuple[list[Beneficiary], list[str]]:
    """Resolve picked people through the actor's scope; any id outside it refuses the whole list."""
    try:
        ids = {int(pk) for pk in beneficiary_ids}
    except (TypeError, ValueError):
        return [], ["受益对象编号无效"]
    if len(ids) > ACTIVITY_MAX_PICKED:
        return [], [f"一次最多勾选{ACTIVITY_MAX_PICKED}位受益对象，更多人员请填写惠及人数"]
    people = list(Beneficiary.objects.for_user(actor).filter(pk__in=ids).select_related("household__village")) if ids else []
    if len(people) != len(ids):
        return [], ["受益对象不存在或不在您的管辖范围内"]
    gone = [p.name for p in people if p.status != Beneficiary.Status.ACTIVE]
    if gone:
        return [], [f"以下对象已不在册，不能登记为受益对象：{'、'.join(gone[:5])}"]
    return people, []


@transaction.atomic
def activity_create(
    *,
    actor,
    kind: str,
    title: str,
    held_on: date,
    idempotency_key: uuid.UUID,
    village=None,
    organiser=None,
    organiser_name: str = "",
    participants_count: int = 0,
    beneficiary_ids=(),
    reached_count: int | None = None,
    gifts_count: int = 0,
    campaign=None,
    notes: str = "",
    other_villages_confirmed: bool = False,
) -> tuple[Activity, bool]:
    """Log a group activity of the actor's town; returns (activity, created).

    reached_count counts everyone the activity reached; the picked people are those of them on
    the registry, so the stored figure is never below the number picked. The same idempotency
    key answers with the first activity.

    An activity held in one village may reach people of other villages (a 集中慰问 in the activity
    room draws the neighbours), but a name picked from the wrong village is the likelier slip: they
    are named with their villages and saved only once the cadre confirms (other_villages_confirmed)."""
    require(actor, "activity.log")
    existing = _existing_activity(actor, idempotency_key)
    if existing is not None:
        return existing, False
    village = in_scope(Village, actor, village, "village", "村（社区）")
    organiser = in_scope(VolunteerTeam, actor, organiser, "organiser", "组织队伍")
    campaign = in_scope(Campaign, actor, campaign, "campaign", "专项活动")
    recorder = actor_profile(actor)
    people, people_errors = _activity_people(actor, beneficiary_ids)
    errors: dict[str, list[str]] = {}
    if people_errors:
        errors["beneficiaries"] = people_errors
    others = [p for p in people if village is not None and p.household.village_id != village.pk]
    if others and not other_villages_confirmed:
        named = "、".join(f"{p.name}（{p.household.village.name}）" for p in others[:10])
        more = f"等{len(others)}人" if len(others) > 10 else ""
        errors["other_villages_confirmed"] = [
            f"以下对象不是{village.name}的：{named}{more}。如确为跨村参加本次活动，请勾选“确认跨村参加”后保存；"
            "否则请移除他们，或把村（社区）改为“全镇”。"
        ]
    if kind not in Activity.Kind.values:
        errors["kind"] = ["请选择活动类型"]
    if held_on is None:
        errors["held_on"] = ["请填写活动日期"]
    elif held_on > timezone.localdate():
        errors["held_on"] = ["活动日期不能晚于今天"]
    elif campaign is not None and not (campaign.starts_on <= held_on <= campaign.ends_on):
        errors["campaign"] = [f"活动日期不在该专项活动期间内（{cn_date(campaign.starts_on)}至{cn_date(campaign.ends_on)}）"]
    counts = {"participants_count": participants_count, "reached_count": reached_count or 0, "gifts_count": gifts_count}
    labels = {"participants_count": "参与人数", "reached_count": "惠及人数", "gifts_count": "发放慰问品份数"}
    for field, value in counts.items():
        if not isinstance(value, int) or not 0 <= value <= ACTIVITY_COUNT_LIMITS[field]:
            errors[field] = [f"{labels[field]}应为0–{ACTIVITY_COUNT_LIMITS[field]:,}之间的整数"]
    organiser_name = (organiser_name or "").strip()
    if len(organiser_name) > 80:
        errors["organiser_name"] = ["组织单位最多80个字"]
    title = (title or "").strip()
    if not title and kind in Activity.Kind.values:
        # A phone form should not need typing: "长兴社区集中慰问" says what and where.
        title = f"{village.name if village else ''}{Activity.Kind(kind).label}"
    if len(title) > 100:
        errors["title"] = ["活动名称最多100个字"]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            activity = Activity.objects.create(
                town_id=recorder.town_id,
                village=village,
                campaign=campaign,
                kind=kind,
                title=title,
                held_on=held_on,
                organiser=organiser,
                organiser_name=organiser_name,
                participants_count=participants_count,
                reached_count=max(reached_count or 0, len(people)),
                gifts_count=gifts_count,
                recorded_by=recorder,
                notes=(notes or "").strip(),
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # A concurrent retry with the same key won the insert.
        return _existing_activity(actor, idempotency_key), False
    activity.beneficiaries.set(people)
    after = audit.snapshot(activity, exclude=("idempotency_key",))
    after["beneficiaries"] = sorted(p.pk for p in people)
    if others:
        after["other_villages"] = sorted(p.pk for p in others)
    audit.record(actor=actor, action="activity.create", obj=activity, after=after)
    outbox.campaign_changed(activity.campaign_id)
    return activity, True
