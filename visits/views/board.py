"""挂图作战 board (issue 6 §2, §3): a town's open follow-ups by deadline, coloured by days left,
escalated ones marked; county roles get the level-2 (县级督办) list across towns. The figures
of §3 sit at the bottom (town: per cadre; county: per town).

Everyone signed in may look; what they see comes from for_user (a grid worker: their cells).
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.permissions import TOWN_ROLES
from core.scoping import scope_of
from towns.cadre_labels import with_place
from towns.cadres import cadre_of
from towns.models import Cadre, Town, Village
from visits.followup_escalation import ESCALATING_STATUSES, LEVEL_LABELS, colour, days_left
from visits.followup_figures import followup_figures
from visits.models import FollowUp

# A phone shows the most urgent first; a town with more open items than this narrows by filter.
BOARD_LIMIT = 200


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _board_town(request) -> Town | None:
    """The town on the board: a town user's own (another town asked for is a 404, not revealed);
    a county user's pick, or None for the county list."""
    asked = _int(request.GET.get("town"))
    if scope_of(request.user).everything:
        if asked is None:
            return None
        town = Town.objects.for_user(request.user).filter(pk=asked).first()
        if town is None:
            raise Http404("未找到该镇（街道）")
        return town
    cadre = cadre_of(request.user)
    if cadre is None or cadre.town_id is None or (asked is not None and asked != cadre.town_id):
        raise Http404("未找到该镇（街道）")
    return cadre.town


def _decorate(items, today):
    for item in items:
        item.colour = colour(item, today)
        item.days_left = days_left(item, today)
        item.level_label = LEVEL_LABELS.get(item.escalation_level, "")
    return items


def _open(user):
    return (
        FollowUp.objects.for_user(user)
        .filter(status__in=ESCALATING_STATUSES)
        .select_related("town", "village", "owner", "beneficiary")
        .order_by("deadline", "-urgency", "id")  # no deadline last (PostgreSQL sorts NULLs last ascending)
    )


@login_required
@require_safe
def board(request):
    today = timezone.localdate()
    town = _board_town(request)
    user = request.user
    if town is None:
        # County: the items raised to the county (level 2) in every town, and the figures per town.
        items = list(_open(user).filter(escalation_level=2)[:BOARD_LIMIT])
        figures = followup_figures(user, today=today)
        return render(
            request,
            "visits/board.html",
            {
                "county": True,
                "items": _decorate(items, today),
                "limited": len(items) == BOARD_LIMIT,
                "figure_rows": figures.towns,
                "figure_label": "镇（街道）",
                "towns": Town.objects.for_user(user).order_by("code"),
                "today": today,
            },
        )

    villages = list(Village.objects.for_user(user).filter(town=town).order_by("code"))
    owners = list(
        with_place(Cadre.objects.for_user(user).filter(town=town, role__in=TOWN_ROLES, is_active=True)).order_by("name", "id")
    )
    chosen = {
        "kind": request.GET.get("kind") if request.GET.get("kind") in FollowUp.Kind.values else "",
        "village": _int(request.GET.get("village")) if _int(request.GET.get("village")) in {v.pk for v in villages} else None,
        "owner": _int(request.GET.get("owner")) if _int(request.GET.get("owner")) in {c.pk for c in owners} else None,
    }
    qs = _open(user).filter(town=town)
    if chosen["kind"]:
        qs = qs.filter(kind=chosen["kind"])
    if chosen["village"]:
        qs = qs.filter(village_id=chosen["village"])
    if chosen["owner"]:
        qs = qs.filter(owner_id=chosen["owner"])
    items = list(qs[:BOARD_LIMIT])
    figures = followup_figures(user, today=today, town=town)
    return render(
        request,
        "visits/board.html",
        {
            "county": False,
            "town": town,
            "county_user": scope_of(user).everything,
            "items": _decorate(items, today),
            "limited": len(items) == BOARD_LIMIT,
            "villages": villages,
            "owners": owners,
            "kinds": FollowUp.Kind.choices,
            "chosen": chosen,
            "figure_rows": figures.cadres,
            "figure_label": "责任人",
            "today": today,
        },
    )
