"""The visit log (issue 4 §3): a visit, what was handed over on it and what the person asked for,
written together or not at all.

It spans visits (the visit, the demands) and funds (the grants, the stock they take), so it lives
in funds, the higher of the two. The input is typed and knows nothing of the form: the form builds
a ``VisitLogInput`` and maps the errors back to its fields (funds/visit_log_forms.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit
from core.permissions import require
from core.services import in_scope, part_refused, parts_of_one_write
from funds.grant_services import disbursement_create
from funds.models import Disbursement, GoodsItem
from towns.models import Beneficiary
from visits.followup_services import deadline_days
from visits.models import Campaign, FollowUp, Visit
from visits.services import default_campaign, existing_visit, followup_create, visit_create

MAX_DEMANDS = 10
DEMAND_MAX_CHARS = 120

MONEY = (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER)


@dataclass(frozen=True)
class VisitPart:
    """The visit itself; its errors come back under these names (``visitor_ids`` as "visitors")."""

    beneficiary: Beneficiary | int
    idempotency_key: uuid.UUID
    visited_at: datetime
    kind: str = Visit.Kind.HOME
    visitor_ids: Sequence[int] = ()
    volunteers_count: int = 0
    bp_systolic: int | None = None
    bp_diastolic: int | None = None
    notes: str = ""
    campaign: Campaign | None = None  # None: the running campaign that names the person


@dataclass(frozen=True)
class GrantLine:
    """One thing handed over on the visit: money (cash or transfer) or goods.

    Its errors come back as "<part>.<field>" ("cash.amount", "goods.quantity"): the part is "goods"
    for goods and "cash" for money, and also derives the grant's idempotency key from the visit's.
    """

    kind: str
    amount: Decimal | None = None
    goods_item: GoodsItem | None = None
    quantity: int | None = None
    account_holder: str = ""
    proxy_name: str = ""
    proxy_relation: str = ""
    # The guardian of a minor is recorded on the grant; the grant service requires one for cash.
    guardian_name: str = ""
    guardian_relation: str = ""

    @property
    def part(self) -> str:
        return "goods" if self.kind == Disbursement.Kind.GOODS else "cash"


@dataclass(frozen=True)
class VisitLogInput:
    visit: VisitPart
    grants: Sequence[GrantLine] = ()
    demands: Sequence[str] = ()  # one follow-up each; errors under "demands"


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


# A demand's own fields, reported under the input's "demands".
_DEMAND_FIELDS = {"title": "demands", "kind": "demands", "deadline": "demands"}


def _merge(errors: dict, error: ValidationError, rename=lambda name: name) -> None:
    """Add an inner service's errors under the input's names, without repeating a message."""
    by_field = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for name, messages in by_field.items():
        bucket = errors.setdefault(rename(name), [])
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


def _grant_line_errors(lines: Sequence[GrantLine]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    parts = [line.part for line in lines]
    if len(parts) != len(set(parts)):
        # The grants' keys are derived from the visit's by part: two of a part would share one.
        errors["__all__"] = ["一次走访最多登记一笔慰问金和一种慰问品"]
    for line in lines:
        if line.part == "cash" and line.kind not in MONEY:
            errors["cash.kind"] = ["请选择现金或银行转账"]
        if line.part == "goods" and line.goods_item is not None and not line.quantity:
            errors["goods.quantity"] = ["选择了慰问品，请填写数量"]
        if line.part == "goods" and line.goods_item is None and line.quantity:
            errors["goods.goods_item"] = ["填写了数量，请选择慰问品"]
    return errors


def _grant_content(line: GrantLine) -> dict:
    proxy = {
        "proxy_name": line.proxy_name,
        "proxy_relation": line.proxy_relation,
        "guardian_name": line.guardian_name,
        "guardian_relation": line.guardian_relation,
    }
    if line.part == "goods":
        return {"kind": Disbursement.Kind.GOODS, "goods_item": line.goods_item, "quantity": line.quantity, **proxy}
    return {"kind": line.kind, "amount": line.amount, "account_holder": line.account_holder, **proxy}


@transaction.atomic
@audit.appended_together()  # every part's failure ends in the raise below, so held records never outlive their writes
@parts_of_one_write()  # likewise: the parts take no savepoints of their own
def visit_log(*, actor, log: VisitLogInput) -> VisitLogResult:
    """A visit with what was handed over and what the person asked for, all or nothing.

    The visit's idempotency key identifies it; the grants' keys are derived from it, so a double
    tap, a back-and-resubmit or a network retry answers with the first result and writes nothing
    more. Errors of every part come back together (see VisitPart, GrantLine, VisitLogInput).
    """
    require(actor, "visit.log")
    part = log.visit
    key = uuid.UUID(str(part.idempotency_key))
    existing = existing_visit(actor, key)
    if existing is not None:
        return _logged(existing, created=False)
    person = in_scope(Beneficiary, actor, part.beneficiary, "beneficiary", "慰问对象")

    errors = _grant_line_errors(log.grants)
    lines, problems = _demand_lines(log.demands)
    if problems:
        errors["demands"] = problems

    visited_on = timezone.localtime(part.visited_at).date()
    campaign = part.campaign if part.campaign is not None else default_campaign(actor, person, visited_on)
    # Each inner service runs in its own savepoint (@transaction.atomic), so a refusal leaves this
    # transaction usable: the errors of the other parts are still collected and shown together.
    try:
        visit, created = visit_create(
            actor=actor,
            beneficiary=person,
            visited_at=part.visited_at,
            idempotency_key=key,
            kind=part.kind,
            visitors=list(part.visitor_ids),
            volunteers_count=part.volunteers_count,
            campaign=campaign,
            bp_systolic=part.bp_systolic,
            bp_diastolic=part.bp_diastolic,
            notes=part.notes,
            key_checked=True,
        )
    except ValidationError as error:
        _merge(errors, error)
        raise ValidationError(errors) from None
    if not created:
        # A concurrent retry with the same key won the insert: answer with its result.
        return _logged(visit, created=False)

    grants = []
    for line in log.grants:
        if line.part == "goods" and line.goods_item is None:
            continue  # a quantity without goods: refused above
        try:
            grant, _ = disbursement_create(
                actor=actor,
                beneficiary=person,
                handed_at=part.visited_at,
                idempotency_key=uuid.uuid5(key, line.part),
                campaign=visit.campaign,
                visit=visit,
                key_checked=True,  # derived from the key of the visit just created: cannot exist yet
                **_grant_content(line),
            )
            grants.append(grant)
        except ValidationError as error:
            part_refused()
            _merge(errors, error, lambda name, part=line.part: name if name == "__all__" else f"{part}.{name}")
    followups = _demands(actor, person, visit, lines, visited_on, errors) if lines and not errors else []
    if errors:
        # Raising rolls back the visit and whatever was written with it: nothing is half-saved.
        raise ValidationError(errors)
    return VisitLogResult(visit=visit, grants=grants, followups=followups, created=True)


def _demands(actor, person, visit, lines: list[str], visited_on, errors: dict) -> list:
    # Demands heard on a visit get the town's deadline for an ordinary item (rules read once).
    due = visited_on + timedelta(days=deadline_days(actor, person.town_id, FollowUp.Level.LOW, FollowUp.Level.LOW))
    followups = []
    for line in lines:
        try:
            followups.append(
                followup_create(
                    actor=actor,
                    kind=FollowUp.Kind.DEMAND,
                    title=line,
                    beneficiary=person,
                    visit=visit,
                    raised_on=visited_on,
                    deadline=due,
                )
            )
        except ValidationError as error:
            part_refused()
            _merge(errors, error, lambda name: _DEMAND_FIELDS.get(name, name))
    return followups
