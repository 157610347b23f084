"""Dashboards (issue 7 §1): county → town → big cell → small cell → who is not visited yet.

Thin views: resolve the campaign, the dates and the town or cell through the user's scope (another
town is a 404), then read the rollups through reports/selectors.py. Tables are the content; the
ECharts charts draw from the same figures (json_script) and the page works without JavaScript.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.decorators import permission_required
from core.permissions import TOWN_ROLES, can
from core.scoping import get_for_user_or_404
from reports import selectors
from towns.cadre_labels import place_and_post, with_place
from towns.cadres import cadre_of
from towns.dates import cn_date
from towns.models import Cadre, GridCell, Town
from visits import targets
from visits.selectors import campaigns_for


class DashboardForm(forms.Form):
    campaign = forms.IntegerField(required=False, min_value=1)
    start = forms.DateField(required=False, label="开始日期")
    end = forms.DateField(required=False, label="结束日期")


def default_range(campaign, today: date) -> tuple[date, date]:
    """From the campaign's first day to today, or to its last day once it is over."""
    end = min(campaign.ends_on, max(today, campaign.starts_on))
    return campaign.starts_on, end


def _choose(request) -> dict:
    """The campaign (default: the running one, else the latest) and the date range asked for."""
    campaigns = campaigns_for(request.user)
    form = DashboardForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    campaign = None
    if data.get("campaign"):
        campaign = next((c for c in campaigns if c.pk == data["campaign"]), None)
        if campaign is None:
            raise Http404("未找到该专项活动")
    if campaign is None:
        today = timezone.localdate()
        running = [c for c in campaigns if c.starts_on <= today <= c.ends_on]
        campaign = (running or campaigns or [None])[0]
    context = {"campaigns": campaigns, "campaign": campaign, "form": form, "today": timezone.localdate()}
    if campaign is None:
        return context
    start, end = default_range(campaign, context["today"])
    start, end = data.get("start") or start, data.get("end") or end
    if start > end:
        form.add_error("end", "结束日期不能早于开始日期")
        start, end = default_range(campaign, context["today"])
    query = {"campaign": campaign.pk, "start": start.isoformat(), "end": end.isoformat()}
    context.update(start=start, end=end, query=urlencode(query), refreshed_at=selectors.refreshed_at(campaign.pk))
    return context


def _require_dashboard(user) -> None:
    if not (can(user, "dashboard.county") or can(user, "dashboard.town")):
        raise PermissionDenied("无权限：查看看板")


def _trend_chart(weeks) -> dict:
    return {
        "kind": "trend",
        "labels": [cn_date(w.monday) for w in weeks],
        "visits": [w.visits for w in weeks],
        "covered": [w.covered for w in weeks],
    }


def _coverage_chart(rows) -> dict:
    return {"kind": "coverage", "labels": [r.name for r in rows], "values": [r.coverage or 0 for r in rows]}


def _target_rule(user, campaign, towns) -> dict:
    """Who the figures count (visits/targets.py, in words) and which towns still count the
    provisional list from the categories because their list is not approved yet."""
    states = targets.town_list_states(user, campaign.pk, [t.pk for t in towns])
    provisional = [t.name for t in towns if states.get(t.pk) != "approved"]
    return {"target_rule": targets.RULE_TEXT, "provisional_towns": provisional}


@login_required
@require_safe
def dashboard(request):
    """看板: the county for county roles; a town's own dashboard for its cadres and admins."""
    if can(request.user, "dashboard.county"):
        return county(request)
    if can(request.user, "dashboard.town"):
        url = reverse("reports:dashboard_town", args=[cadre_of(request.user).town_id])
        return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)
    raise PermissionDenied("无权限：查看看板")


@permission_required("dashboard.county")
def county(request):
    context = _choose(request)
    campaign = context["campaign"]
    if campaign is not None:
        towns = list(Town.objects.for_user(request.user).filter(campaigns=campaign).order_by("code"))
        ids = [t.pk for t in towns]
        figures = selectors.coverage_by_town(campaign.pk, ids, start=context["start"], end=context["end"])
        budgets = selectors.budget_by_town(request.user, campaign, ids)
        overdue = selectors.followups_overdue_by_town(request.user, campaign, context["today"], ids)
        rows = selectors.by_key(figures, ids)
        for town, row in zip(towns, rows, strict=True):
            row.name, row.budget, row.followups_overdue = town.name, budgets.get(town.pk), overdue.get(town.pk, 0)
        weeks = selectors.trend_by_week(campaign.pk, ids, start=context["start"], end=context["end"])
        context.update(_target_rule(request.user, campaign, towns))
        context.update(
            rows=rows,
            total=selectors.sum_rows(rows),
            weeks=weeks,
            charts={"coverage": _coverage_chart(rows), "trend": _trend_chart(weeks)},
        )
    return render(request, "reports/dashboard_county.html", context)


@login_required
@require_safe
def town(request, pk):
    _require_dashboard(request.user)
    place = get_for_user_or_404(Town, request.user, pk=pk)
    context = _choose(request)
    context["town"] = place
    campaign = context["campaign"]
    if campaign is None or not campaign.towns.filter(pk=place.pk).exists():
        context["not_in_campaign"] = campaign is not None
        return render(request, "reports/dashboard_town.html", context)
    start, end, today = context["start"], context["end"], context["today"]
    town_row = selectors.coverage_by_town(campaign.pk, [place.pk], start=start, end=end).get(place.pk) or selectors.Figures(
        key=place.pk
    )
    town_row.name = place.name
    town_row.budget = selectors.budget_by_town(request.user, campaign, [place.pk]).get(place.pk)
    bigs = list(
        GridCell.objects.for_user(request.user)
        .filter(town=place, level=GridCell.Level.BIG)
        .select_related("village")
        .order_by("code")
    )
    figures = selectors.coverage_by_cell(campaign.pk, place.pk, start=start, end=end)
    overdue = selectors.followups_overdue_by_cell(request.user, campaign, today, place)
    town_row.followups_overdue = sum(overdue.values())  # items without a cell included
    rows = selectors.by_key(figures, [b.pk for b in bigs])
    for big, row in zip(bigs, rows, strict=True):
        row.name, row.cell, row.followups_overdue = big.name, big, overdue.get(big.pk, 0)
    rows = [r for r in rows if r.targeted or r.visits]  # big cells with nobody targeted and no work are noise
    weeks = selectors.trend_by_week(campaign.pk, [place.pk], start=start, end=end)
    context.update(_target_rule(request.user, campaign, [place]))
    context.update(
        summary=town_row,
        rows=rows,
        weeks=weeks,
        cadres=_cadre_rows(request.user, campaign, place, start=start, end=end, today=today),
        charts={"coverage": _coverage_chart(rows), "trend": _trend_chart(weeks)},
    )
    return render(request, "reports/dashboard_town.html", context)


def _cadre_rows(user, campaign, place, *, start, end, today) -> list[dict]:
    """Per cadre of the town: the people they answer for (包保 cells and households, responsible
    cadre) reached so far, the visits they logged in the range, the follow-ups they own."""
    zones = selectors.cadre_zone_coverage(campaign.pk, place.pk, end=end)
    logged = selectors.cadre_visits(campaign.pk, place.pk, start=start, end=end)
    owned = selectors.followups_by_owner(user, campaign, today, place)
    cadres = (
        with_place(Cadre.objects.for_user(user).filter(town=place, role__in=sorted(TOWN_ROLES)))
        .order_by("role", "name")
        .values("pk", "name", "role", "title", "place_name", "is_active")
    )
    rows = []
    for c in cadres:
        targeted, reached = zones.get(c["pk"], (0, 0))
        visits = logged.get(c["pk"], 0)
        open_items, overdue_items = owned.get(c["pk"], (0, 0))
        if not (targeted or visits or open_items) and not c["is_active"]:
            continue
        rows.append(
            {
                "name": c["name"],
                "role": place_and_post(SimpleNamespace(**c)),
                "targeted": targeted,
                "reached": reached,
                "unreached": targeted - reached,
                "coverage": round(reached * 100 / targeted, 1) if targeted else None,
                "visits": visits,
                "open": open_items,
                "overdue": overdue_items,
            }
        )
    rows.sort(key=lambda r: (r["coverage"] if r["coverage"] is not None else 101, -r["unreached"], r["name"]))
    return rows


@login_required
@require_safe
def cell(request, pk):
    """A big cell: its small cells. A small cell: the households and people not visited yet."""
    _require_dashboard(request.user)
    place = get_for_user_or_404(GridCell.objects.select_related("town", "village", "parent"), request.user, pk=pk)
    context = _choose(request)
    context.update(cell=place, town=place.town)
    campaign = context["campaign"]
    if campaign is None or not campaign.towns.filter(pk=place.town_id).exists():
        context["not_in_campaign"] = campaign is not None
        return render(request, "reports/dashboard_cell.html", context)
    start, end, today = context["start"], context["end"], context["today"]
    if place.level == GridCell.Level.BIG:
        smalls = list(GridCell.objects.for_user(request.user).filter(parent=place).select_related("village").order_by("code"))
        figures = selectors.coverage_by_cell(campaign.pk, place.town_id, start=start, end=end, big_cell_id=place.pk)
        overdue = selectors.followups_overdue_by_cell(request.user, campaign, today, place.town, big_cell_id=place.pk)
        rows = selectors.by_key(figures, [s.pk for s in smalls])
        for small, row in zip(smalls, rows, strict=True):
            row.name, row.cell, row.followups_overdue = small.name, small, overdue.get(small.pk, 0)
        context.update(rows=rows, total=selectors.sum_rows(rows), charts={"coverage": _coverage_chart(rows)})
    else:
        figures = selectors.coverage_by_cell(campaign.pk, place.town_id, start=start, end=end, big_cell_id=place.parent_id)
        summary = figures.get(place.pk) or selectors.Figures(key=place.pk)
        summary.followups_overdue = selectors.followups_overdue_by_cell(
            request.user, campaign, today, place.town, big_cell_id=place.parent_id
        ).get(place.pk, 0)
        households = selectors.unvisited_in_cell(request.user, campaign, place)
        context.update(summary=summary, households=households, unvisited_people=sum(len(h["people"]) for h in households))
    return render(request, "reports/dashboard_cell.html", context)
