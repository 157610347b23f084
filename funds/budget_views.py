"""经费预算 and 慰问标准 (issue 5 §1): a campaign's budget per town and source against what was spent, live."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from core.decorators import permission_required
from core.permissions import can
from core.scoping import get_for_user_or_404, scope_of
from core.services import add_service_errors
from funds import budget_selectors as selectors
from funds import services
from funds.budget_forms import BudgetForm, StandardForm
from towns.models import Town
from visits.selectors import campaigns_for


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _choose(request, data):
    """The campaign and town asked for, through the user's scope (another town's id is a 404)."""
    campaigns = campaigns_for(request.user)
    campaign_id = _positive_int(data.get("campaign"))
    if campaign_id:
        campaign = next((c for c in campaigns if c.pk == campaign_id), None)
        if campaign is None:
            raise Http404("未找到该专项活动")
    else:
        campaign = selectors.default_campaign(campaigns)
    town = None
    town_id = data.get("town")
    if town_id:
        town = get_for_user_or_404(Town, request.user, pk=town_id)
    elif not scope_of(request.user).everything:
        town = get_for_user_or_404(Town, request.user, pk=request.user.cadre.town_id)
    return campaigns, campaign, town


def _page(request, *, campaigns, campaign, town, budget_form=None, standard_form=None, status=200):
    user = request.user
    county = scope_of(user).everything
    in_campaign = selectors.campaign_towns(user, campaign) if campaign else []
    # One town asked for (a town role's own): only if it takes part in the campaign.
    towns = in_campaign if town is None else [t for t in in_campaign if t.pk == town.pk]
    overview = selectors.budget_overview(user, campaign, towns) if campaign and towns else []
    if budget_form is None and can(user, "budget.edit") and campaign:
        budget_form = BudgetForm(user, initial={"campaign": campaign.pk, "town": town.pk if town else None})
    if standard_form is None and can(user, "campaign.edit") and campaign:
        standard_form = StandardForm(user, initial={"campaign": campaign.pk})
    return render(
        request,
        "funds/budgets.html",
        {
            "campaigns": campaigns,
            "campaign": campaign,
            "town": town,
            "county": county,
            "all_towns": in_campaign if county else [],
            "overview": overview,
            "single_town": len(overview) == 1,
            "standards": selectors.standards_of(campaign) if campaign else [],
            "budget_form": budget_form,
            "standard_form": standard_form,
        },
        status=status,
    )


@permission_required("funds.view")
@require_safe
def budgets(request):
    campaigns, campaign, town = _choose(request, request.GET)
    return _page(request, campaigns=campaigns, campaign=campaign, town=town)


def _back(campaign, town_id=None) -> str:
    query = {"campaign": campaign.pk}
    if town_id:
        query["town"] = town_id
    return reverse("funds:budgets") + "?" + urlencode(query)


@permission_required("budget.edit")
@require_POST
def budget_set(request):
    form = BudgetForm(request.user, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            budget = services.budget_set(
                actor=request.user,
                campaign=data["campaign"],
                town=data["town"],
                source=data["source"],
                amount=data["amount"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已保存{budget.town.name}{budget.get_source_display()}预算：¥{budget.amount:,.2f}")
            return redirect(_back(data["campaign"], _positive_int(request.POST.get("view_town"))))
    campaigns, campaign, town = _redisplay(request)
    return _page(request, campaigns=campaigns, campaign=campaign, town=town, budget_form=form, status=200)


@permission_required("campaign.edit")
@require_POST
def standard_set(request):
    form = StandardForm(request.user, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            standard = services.standard_set(
                actor=request.user,
                campaign=data["campaign"],
                category=data["category"],
                amount=data["amount"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已保存慰问标准：{standard.category.name} ¥{standard.amount:,.2f}/人")
            return redirect(_back(data["campaign"]))
    campaigns, campaign, town = _redisplay(request)
    return _page(request, campaigns=campaigns, campaign=campaign, town=town, standard_form=form, status=200)


def _redisplay(request):
    """The page behind a refused form: its campaign if it is in scope, else the default one."""
    campaigns = campaigns_for(request.user)
    campaign_id = _positive_int(request.POST.get("campaign"))
    campaign = next((c for c in campaigns if c.pk == campaign_id), None) or selectors.default_campaign(campaigns)
    town = None
    if not scope_of(request.user).everything:
        town = Town.objects.for_user(request.user).filter(pk=request.user.cadre.town_id).first()
    return campaigns, campaign, town
