"""Dashboards (issue 7 §1): county → town → big cell → small cell → who is not visited yet.

Thin views: parse the campaign and the dates, call one page selector of
reports/dashboard_selectors.py (which resolves the town or cell through the user's scope: another
town is a 404), render. Tables are the content; the ECharts charts draw from the same figures
(json_script) and the page works without JavaScript.
"""

from __future__ import annotations

from django import forms
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from core.decorators import permission_required
from core.permissions import can
from reports import dashboard_selectors
from towns.cadres import cadre_of


class DashboardForm(forms.Form):
    campaign = forms.IntegerField(required=False, min_value=1)
    start = forms.DateField(required=False, label="开始日期")
    end = forms.DateField(required=False, label="结束日期")


def _render(request, template: str, page, *args):
    """Parse the form, build the page with its selector, show a range error on the form."""
    form = DashboardForm(request.GET or None)
    context = page(request.user, *args, form.cleaned_data if form.is_valid() else {})
    if "range_error" in context:
        form.add_error("end", context.pop("range_error"))
    return render(request, template, {**context, "form": form})


@permission_required("dashboard.view")
@require_safe
def dashboard(request):
    """看板: the county for county roles; a town's own dashboard for its cadres and admins."""
    if can(request.user, "dashboard.county"):
        return _render(request, "reports/dashboard_county.html", dashboard_selectors.county_page)
    url = reverse("reports:dashboard_town", args=[cadre_of(request.user).town_id])
    return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)


@permission_required("dashboard.view")
@require_safe
def town(request, pk):
    return _render(request, "reports/dashboard_town.html", dashboard_selectors.town_page, pk)


@permission_required("dashboard.view")
@require_safe
def cell(request, pk):
    return _render(request, "reports/dashboard_cell.html", dashboard_selectors.cell_page, pk)
