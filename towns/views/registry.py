"""The registry (重点人群信息库): households, create/edit, status, full ID (the list and the person page,
which show visit state, are visits/views/registry.py)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.decorators import permission_required
from core.permissions import can
from core.scoping import get_for_user_or_404
from core.services import add_service_errors
from towns import access_log, selectors, services
from towns.forms import BeneficiaryForm, HouseholdForm, StatusChangeForm
from towns.models import Household, PersonAccess


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
                duplicate_url = reverse("registry:person_detail", kwargs={"pk": error.existing_id})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已登记慰问对象：{person.name}")
            return redirect("registry:person_detail", pk=person.pk)
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
            return redirect("registry:person_detail", pk=person.pk)
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
            return redirect("registry:person_detail", pk=person.pk)
    return render(
        request, "towns/person_status.html", {"form": form, "person": person, "can_edit": can(request.user, "registry.edit")}
    )
