"""The registry (重点人群信息库): list, person page, households, create/edit, status, full ID."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import idnumbers
from core.decorators import permission_required
from core.permissions import can
from core.scoping import get_for_user_or_404
from core.services import add_service_errors
from towns import access_log, idchecks, selectors, services
from towns.filters import id_query
from towns.forms import BeneficiaryForm, HouseholdForm, StatusChangeForm
from towns.models import Beneficiary, Household, PersonAccess


def _id_redirect(request, params):
    """A whole ID number in the search box becomes its digest (or masked form) before the query
    reaches a URL: web server logs, browser history, export jobs and audit records never hold it."""
    params = params.copy()
    params.pop("csrfmiddlewaretoken", None)
    replaced = id_query(request.user, params.get("q", ""))
    if replaced is None:
        return None
    params.pop("q")
    for key in ("idd", "idm", "born", "after", "before"):
        params.pop(key, None)
    params.update(replaced)
    if not Beneficiary.objects.for_user(request.user).filter(**_id_lookup(replaced)).exists():
        # Nothing the user may see: the check is recorded (digest only) for the inspectors.
        idchecks.record_search_outside(request.user, idnumbers.search_digest(request.POST.get("q") or request.GET.get("q")))
    return redirect(f"{reverse('towns:person_list')}?{params.urlencode()}")


def _id_lookup(replaced: dict) -> dict:
    if "idd" in replaced:
        return {"id_number_digest": replaced["idd"]}
    return {"id_number_masked": replaced["idm"], "birth_date": replaced["born"]}


@permission_required("registry.view")
@require_http_methods(["GET", "HEAD", "POST"])
def person_list(request):
    if request.method == "POST":
        # The search form posts: a whole ID number must not travel in a URL.
        return _id_redirect(request, request.POST) or redirect(
            f"{reverse('towns:person_list')}?{_without_token(request.POST).urlencode()}"
        )
    if request.GET.get("q") and (found := _id_redirect(request, request.GET)) is not None:
        return found
    filterset, page = selectors.registry_page(request.user, request.GET)
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    from visits.targets import RULE_TEXT

    return render(
        request,
        "towns/person_list.html",
        {"filter": filterset, "page": page, "query": query.urlencode(), "target_rule": RULE_TEXT},
    )


def _without_token(params):
    params = params.copy()
    params.pop("csrfmiddlewaretoken", None)
    return params


@permission_required("registry.view")
@require_safe
def person_detail(request, pk):
    person = selectors.person(request.user, pk)
    access_log.note(request, PersonAccess.Kind.PERSON, [person])
    return render(
        request,
        "towns/person_detail.html",
        {
            "person": person,
            "members": person.household.members.exclude(pk=person.pk).only(
                "pk", "name", "relation_to_head", "status", "birth_date"
            ),
            "categories": list(person.categories.all()),
            "status_changes": list(person.status_changes.select_related("changed_by")),
            "timeline": selectors.person_timeline(person),
        },
    )


@permission_required("id.reveal")
@require_POST
def person_reveal_id(request, pk):
    person = selectors.person(request.user, pk)
    number = services.reveal_id_number(actor=request.user, beneficiary=person)
    access_log.note(request, PersonAccess.Kind.REVEAL_ID, [person])
    return render(request, "towns/_revealed_id.html", {"person": person, "number": number})


@permission_required("registry.edit")
@require_http_methods(["GET", "POST"])
def household_create(request):
    form = HouseholdForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            household = services.household_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已新建户：{household.head_name}。请登记这一户的慰问对象。")
            return redirect("towns:person_create", household=household.pk)
    return render(request, "towns/household_form.html", {"form": form})


@permission_required("registry.view")
@require_safe
def household_detail(request, pk):
    household = get_for_user_or_404(Household.objects.select_related("village", "cell", "town"), request.user, pk=pk)
    members = list(household.members.all())
    access_log.note(request, PersonAccess.Kind.HOUSEHOLD, members)
    return render(request, "towns/household_detail.html", {"household": household, "members": members})


@permission_required("registry.edit")
@require_http_methods(["GET", "POST"])
def person_create(request, household):
    household = get_for_user_or_404(Household.objects.select_related("village", "cell"), request.user, pk=household)
    form = BeneficiaryForm(request.POST or None, user=request.user)
    duplicate_url = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.beneficiary_create(
                actor=request.user,
                household=household,
                name=data["name"],
                id_number=data["id_number"],
                gender=data["gender"] or None,
                phone=data["phone"],
                relation_to_head=data["relation_to_head"],
                categories=data["categories"],
                is_party_member=data["is_party_member"],
                responsible_cadre=data["responsible_cadre"],
                notes=data["notes"],
            )
        except services.DuplicateBeneficiary as error:
            add_service_errors(form, error)
            if error.existing_id:
                duplicate_url = reverse("towns:person_detail", kwargs={"pk": error.existing_id})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已登记慰问对象：{person.name}")
            return redirect("towns:person_detail", pk=person.pk)
    return render(request, "towns/person_form.html", {"form": form, "household": household, "duplicate_url": duplicate_url})


@permission_required("registry.edit")
@require_http_methods(["GET", "POST"])
def person_edit(request, pk):
    person = selectors.person(request.user, pk)
    initial = {
        "name": person.name,
        "gender": person.gender,
        "phone": person.phone,
        "relation_to_head": person.relation_to_head,
        "categories": list(person.categories.values_list("pk", flat=True)),
        "is_party_member": person.is_party_member,
        "responsible_cadre": person.responsible_cadre_id,
        "notes": person.notes,
    }
    form = BeneficiaryForm(request.POST or None, initial=initial, user=request.user, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.beneficiary_update(
                actor=request.user,
                beneficiary=person,
                id_number=data["id_number"] or None,
                categories=data["categories"],
                name=data["name"],
                phone=data["phone"],
                relation_to_head=data["relation_to_head"],
                is_party_member=data["is_party_member"],
                responsible_cadre=data["responsible_cadre"],
                notes=data["notes"],
                **({"gender": data["gender"]} if data["gender"] else {}),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已保存修改")
            return redirect("towns:person_detail", pk=person.pk)
    return render(request, "towns/person_form.html", {"form": form, "person": person, "household": person.household})


@permission_required("registry.change_status")
@require_http_methods(["GET", "POST"])
def person_status(request, pk):
    person = selectors.person(request.user, pk)
    form = StatusChangeForm(request.POST or None, current_status=person.status)
    if request.method == "POST" and form.is_valid():
        try:
            services.beneficiary_change_status(actor=request.user, beneficiary=person, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "状态已变更")
            return redirect("towns:person_detail", pk=person.pk)
    return render(
        request, "towns/person_status.html", {"form": form, "person": person, "can_edit": can(request.user, "registry.edit")}
    )
