"""The bulletin's list and its page (issue 7 §2): everyone on its 送 list (issue 12 §4).

Town cadres and admins, the county and inspectors read and download published issues
(``bulletin.read``); drafts stay with the editor (``bulletin.edit``), for whom the list also
offers 起草 and the numbering. The editor and the towns' submissions are in reports/bulletin_views.py.
"""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from core.decorators import permission_required
from core.permissions import can
from reports import bulletin_selectors
from reports.bulletin_forms import DraftForm, NumberingForm


def list_context(request, **extra) -> dict:
    context = {"bulletins": bulletin_selectors.readable_bulletins(request.user).order_by("-week_start")[:200]}
    if can(request.user, "bulletin.edit"):
        context |= {"draft_form": DraftForm(), "numbering_form": NumberingForm.current(), **bulletin_selectors.numbering()}
    return context | extra


@permission_required("bulletin.read")
@require_safe
def bulletin_list(request):
    return render(request, "reports/bulletin_list.html", list_context(request))


@permission_required("bulletin.read")
@require_safe
def bulletin_detail(request, pk):
    bulletin = get_object_or_404(bulletin_selectors.readable_bulletins(request.user), pk=pk)
    items = bulletin_selectors.printed_items(bulletin)
    number = bulletin_selectors.display_number(bulletin)
    return render(request, "reports/bulletin_detail.html", {"bulletin": bulletin, "items": items, "number": number})
