"""The visit log (issue 4 §3): find the person, log the visit on one screen, see what was logged."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import HttpResponseClientRedirect

from core import idnumbers
from core.decorators import permission_required
from towns import idchecks
from visits import log_selectors, services
from visits.forms import VisitLogForm
from visits.services import VisitLogResult


@permission_required("visit.log")
@require_http_methods(["GET", "POST"])
def visit_create(request):
    source = request.POST if request.method == "POST" else request.GET
    # "1,234": a template that printed the id with {{ p.pk }} under USE_THOUSAND_SEPARATOR.
    pk = (source.get("beneficiary") or request.GET.get("beneficiary") or "").replace(",", "")
    if not pk:
        if request.method == "POST" and "q" not in request.POST:
            raise Http404("未找到该慰问对象")
        # The search posts: an ID number typed here must not travel in a URL (server logs, history).
        q = source.get("q", "")
        people = log_selectors.person_search(request.user, q)
        parsed = idnumbers.parse_or_none(q) if len(q.strip()) in (15, 18) else None
        if parsed and not people:
            idchecks.record_search_outside(request.user, idnumbers.digest(parsed.number), where="visit_search")
        context = {"q": q, "people": people, "today": timezone.localdate()}
        return render(request, "visits/visit_person_search.html", context)

    header = log_selectors.person_for_log(request.user, pk)
    person = header.person
    base = f"{reverse('visits:visit_create')}?beneficiary={person.pk}"
    key = _key(request.GET.get("key"))
    if request.method == "GET" and key is None:
        # The form's idempotency key lives in its address: going back to the form, reloading it,
        # or a browser that re-fetches instead of restoring the page all show the same key, so
        # submitting it again answers with the visit already logged instead of logging a second.
        return redirect(f"{base}&key={uuid.uuid4()}")
    goods = log_selectors.goods_items()
    initial = {"idempotency_key": key} if key else {}
    form = VisitLogForm(request.POST or None, user=request.user, person=person, goods=goods, initial=initial)
    duplicate = None
    if request.method == "POST" and form.is_valid() and not request.POST.get("confirm_duplicate"):
        duplicate = log_selectors.recent_same_visit(request.user, person, key=form.cleaned_data.get("idempotency_key"))
    if request.method == "POST" and form.is_valid() and duplicate is None:
        try:
            result = services.visit_log(actor=request.user, **form.service_kwargs())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            return _done(request, result)
    context = {
        "form": form,
        "header": header,
        "hint": log_selectors.campaign_hint(request.user, person, header.categories),
        "action": f"{base}&key={form['idempotency_key'].value()}",
        "new_form_url": base,
        # Back on a form already submitted: say so before the cadre types it all again.
        "logged": log_selectors.visit_by_key(request.user, key) if request.method == "GET" else None,
        "duplicate": duplicate,
    }
    return render(request, "visits/visit_form.html", context)


def _key(raw) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except (TypeError, ValueError):
        return None


def _done(request, result: VisitLogResult):
    what = _summary(result)
    name = result.visit.beneficiary.name
    if result.created:
        messages.success(request, f"已登记走访：{name}" + (f"（{what}）" if what else ""))
    else:
        # A double tap, a retry or a resubmitted page: nothing new was written.
        messages.info(request, f"该次走访已登记过，未重复保存：{name}" + (f"（{what}）" if what else ""))
    url = _after_url(result.visit)
    if request.htmx:
        # A full navigation: the next page is the person's, with its own address in the history.
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _summary(result: VisitLogResult) -> str:
    parts = []
    for grant in result.grants:
        if grant.amount is not None:
            label = "转账慰问金" if grant.kind == "transfer" else "发放慰问金"
            parts.append(f"{label} ¥{grant.amount:,.2f}")
        else:
            parts.append(f"慰问品 {grant.goods_item.name}×{grant.quantity}{grant.goods_item.unit}")
        if grant.approval_status == "pending":
            # Not counted as handed out until a town admin approves it (Disbursement.objects.handed_out()).
            parts[-1] += "，超过审批限额，待镇管理员审批"
    if result.followups:
        parts.append(f"诉求 {len(result.followups)} 条")
    return "，".join(parts)


def _after_url(visit) -> str:
    # The person page is the registry's (registry:person_detail); until it exists, the visit's own page.
    try:
        return reverse("registry:person_detail", kwargs={"pk": visit.beneficiary_id})
    except NoReverseMatch:
        return reverse("visits:visit_detail", kwargs={"pk": visit.pk})


@permission_required("registry.view")
@require_safe
def visit_detail(request, pk):
    visit = log_selectors.visit_for_page(request.user, pk)
    return render(request, "visits/visit_detail.html", {"visit": visit})
