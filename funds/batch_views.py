"""集中发放 (issue 5 §2): a collective distribution recorded as one list, previewed, then confirmed.

Fill in (date, handing cadre, kind, default amount or goods) and pick people from the registry or
paste ID numbers → preview (each row's amount or quantity can be changed) → confirm: one
transaction through services.disbursement_batch, all or nothing. The form's idempotency key is
minted when the form opens and carried through preview and confirm, so a double submit, a
back-and-resubmit or a retry writes nothing twice.
"""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from core import idnumbers
from core.decorators import permission_required
from funds import services
from funds.batch_forms import BatchForm
from funds.models import Disbursement, GoodsStock
from towns import idchecks
from towns.models import Beneficiary
from visits import selectors as people

SESSION_PREFIX = "funds.batch."


def _ids(values) -> list[int]:
    ids = []
    for value in values[: services.BATCH_MAX_PEOPLE + 1]:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return list(dict.fromkeys(ids))


def _resolve_people(user, picked_ids: list[int], id_lines: list[str]) -> tuple[list[Beneficiary], list[str]]:
    """The people of the list, in the order given, through the user's scope; problems by line."""
    problems = []
    found = {p.pk: p for p in Beneficiary.objects.for_user(user).filter(pk__in=picked_ids).select_related("household__village")}
    missing = [pk for pk in picked_ids if pk not in found]
    if missing:
        problems.append(f"有 {len(missing)} 位勾选的对象不存在或不在您的管辖范围内")
    chosen = [found[pk] for pk in picked_ids if pk in found]
    wanted = []
    for number, line in enumerate(id_lines, start=1):
        try:
            parsed = idnumbers.parse(line)
        except ValidationError as error:
            problems.append(f"粘贴第{number}行 {idnumbers.mask(idnumbers.normalize(line))}：{error.messages[0]}")
            continue
        wanted.append((number, parsed))
    if wanted:
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
    for person in chosen:
        if person.status != Beneficiary.Status.ACTIVE:
            problems.append(f"{person.name}：状态为“{person.get_status_display()}”，不能发放")
    return chosen, problems


def _row_values(post, person, form_data) -> tuple[Decimal | None, int | None, str]:
    """A row's amount or quantity: the row's own value if given, else the form's default."""
    kind = form_data["kind"]
    if kind == Disbursement.Kind.GOODS:
        raw = (post.get(f"quantity_{person.pk}") or "").strip()
        if not raw:
            return None, form_data["quantity"], ""
        try:
            value = int(raw)
        except ValueError:
            return None, None, f"{person.name}：数量须为整数"
        return (None, value, "") if value > 0 else (None, None, f"{person.name}：数量须大于0")
    raw = (post.get(f"amount_{person.pk}") or "").strip()
    if not raw:
        return form_data["amount"], None, "" if form_data["amount"] else f"{person.name}：请填写金额"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None, None, f"{person.name}：金额须为数字"
    if not value.is_finite() or value <= 0:
        return None, None, f"{person.name}：请填写大于0的金额"
    return value, None, ""


def _picker(user, q: str, picked: list[Beneficiary]) -> dict:
    return {
        "q": q,
        "picked": picked,
        "results": people.people_search(user, q, exclude=[p.pk for p in picked]),
        "limit": people.PEOPLE_SEARCH_LIMIT,
    }


def _stock_left(user, item) -> int | None:
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


@permission_required("grant.issue")
@require_http_methods(["GET", "POST"])
def batch(request):
    user = request.user
    post = request.POST
    q = (post.get("q") if request.method == "POST" else request.GET.get("q", "")) or ""
    q = q.strip()[:30]
    if request.method == "GET":
        form = BatchForm(user)
        return render(request, "funds/batch_form.html", {"form": form, "step": "edit", "problems": [], **_picker(user, q, [])})

    picked_ids = _ids(post.getlist("beneficiaries"))
    form = BatchForm(user, post)
    if "_search" in post or "_edit" in post:
        # Back to editing (or the picker's search without JavaScript): show what was entered.
        form.is_valid()
        picked = people.people_picked(user, picked_ids)
        return render(
            request, "funds/batch_form.html", {"form": form, "step": "edit", "problems": [], **_picker(user, q, picked)}
        )
    if not form.is_valid():
        picked = people.people_picked(user, picked_ids)
        return render(
            request, "funds/batch_form.html", {"form": form, "step": "edit", "problems": [], **_picker(user, q, picked)}
        )
    data = form.cleaned_data
    chosen, problems = _resolve_people(user, picked_ids, data["id_lines"])
    if not chosen and not problems:
        problems.append("请至少选择一位慰问对象（勾选或粘贴身份证号）")
    if problems:
        picked = [p for p in chosen]
        return render(
            request, "funds/batch_form.html", {"form": form, "step": "edit", "problems": problems, **_picker(user, q, picked)}
        )

    rows, row_problems = [], []
    money = data["kind"] in (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER)
    handed_on = timezone.localtime(data["handed_at"]).date()
    for person in chosen:
        amount, quantity, problem = _row_values(post, person, data)
        if problem:
            row_problems.append(problem)
        # Cash to a minor goes to a recorded guardian: the row asks for one (the service insists).
        minor = money and person.is_minor_on(handed_on)
        guardian = (post.get(f"guardian_name_{person.pk}") or "").strip()[:30]
        relation = (post.get(f"guardian_relation_{person.pk}") or "").strip()[:20]
        if minor and "_confirm" in post and not (guardian and relation):
            row_problems.append(f"{person.name}未满{settings.GRANT_MINOR_AGE}周岁，请填写监护人姓名及与其关系")
        rows.append(
            {
                "person": person,
                "amount": amount,
                "quantity": quantity,
                "minor": minor,
                "guardian_name": guardian,
                "guardian_relation": relation,
            }
        )
    total_amount = sum((r["amount"] or Decimal(0) for r in rows), Decimal(0))
    total_quantity = sum(r["quantity"] or 0 for r in rows)
    stock_left = _stock_left(user, data["goods_item"])
    context = {
        "form": form,
        "step": "preview",
        "rows": rows,
        "problems": row_problems,
        "total_amount": total_amount,
        "total_quantity": total_quantity,
        "stock_left": stock_left,
        "short": stock_left is not None and total_quantity > stock_left,
    }
    if "_confirm" not in post or row_problems:
        return render(request, "funds/batch_form.html", context)
    try:
        grants, created = services.disbursement_batch(
            actor=user,
            idempotency_key=data["idempotency_key"],
            rows=[
                services.BatchRow(r["person"], r["amount"], r["quantity"], r["guardian_name"], r["guardian_relation"])
                for r in rows
            ],
            kind=data["kind"],
            handed_at=data["handed_at"],
            handed_by=data["handed_by"],
            campaign=data["campaign"],
            source=data["source"],
            goods_item=data["goods_item"],
        )
    except ValidationError as error:
        by_field = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        context["problems"] = [m for messages_ in by_field.values() for m in messages_]
        return render(request, "funds/batch_form.html", context)
    request.session[SESSION_PREFIX + str(data["idempotency_key"])] = [g.pk for g in grants]
    if created:
        messages.success(request, f"已登记集中发放 {created} 人。")
    else:
        messages.info(request, "该批发放已登记过，未重复保存。")
    return redirect("funds:batch_done", key=data["idempotency_key"])


@permission_required("grant.issue")
@require_safe
def batch_done(request, key):
    ids = request.session.get(SESSION_PREFIX + str(key)) or []
    grants = list(
        Disbursement.objects.for_user(request.user)
        .filter(pk__in=ids)
        .select_related("beneficiary", "goods_item", "handed_by", "campaign")
        .order_by("id")
    )
    total = sum((g.amount or Decimal(0) for g in grants), Decimal(0))
    quantity = sum(g.quantity or 0 for g in grants)
    return render(request, "funds/batch_done.html", {"grants": grants, "total": total, "quantity": quantity})


@permission_required("grant.issue")
@require_safe
def batch_people(request):
    """The people picker's results, fetched by htmx as the cadre types (and the picked list, out of band)."""
    picked = people.people_picked(request.user, _ids(request.GET.getlist("beneficiaries")))
    q = request.GET.get("q", "").strip()[:30]
    return render(request, "visits/activity_people.html", _picker(request.user, q, picked))
