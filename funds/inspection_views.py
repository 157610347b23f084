"""The inspectors' workspace (issue 5 §3-5): flags and findings, the printable grant roster, declarations.

Thin views: the role table decides who may come in, selectors read through for_user, services write.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import audit
from core.decorators import permission_required
from core.permissions import can
from core.scoping import get_for_user_or_404
from funds import inspection_selectors, services, tasks
from funds.models import Finding, InspectionFlag
from funds.services import DECLARATION_RELATIONS
from towns import access_log
from towns.cadres import cadre_of
from towns.models import PersonAccess

DECLARATION_ROWS = 10


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


@permission_required("inspection.view")
@require_safe
def flag_list(request):
    context = inspection_selectors.flags_page(request.user, request.GET, before=_positive_int(request.GET.get("before")))
    params = request.GET.copy()
    params.pop("before", None)
    context["first_query"] = params.urlencode()
    if context["next_before"]:
        params["before"] = context["next_before"]
        context["next_query"] = params.urlencode()
    context["paged"] = bool(request.GET.get("before"))
    context["can_review"] = can(request.user, "inspection.review")
    return render(request, "funds/flag_list.html", context)


@permission_required("inspection.view")
@require_http_methods(["GET", "HEAD", "POST"])
def flag_detail(request, pk):
    flag = get_for_user_or_404(InspectionFlag.objects.select_related("town", "campaign", "beneficiary"), request.user, pk=pk)
    can_review = can(request.user, "inspection.review")
    errors, form = {}, {"verdict": "", "notes": ""}
    if request.method == "POST":
        # Town admins and county viewers read flags; only inspectors rule on them.
        if not can_review:
            raise PermissionDenied("只有纪检监察人员可以记录核查结论")
        form = {"verdict": request.POST.get("verdict", ""), "notes": request.POST.get("notes", "")}
        try:
            services.finding_record(actor=request.user, flag=flag, verdict=form["verdict"], notes=form["notes"])
        except ValidationError as error:
            errors = error.message_dict
        else:
            messages.success(request, "核查结论已记录")
            return redirect("funds:flag_detail", pk=flag.pk)
    context = inspection_selectors.flag_detail(flag)
    context.update(can_review=can_review, errors=errors, form=form, verdicts=Finding.Verdict.choices)
    return render(request, "funds/flag_detail.html", context, status=400 if errors else 200)


@permission_required("inspection.review")
@require_POST
def flags_run(request):
    """重新计算: queue the job once this request's work is committed (eager in the demo and tests)."""

    tasks.run_inspection_task.queue_after_commit(actor_id=request.user.pk)
    messages.info(request, "已开始重新计算监督预警，稍后刷新本页查看结果")
    return redirect(reverse("funds:flag_list"))


@permission_required("roster.view")
@require_safe
def roster(request):
    result = inspection_selectors.roster(request.user, request.GET)
    if result.rows:
        cadre = cadre_of(request.user)
        with transaction.atomic():
            # A roster on screen or paper shows names and categories: who looked at which rows is recorded.
            audit.record_personal_data_access(
                actor=request.user,
                what="发放花名册",
                count=result.people,
                town=cadre.town_id if cadre and cadre.town_id else None,
                filters={k: v for k, v in request.GET.items() if k in ("campaign", "town", "village", "kind")},
            )
        access_log.note(request, PersonAccess.Kind.ROSTER, {(g.beneficiary_id, g.town_id) for g in result.rows})
    return render(request, "funds/roster.html", {"roster": result, "filter": result.filter})


@permission_required("coi.declare")
@require_http_methods(["GET", "HEAD", "POST"])
def declaration(request):
    cadre = cadre_of(request.user)
    current = _own_declaration(request.user, cadre)
    errors: dict = {}
    rows = [{"name": "", "relation": "", "id_number": ""} for _ in range(DECLARATION_ROWS)]
    nothing = False
    if current is not None:
        nothing = current.nothing_to_declare
        for i, relative in enumerate(current.relatives.all()[:DECLARATION_ROWS]):
            rows[i].update(name=relative.name, relation=relative.relation)  # ID numbers are never sent back whole
    if request.method == "POST":
        rows = [
            {
                "name": request.POST.get(f"relatives-{i}-name", ""),
                "relation": request.POST.get(f"relatives-{i}-relation", ""),
                "id_number": request.POST.get(f"relatives-{i}-id_number", ""),
            }
            for i in range(1, DECLARATION_ROWS + 1)
        ]
        nothing = request.POST.get("nothing_to_declare") == "on"
        try:
            services.declaration_submit(actor=request.user, relatives=rows, nothing_to_declare=nothing)
        except ValidationError as error:
            errors = error.message_dict
            for row in rows:
                row["id_number"] = ""  # not echoed back: the form is re-typed rather than the number shown
        else:
            messages.success(request, "亲属申报已提交")
            return redirect("funds:declaration")
    for i, row in enumerate(rows, start=1):
        row["index"] = i
        row["errors"] = [m for key in ("name", "relation", "id_number") for m in errors.get(f"relatives-{i}-{key}", [])]
    return render(
        request,
        "funds/declaration_form.html",
        {
            "current": current,
            "relatives": list(current.relatives.all()) if current else [],
            "rows": rows,
            "nothing": nothing,
            "relations": DECLARATION_RELATIONS,
            "errors": errors,
            "general_errors": errors.get("__all__", []) + errors.get("nothing_to_declare", []),
        },
        status=400 if errors else 200,
    )


def _own_declaration(user, cadre):
    from funds.models import ConflictDeclaration

    if cadre is None:
        return None
    # The cadre's own declaration, looked up by their own cadre id within their scope.
    return ConflictDeclaration.objects.for_user(user).filter(cadre_id=cadre.pk).first()


@permission_required("coi.view")
@require_safe
def declaration_list(request):
    return render(request, "funds/declaration_list.html", inspection_selectors.declarations_of_town(request.user))
