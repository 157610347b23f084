"""Reads of the 挂图作战 board (issue 6 §2, §3): the town on the board, its open follow-ups by
deadline (filtered by FollowUpFilter), the county's level-2 list, and the figures under them."""

from django.http import Http404

from core.permissions import TOWN_ROLES
from core.scoping import scope_of
from towns.cadre_labels import with_place
from towns.cadres import cadre_of
from towns.models import Cadre, Town, Village
from visits.filters import FollowUpFilter
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


def board_town(user, asked) -> Town | None:
    """The town on the board: a town user's own (another town asked for is a 404, not revealed);
    a county user's pick, or None for the county list."""
    asked = _int(asked)
    if scope_of(user).everything:
        if asked is None:
            return None
        town = Town.objects.for_user(user).filter(pk=asked).first()
        if town is None:
            raise Http404("未找到该镇（街道）")
        return town
    cadre = cadre_of(user)
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


def county_board(user, today) -> dict:
    """The items raised to the county (level 2) in every town, and the figures per town."""
    items = list(_open(user).filter(escalation_level=2)[:BOARD_LIMIT])
    figures = followup_figures(user, today=today)
    return {
        "county": True,
        "items": _decorate(items, today),
        "limited": len(items) == BOARD_LIMIT,
        "figure_rows": figures.towns,
        "figure_label": "镇（街道）",
        "towns": Town.objects.for_user(user).order_by("code"),
        "today": today,
    }


def town_board(user, town: Town, params, today) -> dict:
    """A town's open items, narrowed by kind, village and owner (a value not offered is ignored),
    with the figures per cadre."""
    villages = list(Village.objects.for_user(user).filter(town=town).order_by("code"))
    owners = list(
        with_place(Cadre.objects.for_user(user).filter(town=town, role__in=TOWN_ROLES, is_active=True)).order_by("name", "id")
    )
    chosen = {
        "kind": params.get("kind") if params.get("kind") in FollowUp.Kind.values else "",
        "village": _int(params.get("village")) if _int(params.get("village")) in {v.pk for v in villages} else None,
        "owner": _int(params.get("owner")) if _int(params.get("owner")) in {c.pk for c in owners} else None,
    }
    narrowed = FollowUpFilter({k: v for k, v in chosen.items() if v}, queryset=_open(user).filter(town=town), user=user)
    items = list(narrowed.qs[:BOARD_LIMIT])
    figures = followup_figures(user, today=today, town=town)
    return {
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
    }
