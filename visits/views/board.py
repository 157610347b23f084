"""挂图作战 board (issue 6 §2, §3): a town's open follow-ups by deadline, coloured by days left,
escalated ones marked; county roles get the level-2 (县级督办) list across towns. The figures
of §3 sit at the bottom (town: per cadre; county: per town).

Every role may look (followup.view); what they see comes from for_user (a grid worker: their cells).
"""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.decorators import permission_required
from visits import board_selectors


@permission_required("followup.view")
@require_safe
def board(request):
    today = timezone.localdate()
    town = board_selectors.board_town(request.user, request.GET.get("town"))
    if town is None:
        context = board_selectors.county_board(request.user, today)
    else:
        context = board_selectors.town_board(request.user, town, request.GET, today)
    return render(request, "visits/board.html", context)
