"""集中发放 (issue 5 §2): a collective distribution recorded as one list, previewed, then confirmed.

Fill in (date, handing cadre, kind, default amount or goods) and pick people from the registry or
paste ID numbers → preview (each row's amount or quantity can be changed) → confirm: one
transaction through batch_services.disbursement_batch, all or nothing. The form's idempotency key is
minted when the form opens and carried through preview and confirm, so a double submit, a
back-and-resubmit or a retry writes nothing twice.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from core.decorators import permission_required
from funds import batch_selectors as selectors
from funds import batch_services
from funds.batch_forms import BatchForm, batch_rows
from visits import selectors as people

SESSION_PREFIX = "funds.batch."


def _ids(values) -> list[int]:
    ids = []
    for value in values[: batch_services.BATCH_MAX_PEOPLE + 1]:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return list(dict.fromkeys(ids))


def _edit(request, form, q: str, picked: list, problems=()):
    context = {"form": form, "step": "edit", "problems": list(problems), **selectors.picker(request.user, q, picked)}
    return render(request, "funds/batch_form.html", context)


@permission_required("grant.issue")
@require_http_methods(["GET", "POST"])
def batch(request):
    user, post = request.user, request.POST
    q = ((post.get("q") if request.method == "POST" else request.GET.get("q", "")) or "").strip()[:30]
    if request.method == "GET":
        return _edit(request, BatchForm(user), q, [])
    picked_ids = _ids(post.getlist("beneficiaries"))
    form = BatchForm(user, post)
    # Back to editing (or the picker's search without JavaScript), or the form's own errors: show what was entered.
    if "_search" in post or "_edit" in post or not form.is_valid():
        return _edit(request, form, q, people.people_picked(user, picked_ids))
    data = form.cleaned_data
    chosen, problems = selectors.resolve_people(user, picked_ids, data["id_lines"])
    if not chosen and not problems:
        problems.append("请至少选择一位慰问对象（勾选或粘贴身份证号）")
    if problems:
        return _edit(request, form, q, chosen, problems)
    rows, row_problems = batch_rows(post, chosen, data)
    context = {"form": form, "step": "preview", "rows": rows, "problems": row_problems}
    context.update(selectors.preview_totals(user, rows, data["goods_item"]))
    if "_confirm" not in post or row_problems:
        return render(request, "funds/batch_form.html", context)
    return _confirm(request, data, rows, context)


def _confirm(request, data: dict, rows: list[dict], context: dict):
    service_rows = [
        batch_services.BatchRow(r["person"], r["amount"], r["quantity"], r["guardian_name"], r["guardian_relation"]) for r in rows
    ]
    try:
        grants, created = batch_services.disbursement_batch(
            actor=request.user,
            idempotency_key=data["idempotency_key"],
            rows=service_rows,
            kind=data["kind"],
            handed_at=data["handed_at"],
            handed_by=data["handed_by"],
            campaign=data["campaign"],
            source=data["source"],
            goods_item=data["goods_item"],
        )
    except ValidationError as error:
        context["problems"] = error.messages
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
    return render(request, "funds/batch_done.html", selectors.grants_done(request.user, ids))


@permission_required("grant.issue")
@require_safe
def batch_people(request):
    """The people picker's results, fetched by htmx as the cadre types (and the picked list, out of band)."""
    picked = people.people_picked(request.user, _ids(request.GET.getlist("beneficiaries")))
    q = request.GET.get("q", "").strip()[:30]
    return render(request, "visits/activity_people.html", selectors.picker(request.user, q, picked))
