"""慰问对象名单 (issue 12 §2): each town's list for a campaign — proposed by the town admin,
approved by the town party committee's decision, then frozen but for audited additions and
removals; printable for 公示. County roles see every town's list; a town sees its own."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import audit
from core.decorators import permission_required
from core.paging import keyset_page
from core.permissions import can
from core.scoping import get_for_user_or_404
from towns.cadres import cadre_of
from towns.models import Village
from visits import target_list_services as services
from visits import targets
from visits.models import TargetList, TargetListEntry
from visits.selectors import campaigns_for


class ApproveForm(forms.Form):
    decided_on = forms.DateField(label="审定日期", widget=forms.DateInput(attrs={"type": "date"}))
    decided_by = forms.CharField(label="审定会议", max_length=100)
    decision_note = forms.CharField(label="审定意见", max_length=200, required=False)


def _error_text(error: ValidationError) -> str:
    return "；".join(error.messages)


def _campaign(request):
    campaigns = campaigns_for(request.user)
    chosen = request.GET.get("campaign") or request.POST.get("campaign")
    if chosen:
        campaign = next((c for c in campaigns if str(c.pk) == str(chosen)), None)
        if campaign is None:
            raise Http404("未找到该专项活动")
        return campaigns, campaign
    from django.utils import timezone

    today = timezone.localdate()
    running = [c for c in campaigns if c.starts_on <= today <= c.ends_on]
    return campaigns, (running or campaigns or [None])[0]


@permission_required("targetlist.view")
@require_safe
def target_lists(request):
    campaigns, campaign = _campaign(request)
    rows = targets.lists_overview(request.user, campaign) if campaign else []
    cadre = cadre_of(request.user)
    return render(
        request,
        "visits/target_lists.html",
        {
            "campaigns": campaigns,
            "campaign": campaign,
            "rows": rows,
            "own_town_id": cadre.town_id if cadre else None,
            "rule_text": targets.RULE_TEXT,
        },
    )


@permission_required("targetlist.edit")
@require_POST
def target_list_propose(request):
    _campaigns, campaign = _campaign(request)
    if campaign is None:
        raise Http404("未找到该专项活动")
    try:
        tl = services.target_list_propose(actor=request.user, campaign=campaign)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(f"{reverse('visits:target_lists')}?campaign={campaign.pk}")
    messages.success(request, f"已按慰问对象类别拟定{tl.town.name}的名单，请核对、增补或移出后，登记镇党委的审定。")
    return redirect("visits:target_list_detail", pk=tl.pk)


def _list_or_404(request, pk) -> TargetList:
    return get_for_user_or_404(
        TargetList.objects.select_related("campaign", "town", "proposed_by", "approved_by"), request.user, pk=pk
    )


@permission_required("targetlist.view")
@require_safe
def target_list_detail(request, pk):
    tl = _list_or_404(request, pk)
    listed = targets.entries(request.user, tl)
    page = keyset_page(listed.order_by(), request.GET, size=targets.ENTRY_PAGE_SIZE)
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    can_edit = can(request.user, "targetlist.edit")
    q = (request.GET.get("q") or "").strip()
    return render(
        request,
        "visits/target_list_detail.html",
        {
            "tl": tl,
            "page": page,
            "query": query.urlencode(),
            "listed_total": listed.count(),
            "changes": targets.changes(request.user, tl),
            "not_in_register": targets.not_in_register(request.user, tl),
            "candidates": targets.people_to_add(request.user, tl, q) if q and can_edit else None,
            "q": q,
            "approve_form": ApproveForm(),
            "rule_text": targets.RULE_TEXT,
        },
    )


@permission_required("targetlist.edit")
@require_POST
def target_list_add(request, pk):
    tl = _list_or_404(request, pk)
    try:
        entry = services.target_list_add(
            actor=request.user, target_list=tl, beneficiary=request.POST.get("beneficiary"), reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"已将{entry.beneficiary.name}增补进名单。")
    return redirect("visits:target_list_detail", pk=tl.pk)


@permission_required("targetlist.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def target_list_remove(request, pk):
    entry = get_for_user_or_404(
        TargetListEntry.objects.select_related("beneficiary__household__village", "target_list__town", "target_list__campaign"),
        request.user,
        pk=pk,
    )
    error = None
    if request.method == "POST":
        try:
            services.target_list_remove(actor=request.user, entry=entry, reason=request.POST.get("reason", ""))
        except ValidationError as exc:
            error = _error_text(exc)
        else:
            messages.success(request, f"已将{entry.beneficiary.name}移出名单。")
            return redirect("visits:target_list_detail", pk=entry.target_list_id)
    return render(request, "visits/target_list_remove.html", {"entry": entry, "error": error})


@permission_required("targetlist.edit")
@require_POST
def target_list_approve(request, pk):
    tl = _list_or_404(request, pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写审定日期（如2023年12月20日）和审定会议")
        return redirect("visits:target_list_detail", pk=tl.pk)
    data = form.cleaned_data
    try:
        services.target_list_approve(
            actor=request.user,
            target_list=tl,
            decided_on=data["decided_on"],
            decided_by=data["decided_by"],
            note=data["decision_note"],
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, "已登记镇党委审定，名单已锁定；此后的增补和移出均须填写理由并留痕。")
    return redirect("visits:target_list_detail", pk=tl.pk)


@permission_required("targetlist.view")
@require_safe
def target_list_print(request, pk):
    """公示: the people on the list, by village, ID numbers masked; print-friendly."""
    tl = _list_or_404(request, pk)
    village = request.GET.get("village")
    village = int(village) if village and village.isdigit() else None
    village_obj = None
    if village is not None:
        village_obj = Village.objects.for_user(request.user).filter(pk=village, town=tl.town_id).first()
        if village_obj is None:
            raise Http404("未找到该村（社区）")
    rows = list(
        targets.entries(request.user, tl, village=village).prefetch_related("beneficiary__categories")[
            : targets.PRINT_MAX_ROWS + 1
        ]
    )
    too_many = len(rows) > targets.PRINT_MAX_ROWS
    rows = rows[: targets.PRINT_MAX_ROWS]
    for e in rows:
        # Sensitive categories (health, disability, 低保, minors) are not posted on a wall.
        e.public_categories = [c.name for c in e.beneficiary.categories.all() if not c.sensitive]
    if rows:
        cadre = cadre_of(request.user)
        with transaction.atomic():
            # Names and masked ID numbers on paper: who printed which list is recorded.
            audit.record_personal_data_access(
                actor=request.user,
                what=f"慰问对象名单公示（{tl.town.name}）",
                count=len(rows),
                town=cadre.town_id if cadre and cadre.town_id else tl.town_id,
                filters={"target_list": tl.pk, "village": village},
            )
    return render(
        request,
        "visits/target_list_print.html",
        {"tl": tl, "rows": rows, "too_many": too_many, "village": village_obj, "max_rows": targets.PRINT_MAX_ROWS},
    )
