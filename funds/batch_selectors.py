"""Reads of the batch distribution screens (集中发放, issue 5 §2): the people of a list, the store.

Every queryset starts from for_user(): a person or a store outside the user's scope is not found.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q

from core import idnumbers
from funds.models import Disbursement, GoodsStock
from towns import idchecks
from towns.models import Beneficiary
from visits import selectors as people


def resolve_people(user, picked_ids: list[int], id_lines: list[str]) -> tuple[list[Beneficiary], list[str]]:
    """The people of the list, in the order given, through the user's scope; problems by line.

    Pasted numbers that match nobody in scope are checks of someone else's number: recorded for
    inspectors (idchecks.record_search_outside), as the registry's search does."""
    problems = []
    found = {p.pk: p for p in Beneficiary.objects.for_user(user).filter(pk__in=picked_ids).select_related("household__village")}
    missing = [pk for pk in picked_ids if pk not in found]
    if missing:
        problems.append(f"有 {len(missing)} 位勾选的对象不存在或不在您的管辖范围内")
    chosen = [found[pk] for pk in picked_ids if pk in found]
    _add_pasted(user, id_lines, chosen, problems)
    for person in chosen:
        if person.status != Beneficiary.Status.ACTIVE:
            problems.append(f"{person.name}：状态为“{person.get_status_display()}”，不能发放")
    return chosen, problems


def _add_pasted(user, id_lines: list[str], chosen: list, problems: list) -> None:
    """Add the people of the pasted ID numbers to ``chosen`` (once each); a line that matches no
    one, or several, is a problem."""
    wanted = []
    for number, line in enumerate(id_lines, start=1):
        try:
            parsed = idnumbers.parse(line)
        except ValidationError as error:
            problems.append(f"粘贴第{number}行 {idnumbers.mask(idnumbers.normalize(line))}：{error.messages[0]}")
            continue
        wanted.append((number, parsed))
    if not wanted:
        return
    # Matched as the user may know a number (towns/idchecks.py): a user who may not reveal ID
    # numbers finds the person by masked form and birth date, so pasting candidate numbers
    # cannot tell which one is on record.
    match = Q(pk__in=[])
    for _, parsed in wanted:
        match |= idchecks.match_q(user, parsed)
    people = list(
        Beneficiary.objects.for_user(user)
        .filter(match, status=Beneficiary.Status.ACTIVE)
        .select_related("household__village")
        .order_by("id")
    )
    unmatched = []
    for number, parsed in wanted:
        hits = [p for p in people if p.id_number_masked == parsed.masked and p.birth_date == parsed.birth_date]
        if idchecks.may_reveal(user):
            hits = [p for p in hits if p.id_number_digest == idnumbers.digest(parsed.number)]
        if not hits:
            unmatched.append(idnumbers.digest(parsed.number))
            problems.append(f"粘贴第{number}行 {parsed.masked}：信息库中没有在册的该身份证号，或不在您的管辖范围内")
        elif len(hits) > 1:
            problems.append(f"粘贴第{number}行 {parsed.masked}：对应{len(hits)}名在册人员，请在上方逐一勾选")
        elif hits[0].pk not in {p.pk for p in chosen}:
            chosen.append(hits[0])
    # Numbers outside the user's scope are checks of someone else's number: on record for inspectors.
    idchecks.record_search_outside(user, unmatched, where="batch_paste")


def picker(user, q: str, picked: list[Beneficiary]) -> dict:
    return {
        "q": q,
        "picked": picked,
        "results": people.people_search(user, q, exclude=[p.pk for p in picked]),
        "limit": people.PEOPLE_SEARCH_LIMIT,
    }


def stock_left(user, item) -> int | None:
    if item is None:
        return None
    cadre = user.cadre
    return (
        GoodsStock.objects.for_user(user)
        .filter(town_id=cadre.town_id, goods_item=item)
        .values_list("quantity", flat=True)
        .first()
        or 0
    )


def preview_totals(user, rows: list[dict], goods_item) -> dict:
    """The preview's totals, and whether the town's store can cover the goods."""
    total_quantity = sum(r["quantity"] or 0 for r in rows)
    left = stock_left(user, goods_item)
    return {
        "total_amount": sum((r["amount"] or Decimal(0) for r in rows), Decimal(0)),
        "total_quantity": total_quantity,
        "stock_left": left,
        "short": left is not None and total_quantity > left,
    }


def grants_done(user, ids: list[int]) -> dict:
    """The grants a batch wrote (their ids kept in the session), with the totals of the done page."""
    grants = list(
        Disbursement.objects.for_user(user)
        .filter(pk__in=ids)
        .select_related("beneficiary", "goods_item", "handed_by", "campaign")
        .order_by("id")
    )
    total = sum((g.amount or Decimal(0) for g in grants), Decimal(0))
    quantity = sum(g.quantity or 0 for g in grants)
    return {"grants": grants, "total": total, "quantity": quantity}
