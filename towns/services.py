"""Writes to the map and the registry. Each validates, runs in one transaction and audits itself."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import audit, idnumbers, outbox
from core.permissions import require
from core.phones import normalize_phone
from core.services import actor_profile, in_scope
from towns import idchecks, visit_due
from towns.dates import cn_date
from towns.models import (
    BENEFICIARY_AUDITED_FIELDS,
    Assignment,
    Beneficiary,
    BeneficiaryStatusChange,
    Cadre,
    Category,
    GridCell,
    Household,
    Town,
    Village,
)
from towns.pinyin import initials


class DuplicateBeneficiary(ValidationError):
    """The number points to a person the actor can see (towns/idchecks.py: for a user who may not
    reveal ID numbers, "points to" means same masked number and birth date, never the full digest).
    Numbers registered outside the actor's scope are refused with idchecks' sentence instead."""

    def __init__(self, *, existing, reveal: bool, count: int = 1):
        self.existing_id = existing.pk
        if reveal:
            message = "该身份证号已在本镇登记，请勿重复录入"
        else:
            message = (
                f"本镇已有在册人员{existing.name}（{existing.id_number_masked}，{existing.birth_date.year}年{existing.birth_date.month}月{existing.birth_date.day}日出生）"
                "的身份证号掩码和出生日期与此相同，可能是同一人，请勿重复录入；如确为不同的人，请由镇管理员登记"
            )
            if count > 1:
                message = (
                    f"本镇已有{count}名在册人员的身份证号掩码和出生日期与此相同，请勿重复录入；如确为不同的人，请由镇管理员登记"
                )
        super().__init__({"id_number": [message]}, code="duplicate")


# --- map -------------------------------------------------------------------------------


@transaction.atomic
def gridcell_create(*, actor, town, level: str, code: str, name: str, parent=None, village=None) -> GridCell:
    require(actor, "map.edit")
    town = in_scope(Town, actor, town, "town", "镇（街道）")
    parent = in_scope(GridCell, actor, parent, "parent", "上级网格")
    village = in_scope(Village, actor, village, "village", "村（社区）")
    errors = {}
    if level == GridCell.Level.SMALL and parent is None:
        errors["parent"] = ["小网格必须属于一个大网格"]
    if level == GridCell.Level.BIG and parent is not None:
        errors["parent"] = ["大网格不能再有上级网格"]
    if parent is not None and (parent.level != GridCell.Level.BIG or parent.town_id != town.pk):
        errors["parent"] = ["上级网格必须是本镇的大网格"]
    if village is not None and village.town_id != town.pk:
        errors["village"] = ["村（社区）不属于该镇"]
    if errors:
        raise ValidationError(errors)
    cell = GridCell.objects.create(town=town, level=level, code=code.strip(), name=name.strip(), parent=parent, village=village)
    audit.record(actor=actor, action="gridcell.create", obj=cell, after=audit.snapshot(cell))
    return cell


# --- households and the registry ----------------------------------------------------------


@transaction.atomic
def household_create(*, actor, cell, address: str, head_name: str, phone: str = "") -> Household:
    require(actor, "registry.edit")
    cell = in_scope(GridCell, actor, cell, "cell", "网格")
    errors = {}
    if cell.level != GridCell.Level.SMALL:
        errors["cell"] = ["户必须登记在小网格中"]
    if cell.village_id is None:
        errors["cell"] = ["该网格未关联村（社区），请先在网格中设置所属村"]
    if not address.strip():
        errors["address"] = ["请填写住址"]
    if not head_name.strip():
        errors["head_name"] = ["请填写户主姓名"]
    try:
        phone = normalize_phone(phone)
    except ValidationError as error:
        errors["phone"] = error.messages
    if errors:
        raise ValidationError(errors)
    household = Household.objects.create(
        town_id=cell.town_id,
        village_id=cell.village_id,
        cell=cell,
        address=address.strip(),
        head_name=head_name.strip(),
        phone=phone,
    )
    audit.record(actor=actor, action="household.create", obj=household, after=audit.snapshot(household))
    return household


def _find_duplicate(actor, parsed, digest: str, exclude_pk: int | None = None, *, where: str = "person_form"):
    """Refuse a number already registered, telling the actor only what they may know.

    Runs its own transaction for the audit records of "registered elsewhere" answers, so call
    it before the write's transaction: a refused registration must still leave them.
    """
    matches = [p for p in idchecks.visible_matches(actor, parsed) if p.pk != exclude_pk]
    if matches:
        return DuplicateBeneficiary(existing=matches[0], reveal=idchecks.may_reveal(actor), count=len(matches))
    limited = idchecks.refuse_new_while_limited(actor)
    if limited:
        return ValidationError({"id_number": [limited]}, code="limited")
    hidden = {d: p for d, p in idchecks.registered_outside(actor, [digest]).items() if p.pk != exclude_pk}
    if hidden:
        with transaction.atomic():
            answer = idchecks.answer_outside(actor, hidden, where=where)[digest]
        return ValidationError({"id_number": [answer.message]}, code="duplicate")
    return None


def _validate_person(*, id_number, gender, birth_date, phone, categories, name):
    errors: dict[str, list[str]] = {}
    parsed = None
    try:
        parsed = idnumbers.parse(id_number)
    except ValidationError as error:
        errors["id_number"] = error.messages
    if not (name or "").strip():
        errors["name"] = ["请填写姓名"]
    if parsed:
        if gender and gender != parsed.gender:
            errors["gender"] = ["性别与身份证号不一致（身份证号第17位奇数为男，偶数为女）"]
        if birth_date and birth_date != parsed.birth_date:
            errors["birth_date"] = [f"出生日期与身份证号不一致（身份证号为 {cn_date(parsed.birth_date)}）"]
    try:
        phone = normalize_phone(phone)
    except ValidationError as error:
        errors["phone"] = error.messages
    if not categories:
        errors["categories"] = ["请至少选择一个人群类别"]
    return parsed, phone, errors


def beneficiary_create(
    *,
    actor,
    household,
    name: str,
    id_number: str,
    categories,
    gender: str | None = None,
    birth_date: date | None = None,
    phone: str = "",
    relation_to_head: str = "",
    is_party_member: bool = False,
    party_branch=None,
    responsible_cadre=None,
    registered_on: date | None = None,
    notes: str = "",
) -> Beneficiary:
    require(actor, "registry.edit")
    household = in_scope(Household, actor, household, "household", "户")
    responsible_cadre = in_scope(Cadre, actor, responsible_cadre, "responsible_cadre", "责任干部")
    categories = list(categories or [])
    parsed, phone, errors = _validate_person(
        id_number=id_number, gender=gender, birth_date=birth_date, phone=phone, categories=categories, name=name
    )
    if responsible_cadre is not None and responsible_cadre.town_id != household.town_id:
        errors["responsible_cadre"] = ["责任干部须为本镇干部"]
    registered_on = registered_on or timezone.localdate()
    if parsed and registered_on < parsed.birth_date:
        errors["registered_on"] = ["建档日期不能早于出生日期"]
    if errors:
        raise ValidationError(errors)
    digest = idnumbers.digest(parsed.number)
    # Checked before the write's transaction: the audit of a "registered elsewhere" answer stays.
    duplicate = _find_duplicate(actor, parsed, digest)
    if duplicate:
        raise duplicate
    with transaction.atomic():
        return _beneficiary_insert(
            actor=actor,
            household=household,
            parsed=parsed,
            digest=digest,
            name=name,
            phone=phone,
            categories=categories,
            relation_to_head=relation_to_head,
            is_party_member=is_party_member,
            party_branch=party_branch,
            responsible_cadre=responsible_cadre,
            registered_on=registered_on,
            notes=notes,
        )


def _beneficiary_insert(
    *,
    actor,
    household,
    parsed,
    digest,
    name,
    phone,
    categories,
    relation_to_head,
    is_party_member,
    party_branch,
    responsible_cadre,
    registered_on,
    notes,
) -> Beneficiary:
    person = Beneficiary(
        household=household,
        town_id=household.town_id,
        cell_id=household.cell_id,
        name=name.strip(),
        name_initials=initials(name.strip()),
        gender=parsed.gender,
        birth_date=parsed.birth_date,
        id_number_encrypted=idnumbers.encrypt(parsed.number),
        id_number_digest=digest,
        id_number_masked=parsed.masked,
        phone=phone,
        relation_to_head=relation_to_head,
        is_party_member=is_party_member,
        party_branch=party_branch,
        responsible_cadre=responsible_cadre,
        status=Beneficiary.Status.ACTIVE,
        status_since=registered_on,
        registered_on=registered_on,
        notes=notes,
    )
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        # Lost a race with another registration of the same number.
        raise ValidationError({"id_number": ["该身份证号刚刚已被登记，请刷新后核对"]}) from None
    person.categories.set(categories)
    visit_due.refresh_one(person)
    after = audit.snapshot(person, fields=list(BENEFICIARY_AUDITED_FIELDS))
    after["categories"] = sorted(c.pk if hasattr(c, "pk") else int(c) for c in categories)
    audit.record(actor=actor, action="beneficiary.create", obj=person, after=after)
    return person


def beneficiary_update(*, actor, beneficiary, id_number: str | None = None, categories=None, **changes) -> Beneficiary:
    """Edit a person. Status changes go through beneficiary_change_status (they need a reason)."""
    require(actor, "registry.edit")
    parsed = idnumbers.parse_or_none(id_number) if id_number else None
    if parsed is not None:
        # A new number is checked before the write's transaction, so that the audit record of a
        # "registered elsewhere" answer outlives the refusal (as in beneficiary_create).
        person = in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
        if parsed.number != idnumbers.decrypt(person.id_number_encrypted):
            duplicate = _find_duplicate(actor, parsed, idnumbers.digest(parsed.number), exclude_pk=person.pk, where="person_edit")
            if duplicate:
                raise duplicate
    return _beneficiary_update(actor=actor, beneficiary=beneficiary, id_number=id_number, categories=categories, **changes)


@transaction.atomic
def _beneficiary_update(*, actor, beneficiary, id_number: str | None = None, categories=None, **changes) -> Beneficiary:
    person = in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    allowed = {
        "name",
        "phone",
        "relation_to_head",
        "is_party_member",
        "party_branch",
        "responsible_cadre",
        "notes",
        "gender",
        "birth_date",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"beneficiary_update cannot change {sorted(unknown)}")
    before = audit.snapshot(person, fields=list(BENEFICIARY_AUDITED_FIELDS))
    before["categories"] = sorted(person.categories.values_list("pk", flat=True))
    if "responsible_cadre" in changes:
        changes["responsible_cadre"] = in_scope(Cadre, actor, changes["responsible_cadre"], "responsible_cadre", "责任干部")
    current_number = idnumbers.decrypt(person.id_number_encrypted)
    parsed, phone, errors = _validate_person(
        id_number=id_number or current_number,
        gender=changes.get("gender"),
        birth_date=changes.get("birth_date"),
        phone=changes.get("phone", person.phone),
        categories=list(categories) if categories is not None else [1],
        name=changes.get("name", person.name),
    )
    if errors:
        raise ValidationError(errors)
    if parsed.number != current_number:
        digest = idnumbers.digest(parsed.number)
        duplicate = _find_duplicate(actor, parsed, digest, exclude_pk=person.pk, where="person_edit")
        if duplicate:
            raise duplicate
        person.id_number_encrypted = idnumbers.encrypt(parsed.number)
        person.id_number_digest = digest
        person.id_number_masked = parsed.masked
    for field, value in changes.items():
        setattr(person, field, value.strip() if isinstance(value, str) else value)
    person.phone = phone
    person.gender, person.birth_date = parsed.gender, parsed.birth_date
    person.name_initials = initials(person.name)
    person.save()
    if categories is not None:
        person.categories.set(categories)
        visit_due.refresh_one(person)
    after = audit.snapshot(person, fields=list(BENEFICIARY_AUDITED_FIELDS))
    after["categories"] = sorted(person.categories.values_list("pk", flat=True))
    if after != before:
        audit.record(actor=actor, action="beneficiary.update", obj=person, before=before, after=after)
    return person


_TRANSITIONS = {
    Beneficiary.Status.ACTIVE: {Beneficiary.Status.DECEASED, Beneficiary.Status.MOVED},
    Beneficiary.Status.DECEASED: {Beneficiary.Status.ACTIVE},
    Beneficiary.Status.MOVED: {Beneficiary.Status.ACTIVE},
}


@transaction.atomic
def beneficiary_change_status(*, actor, beneficiary, to_status: str, effective_on: date, reason: str) -> BeneficiaryStatusChange:
    """已故, 迁出, 恢复在册: with the date and a required reason; history kept."""
    require(actor, "registry.change_status")
    person = in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    person = Beneficiary._base_manager.select_for_update().get(pk=person.pk)
    errors = {}
    if to_status not in _TRANSITIONS.get(person.status, set()):
        errors["to_status"] = [f"当前状态为“{person.get_status_display()}”，不能变更为该状态"]
    if not (reason or "").strip():
        errors["reason"] = ["请填写变更原因"]
    if effective_on > timezone.localdate():
        errors["effective_on"] = ["生效日期不能晚于今天"]
    if effective_on < person.registered_on:
        errors["effective_on"] = ["生效日期不能早于建档日期"]
    if errors:
        raise ValidationError(errors)
    if to_status == Beneficiary.Status.ACTIVE:
        duplicate = _find_duplicate(
            actor, idnumbers.parse(idnumbers.decrypt(person.id_number_encrypted)), person.id_number_digest, exclude_pk=person.pk
        )
        if duplicate:
            raise duplicate
    before = {"status": person.status, "status_since": person.status_since}
    change = BeneficiaryStatusChange.objects.create(
        beneficiary=person,
        from_status=person.status,
        to_status=to_status,
        effective_on=effective_on,
        reason=reason.strip(),
        changed_by=actor_profile(actor),
    )
    person.status, person.status_since = to_status, effective_on
    person.save(update_fields=["status", "status_since", "updated_at"])
    audit.record(
        actor=actor,
        action="beneficiary.status",
        obj=person,
        before=before,
        after={"status": to_status, "status_since": effective_on},
        reason=reason.strip(),
    )
    return change


@transaction.atomic
def reveal_id_number(*, actor, beneficiary) -> str:
    """Show a whole ID number: allowed to few roles, and always leaves an audit record."""
    require(actor, "id.reveal")
    person = in_scope(Beneficiary, actor, beneficiary, "beneficiary", "慰问对象")
    audit.record(actor=actor, action="beneficiary.reveal_id", obj=person)
    return idnumbers.decrypt(person.id_number_encrypted)


@transaction.atomic
def assignment_create(*, actor, cadre, cell=None, household=None, starts_on: date | None = None) -> Assignment:
    require(actor, "map.edit")
    cadre = in_scope(Cadre, actor, cadre, "cadre", "干部")
    cell = in_scope(GridCell, actor, cell, "cell", "网格")
    household = in_scope(Household, actor, household, "household", "户")
    if (cell is None) == (household is None):
        raise ValidationError({"cell": ["包保责任区须指定一个网格或一户"]})
    town_id = (cell or household).town_id
    if cadre.town_id != town_id:
        raise ValidationError({"cadre": ["干部与责任区须属于同一个镇"]})
    # People live in small cells: a big cell would give a grid worker an empty scope.
    if cell is not None and cell.level != GridCell.Level.SMALL:
        raise ValidationError({"cell": ["包保网格须为小网格"]})
    if not cadre.is_active:
        raise ValidationError({"cadre": ["该干部已停用，不能分配责任区"]})
    # Several cadres on one cell is normal (包村干部 + 网格员); the same cadre twice is a slip.
    current = Assignment.objects.for_user(actor).filter(cadre=cadre, cell=cell, household=household, ends_on__isnull=True)
    if current.exists():
        raise ValidationError({"cell" if cell is not None else "household": ["该干部已包保此责任区"]})
    assignment = Assignment.objects.create(
        cadre=cadre, town_id=town_id, cell=cell, household=household, starts_on=starts_on or timezone.localdate()
    )
    audit.record(actor=actor, action="assignment.create", obj=assignment, after=audit.snapshot(assignment))
    outbox.town_registry_changed(assignment.town_id)  # the dashboards' per-cadre zones
    return assignment


@transaction.atomic
def assignment_end(*, actor, assignment, ends_on: date, reason: str) -> Assignment:
    """End a 包保 assignment (调岗, 退休, 重新划分): kept with its dates, never deleted."""
    require(actor, "map.edit")
    assignment = in_scope(Assignment, actor, assignment, "assignment", "包保责任区")
    assignment = Assignment._base_manager.select_for_update().get(pk=assignment.pk)
    errors = {}
    if assignment.ends_on is not None:
        errors["ends_on"] = [f"该责任区已于{cn_date(assignment.ends_on)}结束"]
    elif ends_on is None:
        errors["ends_on"] = ["请填写结束日期"]
    elif ends_on > timezone.localdate():
        # An end date in the future would end it today anyway: scopes read "ends_on is empty".
        errors["ends_on"] = ["结束日期不能晚于今天"]
    elif ends_on < assignment.starts_on:
        errors["ends_on"] = [f"结束日期不能早于开始日期（{cn_date(assignment.starts_on)}）"]
    if not (reason or "").strip():
        errors["reason"] = ["请填写结束原因"]
    if errors:
        raise ValidationError(errors)
    assignment.ends_on = ends_on
    assignment.save(update_fields=["ends_on"])
    audit.record(
        actor=actor,
        action="assignment.end",
        obj=assignment,
        before={"ends_on": None},
        after={"ends_on": ends_on},
        reason=reason.strip(),
    )
    outbox.town_registry_changed(assignment.town_id)
    return assignment


def categories_by_code() -> dict[str, Category]:
    return {c.code: c for c in Category.objects.all()}


# --- accounts ----------------------------------------------------------------------------


@transaction.atomic
def password_changed(*, actor) -> None:
    # Their own choice now: the temporary flag an admin's reset set is cleared.
    Cadre._base_manager.filter(user_id=actor.pk, password_temporary=True).update(password_temporary=False)
    audit.record(
        actor=actor,
        action="account.password_change",
        object_type="auth.user",
        object_id=str(actor.pk),
        object_repr=actor.get_username(),
    )


@transaction.atomic
def account_unlock(*, actor, cadre) -> None:
    """A town admin lifts the lockout of an account in their own town (every address), audited."""
    from axes.utils import reset as axes_reset

    require(actor, "user.reset_password")
    cadre = in_scope(Cadre, actor, cadre, "cadre", "账号")
    username = cadre.user.get_username()
    cleared = axes_reset(username=username)
    audit.record(
        actor=actor,
        action="account.unlock",
        town=cadre.town_id,
        object_type="auth.user",
        object_id=str(cadre.user_id),
        object_repr=f"{cadre.name}（{username}）",
        after={"cleared_attempts": cleared},
    )


@transaction.atomic
def password_reset(*, actor, cadre, new_password: str) -> None:
    """A town admin resets the password of an account in their own town (checked by scope)."""
    require(actor, "user.reset_password")
    cadre = in_scope(Cadre, actor, cadre, "cadre", "账号")
    user = cadre.user
    user.set_password(new_password)
    user.save(update_fields=["password"])
    # A password someone else chose is temporary: the holder must change it at the next login.
    Cadre._base_manager.filter(pk=cadre.pk).update(password_temporary=True)
    audit.record(
        actor=actor,
        action="account.password_reset",
        town=cadre.town_id,
        object_type="auth.user",
        object_id=str(user.pk),
        object_repr=f"{cadre.name}（{user.get_username()}）",
    )
