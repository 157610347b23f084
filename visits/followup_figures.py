"""Follow-up figures per town and per cadre (issue 6 §3): what the board, the dashboards and the
bulletin (issue 7) count — 帮助解决群众诉求40余个, 制定慰问帮扶措施280余条.

Two grouped aggregate queries (one by town, one by owner) whatever the number of items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from visits.followup_escalation import ESCALATING_STATUSES
from visits.models import FollowUp

SATISFIED = (FollowUp.Satisfaction.SATISFIED, FollowUp.Satisfaction.MOSTLY)
# 诉求 the person no longer waits on: done (awaiting or after the return visit) or 销号.
SOLVED_STATUSES = (FollowUp.Status.RESOLVED, FollowUp.Status.REVISITED, FollowUp.Status.CLOSED)


@dataclass
class FigureRow:
    key: int | None
    name: str
    raised: int
    at_once: int
    tracked: int
    overdue: int
    reopened: int
    closed: int
    avg_days_to_close: float | None
    revisited: int
    satisfied: int
    measures: int
    demands_solved: int

    @property
    def satisfaction(self) -> float | None:
        """Share of 满意 + 基本满意 among the items the person gave a verdict on at the return visit."""
        return self.satisfied / self.revisited if self.revisited else None


@dataclass
class Figures:
    towns: list[FigureRow]
    cadres: list[FigureRow]


def _aggregates(today: date) -> dict:
    days_to_close = ExpressionWrapper(F("closed_on") - F("raised_on"), output_field=DurationField())
    return {
        "raised": Count("id"),
        "at_once": Count("id", filter=Q(resolved_at_once=True)),
        "tracked": Count("id", filter=Q(tracked=True)),
        "overdue": Count("id", filter=Q(status__in=ESCALATING_STATUSES, deadline__lt=today)),
        "reopened": Sum("reopened_count", default=0),
        "closed": Count("id", filter=Q(status=FollowUp.Status.CLOSED)),
        "avg_close": Avg(days_to_close, filter=Q(closed_on__isnull=False)),
        "revisited": Count("id", filter=~Q(satisfaction="")),
        "satisfied": Count("id", filter=Q(satisfaction__in=SATISFIED)),
        "measures": Count("id", filter=Q(kind=FollowUp.Kind.MEASURE)),
        "demands_solved": Count("id", filter=Q(kind=FollowUp.Kind.DEMAND, status__in=SOLVED_STATUSES)),
    }


def _row(values: dict, key: str, name: str) -> FigureRow:
    avg = values["avg_close"]
    return FigureRow(
        key=values[key],
        name=values[name] or "未指定责任人",
        raised=values["raised"],
        at_once=values["at_once"],
        tracked=values["tracked"],
        overdue=values["overdue"],
        reopened=values["reopened"],
        closed=values["closed"],
        avg_days_to_close=round(avg.total_seconds() / 86400, 1) if avg is not None else None,
        revisited=values["revisited"],
        satisfied=values["satisfied"],
        measures=values["measures"],
        demands_solved=values["demands_solved"],
    )


def followup_figures(
    user, *, start: date | None = None, end: date | None = None, campaign=None, today: date | None = None, town=None
) -> Figures:
    """Rows per town and per cadre (owner) of the items raised in [start, end] in the user's scope.

    Rejected items (不予受理) are not work taken on and are left out.
    """
    today = today or timezone.localdate()
    qs = FollowUp.objects.for_user(user).exclude(status=FollowUp.Status.REJECTED)
    if start:
        qs = qs.filter(raised_on__gte=start)
    if end:
        qs = qs.filter(raised_on__lte=end)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if town is not None:
        qs = qs.filter(town=town)
    aggregates = _aggregates(today)
    towns = qs.order_by().values("town_id", "town__name").annotate(**aggregates).order_by("town__code")
    cadres = (
        qs.order_by()
        .values("owner_id", "owner__name", "town__code")
        .annotate(**aggregates)
        .order_by("town__code", "owner__name", "owner_id")
    )
    return Figures(
        towns=[_row(v, "town_id", "town__name") for v in towns],
        cadres=[_row(v, "owner_id", "owner__name") for v in cadres],
    )
