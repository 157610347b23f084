"""ID numbers a user types: what the system may say about them (issue 13 §1).

A user who may not reveal ID numbers (`id.reveal`) sees a person's masked number
(341181**********32) and birth date. Those leave about ten possible numbers; if the system
matched a typed number by its full digest, trying each would tell which one is registered.
So for such a user a typed number is matched by what they can already see — the masked form and
the birth date (the *visible key*) — among the people in their scope. Every one of the ten
candidates then gets the same answer: "this is 张三" (the person they could see anyway), never
"this exact number is 张三's". Users who may reveal numbers are matched by the full digest.

A number that matches nobody in the user's scope is looked up county-wide; if it is registered
outside the scope the answer is only "registered elsewhere, ask the county" (no town, no name),
each such answer is an audit record (who, which digest, when) and a user gets at most
``ID_CHECK_DAILY_LIMIT`` of them a day. Past the limit every number that would need the
county-wide look-up is refused with the same sentence, so the limit itself tells nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import audit, idnumbers
from core.permissions import can
from core.scoping import scope_of, unscoped
from towns.cadres import cadre_of
from towns.models import Beneficiary

ELSEWHERE = "该身份证号已在其他镇（街道）登记，请联系县级管理员核实"
OTHER_CELL = "该身份证号已在本镇其他网格登记，请联系镇管理员核实"
LIMITED = "今日核查他处登记身份证号的次数已达上限，暂不能新增人员，请明日再试或联系县级管理员"

# Audit actions (their labels are in the one table, core/audit_labels.py).
ACTION_ELSEWHERE = "id_check.elsewhere"
ACTION_LIMITED = "id_check.limited"
ACTION_MISMATCH = "id_check.mismatch"
ACTION_SEARCH = "id_check.search"
ACTIONS = (ACTION_ELSEWHERE, ACTION_LIMITED, ACTION_MISMATCH, ACTION_SEARCH)


def may_reveal(user) -> bool:
    return can(user, "id.reveal")


def visible_key(masked: str, birth_date) -> tuple[str, str]:
    """What a masked reader sees of a number: its masked form and the birth date."""
    return (masked, birth_date.isoformat())


def match_q(actor, parsed) -> Q:
    """The filter a typed number stands for: its digest for users who may reveal numbers, else the
    masked form and birth date, so no candidate number is told apart from another."""
    if may_reveal(actor):
        return Q(id_number_digest=idnumbers.digest(parsed.number))
    return Q(id_number_masked=parsed.masked, birth_date=parsed.birth_date)


def visible_matches(actor, parsed, *, active_only: bool = True) -> list[Beneficiary]:
    """People in ``actor``'s scope a typed number points to, as far as the actor may know."""
    qs = Beneficiary.objects.for_user(actor)
    if active_only:
        qs = qs.filter(status=Beneficiary.Status.ACTIVE)
    return list(qs.filter(match_q(actor, parsed)))


@dataclass
class Outside:
    """Where a number is registered outside the actor's scope, as far as the actor may be told."""

    message: str
    digest: str
    limited: bool = False


def _limit_key(user) -> str:
    return f"idcheck:{user.pk}:{timezone.localdate():%Y%m%d}"


def answers_today(user) -> int:
    return int(cache.get(_limit_key(user)) or 0)


def over_limit(user) -> bool:
    return answers_today(user) >= settings.ID_CHECK_DAILY_LIMIT


def _count_answer(user) -> None:
    key = _limit_key(user)
    cache.add(key, 0, timeout=26 * 3600)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=26 * 3600)


def registered_outside(actor, digests: list[str]) -> dict[str, Beneficiary]:
    """Active registrations of these digests anywhere the actor may not see (one query per 5,000)."""
    found: dict[str, Beneficiary] = {}
    scope = scope_of(actor)
    if scope.everything:
        return found
    visible = Beneficiary.objects.for_user(actor)
    with unscoped():  # the county-wide duplicate check is the point; only "elsewhere" leaves here
        for start in range(0, len(digests), 5000):
            chunk = digests[start : start + 5000]
            hidden = Beneficiary.objects.filter(id_number_digest__in=chunk, status=Beneficiary.Status.ACTIVE).exclude(
                pk__in=visible.filter(id_number_digest__in=chunk).values("pk")
            )
            for person in hidden.only("pk", "town_id", "id_number_digest"):
                found.setdefault(person.id_number_digest, person)
    return found


def answer_outside(actor, found: dict[str, Beneficiary], *, where: str) -> dict[str, Outside]:
    """The answers for numbers registered outside the scope: counted, limited, each one audited.

    Must run in a transaction (it writes audit records). ``where`` says which page asked.
    """
    town_id = getattr(cadre_of(actor), "town_id", None)
    answers: dict[str, Outside] = {}
    entries = []
    for digest, person in found.items():
        if over_limit(actor):
            answers[digest] = Outside(LIMITED, digest, limited=True)
            action = ACTION_LIMITED
        else:
            _count_answer(actor)
            message = OTHER_CELL if town_id is not None and person.town_id == town_id else ELSEWHERE
            answers[digest] = Outside(message, digest)
            action = ACTION_ELSEWHERE
        entries.append(
            {
                "action": action,
                "town": town_id,
                "object_type": "id_check",
                "object_repr": f"身份证号摘要 {digest[:12]}…",
                "after": {"digest": digest, "where": where},
            }
        )
    if entries:
        audit.record_many(actor=actor, entries=entries)
    return answers


def refuse_new_while_limited(actor) -> str | None:
    """Past the day's limit a new number cannot be checked county-wide, so nobody new is added."""
    if not scope_of(actor).everything and over_limit(actor):
        return LIMITED
    return None


def record_search_outside(actor, digests, *, where: str = "registry_search") -> None:
    """Whole numbers looked for that found nobody in scope: recorded (digests only), nothing said."""
    digests = [digests] if isinstance(digests, str) else list(digests)
    if not digests:
        return
    town_id = getattr(cadre_of(actor), "town_id", None)
    entries = [
        {
            "action": ACTION_SEARCH,
            "town": town_id,
            "object_type": "id_check",
            "object_repr": f"身份证号摘要 {digest[:12]}…",
            "after": {"digest": digest, "where": where},
        }
        for digest in digests
    ]
    with transaction.atomic():
        audit.record_many(actor=actor, entries=entries)
