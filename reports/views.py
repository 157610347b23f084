"""The bulletin's list and its page (issue 7 §2): the county's editors and the system admin.

The editor and the towns' submissions are in reports/bulletin_views.py.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from reports import bulletin_selectors
from reports.bulletin_forms import DraftForm
from reports.models import Bulletin
from towns.permissions import SYSADMIN, can, role_of


def _require_reader(user):
    if not (can(user, "bulletin.edit") or role_of(user) == SYSADMIN):
        raise PermissionDenied("组工信息仅限组织部编辑和系统管理员查看")


@login_required
@require_safe
def bulletin_list(request):
    _require_reader(request.user)
    bulletins = Bulletin.objects.order_by("-week_start")[:200]
    return render(request, "reports/bulletin_list.html", {"bulletins": bulletins, "draft_form": DraftForm()})


@login_required
@require_safe
def bulletin_detail(request, pk):
    _require_reader(request.user)
    bulletin = get_object_or_404(Bulletin, pk=pk)
    items = bulletin_selectors.printed_items(bulletin)
    number = bulletin_selectors.display_number(bulletin)
    return render(request, "reports/bulletin_detail.html", {"bulletin": bulletin, "items": items, "number": number})
