"""Group activities (issue 4 §4): 集中慰问, 宣讲, 送学上门, 健康服务, 志愿服务.

Everyone signed in sees the activities of their scope; town cadres and admins log them.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from core.decorators import permission_required
from core.scoping import get_for_user_or_404, scope_of
from core.services import add_service_errors
from towns.models import Beneficiary
from visits import selectors, services
from visits.activity_forms import ActivityForm
from visits.models import Activity

PAGE_SIZE = 30


@login_required
@require_safe
def activity_list(request):
    filterset, activities = selectors.activities_for(request.user, request.GET, request=request)
    page = Paginator(activities, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "visits/activity_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": params.urlencode(),
            "county_wide": scope_of(request.user).everything,
        },
    )


@login_required
@require_safe
def activity_detail(request, pk):
    activity = get_for_user_or_404(
        Activity.objects.select_related("town", "village", "organiser", "campaign", "recorded_by"), request.user, pk=pk
    )
    # A grid worker sees a town's activities, but only the people of their own cells by name.
    people = list(
        Beneficiary.objects.for_user(request.user)
        .filter(activities=activity)
        .select_related("household__village")
        .order_by("name_initials", "id")
    )
    picked_total = activity.beneficiaries.count()
    return render(
        request,
        "visits/activity_detail.html",
        {"activity": activity, "people": people, "hidden_people": picked_total - len(people), "picked_total": picked_total},
    )


def _ids(values) -> list[int]:
    """Picked person ids from a form; junk is dropped (the service resolves them again)."""
    ids = []
    for value in values[: services.ACTIVITY_MAX_PICKED + 1]:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return list(dict.fromkeys(ids))


def _picker(user, q: str, picked_ids) -> dict:
    picked = selectors.people_picked(user, picked_ids)
    return {
        "q": q,
        "picked": picked,
        "results": selectors.people_search(user, q, exclude=[p.pk for p in picked]),
        "limit": selectors.PEOPLE_SEARCH_LIMIT,
    }


def _apply_errors(form, error: ValidationError) -> list[str]:
    """Put the service's field errors on the form's fields; return the picker's own."""
    by_field = dict(error.message_dict)
    picker_errors = by_field.pop("beneficiaries", [])
    if by_field:
        add_service_errors(form, ValidationError(by_field))
    return picker_errors


@permission_required("activity.log")
@require_http_methods(["GET", "POST"])
def activity_create(request):
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    picked_ids = _ids(data.getlist("beneficiaries"))
    q = data.get("q", "").strip()[:30]
    picker_errors: list[str] = []
    if request.method == "POST" and "_search" not in request.POST:
        form = ActivityForm(user, request.POST)
        if form.is_valid():
            try:
                activity, created = services.activity_create(actor=user, beneficiary_ids=picked_ids, **form.service_kwargs())
            except ValidationError as error:
                picker_errors = _apply_errors(form, error)
            else:
                if created:
                    messages.success(request, f"已登记活动“{activity.title}”，惠及 {activity.reached_count} 人。")
                else:
                    messages.info(request, "该活动已登记过，未重复保存。")
                return redirect("visits:activity_detail", pk=activity.pk)
    elif request.method == "POST":
        # The search button without JavaScript: redisplay what was typed, unvalidated, with results.
        form = ActivityForm(user, initial={name: request.POST.get(name) for name in ActivityForm.base_fields})
    else:
        form = ActivityForm(user)
    return render(
        request, "visits/activity_form.html", {"form": form, "picker_errors": picker_errors, **_picker(user, q, picked_ids)}
    )


@permission_required("activity.log")
@require_safe
def activity_people(request):
    """The people picker's results, fetched by htmx as the cadre types (and the picked list, out of band)."""
    picked_ids = _ids(request.GET.getlist("beneficiaries"))
    q = request.GET.get("q", "").strip()[:30]
    return render(request, "visits/activity_people.html", _picker(request.user, q, picked_ids))
