from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from core.permissions import can
from visits.selectors import my_tasks, scope_summary


@login_required
@require_safe
def home(request):
    """我的任务: who is due or overdue, who the campaign has not reached, my open items."""
    if can(request.user, "dashboard.county"):
        # County roles have no tasks of their own; their overview is the county dashboard, read
        # from rollups (the county-wide counts of this page took 270-450 ms at county scale).
        return redirect("reports:dashboard")
    return render(request, "visits/home.html", {"summary": scope_summary(request.user), "tasks": my_tasks(request.user)})
