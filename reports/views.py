"""The bulletin, read-only for now (issue 7 §2): the county's editors and the system admin."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from reports.models import Bulletin
from towns.permissions import SYSADMIN, can, role_of


def _require_reader(user):
    if not (can(user, "bulletin.edit") or role_of(user) == SYSADMIN):
        raise PermissionDenied("组工信息仅限组织部编辑和系统管理员查看")


@login_required
@require_safe
def bulletin_list(request):
    _require_reader(request.user)
    bulletins = Bulletin.objects.order_by("-year", "-number")[:200]
    return render(request, "reports/bulletin_list.html", {"bulletins": bulletins})


@login_required
@require_safe
def bulletin_detail(request, pk):
    _require_reader(request.user)
    bulletin = get_object_or_404(Bulletin, pk=pk)
    items = list(bulletin.items.select_related("town").order_by("order", "id"))
    return render(request, "reports/bulletin_detail.html", {"bulletin": bulletin, "items": items})
