"""包保责任区 (issue 4 §6): a town admin assigns cells and households to cadres and sees the load
per cadre. Only holders of map.edit (town admin, system admin); another town's ids are 404."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from core.decorators import permission_required
from core.permissions import ROLE_LABELS
from core.scoping import get_for_user_or_404
from core.services import add_service_errors
from towns import selectors, services
from towns.models import Assignment, Town
from towns.zone_forms import AssignForm, EndAssignmentForm, household_search


def _cadre(user):
    try:
        return user.cadre  # cached on the user by the role check of the same request
    except ObjectDoesNotExist:
        return None


def _town(request) -> Town:
    """A town admin works on their own town; the county-wide system admin picks one (?town=)."""
    cadre = _cadre(request.user)
    if cadre is not None and cadre.town_id:
        return cadre.town
    chosen = request.POST.get("town") or request.GET.get("town")
    if chosen:
        return get_for_user_or_404(Town, request.user, pk=chosen)
    town = Town.objects.for_user(request.user).order_by("code").first()
    if town is None:
        raise Http404("没有可管理的镇")
    return town


def _zones_url(request, town) -> str:
    url = reverse("towns:zones")
    cadre = _cadre(request.user)
    return url if cadre is not None and cadre.town_id else f"{url}?town={town.pk}"


@permission_required("map.edit")
@require_safe
def zones(request):
    town = _town(request)
    overview = selectors.zone_overview(request.user, town)
    county_wide = not (_cadre(request.user) and _cadre(request.user).town_id)
    towns = list(Town.objects.for_user(request.user).order_by("code")) if county_wide else []
    return render(request, "towns/zones.html", {"town": town, "towns": towns, "county_wide": county_wide, **overview})


@permission_required("map.edit")
@require_http_methods(["GET", "POST"])
def zone_assign(request):
    town = _town(request)
    q, chosen = household_search(request)
    form = AssignForm.from_request(request.user, town, request)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            assignment = services.assignment_create(actor=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已将“{data['cell'] or data['household']}”分配给 {data['cadre'].name} 包保。")
            if names := selectors.cell_co_holders(request.user, assignment):
                # Allowed (包村干部 and 网格员 share cells), but the admin should know.
                messages.warning(request, f"该网格另有 {names} 包保，多人共同负责时请明确分工。")
            return redirect(_zones_url(request, town))
    households = selectors.zone_households(request.user, town, q)
    context = {"form": form, "town": town, "q": q, "households": households, "chosen_household": chosen}
    return render(request, "towns/zones_assign.html", {**context, "zones_url": _zones_url(request, town)})


@permission_required("map.edit")
@require_http_methods(["GET", "POST"])
def zone_end(request, pk):
    assignment = get_for_user_or_404(Assignment.objects.select_related("cadre", "cell", "household", "town"), request.user, pk=pk)
    form = EndAssignmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.assignment_end(actor=request.user, assignment=assignment, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已结束 {assignment.cadre.name} 对“{assignment.cell or assignment.household}”的包保。")
            return redirect(_zones_url(request, assignment.town))
    return render(
        request,
        "towns/zones_end.html",
        {
            "form": form,
            "assignment": assignment,
            "role_label": ROLE_LABELS.get(assignment.cadre.role, assignment.cadre.role),
            "zones_url": _zones_url(request, assignment.town),
        },
    )
