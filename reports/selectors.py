"""Reads for the dashboards (issue 7 §1).

The figures come from the rollups (reports/rollups.py): one grouped query per table on the page,
whatever the number of towns or cells, plain SQL over a few hundred rows and no model instances
for the big tables. `make bench` times these against hand-written SQL, so keep them lean.
Callers resolve towns and cells through the user's scope first and pass their ids here; the
live reads (overdue follow-ups, the people not yet visited) go through for_user() themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum

from funds.models import Budget
from reports.models import RollupRefresh
from visits.followup_escalation import ESCALATING_STATUSES
from visits.models import FollowUp
from visits.selectors import OPEN_FOLLOWUP_STATUSES, campaign_unvisited

ZERO = Decimal("0.00")


def _money(value) -> Decimal:
    # SQLite sums decimals as floats; PostgreSQL gives Decimal already.
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(round(value, 2)))


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _in(ids) -> tuple[str, list]:
    ids = list(ids)
    return ", ".join(["%s"] * len(ids)) or "NULL", ids


@dataclass
class Figures:
    """One row of a dashboard table: a town, a big cell or a small cell, over [start, end]."""

    key: int | None
    targeted: int = 0
    households: int = 0
    reached: int = 0  # targeted people visited at least once from the campaign's start to `end`
    reached_in_range: int = 0  # ... whose first visit fell within [start, end]
    visits: int = 0
    grants: int = 0
    cash: Decimal = ZERO
    goods_value: Decimal = ZERO
    followups_raised: int = 0
    followups_closed: int = 0
    activities: int = 0
    activity_people: int = 0
    followups_overdue: int = 0  # live: open and past the deadline today
    budget: Decimal | None = None
    name: str = ""

    @property
    def unreached(self) -> int:
        return max(self.targeted - self.reached, 0)

    @property
    def coverage(self) -> float | None:
        return round(self.reached * 100 / self.targeted, 1) if self.targeted else None

    @property
    def spent(self) -> Decimal:
        return self.cash + self.goods_value

    @property
    def budget_percent(self) -> int | None:
        return int(self.spent * 100 / self.budget) if self.budget else None

    def add(self, other: Figures) -> None:
        for name in (
            "targeted",
            "households",
            "reached",
            "reached_in_range",
            "visits",
            "grants",
            "cash",
            "goods_value",
            "followups_raised",
            "followups_closed",
            "activities",
            "activity_people",
            "followups_overdue",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.budget is not None:
            self.budget = (self.budget or ZERO) + other.budget


def _figures(rows, *, with_activities: bool) -> dict[int, Figures]:
    result = {}
    for row in rows:
        f = Figures(
            key=row[0],
            targeted=int(row[1]),
            households=int(row[2]),
            reached=int(row[3]),
            reached_in_range=int(row[4]),
            visits=int(row[5]),
            grants=int(row[6]),
            cash=_money(row[7]),
            goods_value=_money(row[8]),
            followups_raised=int(row[9]),
            followups_closed=int(row[10]),
        )
        if with_activities:
            f.activities, f.activity_people = int(row[11]), int(row[12])
        result[f.key] = f
    return result


# The additive figures of [start, end] per group, over rollup rows already limited to day <= end:
# coverage counts every first visit up to `end`, the rest only those from `start`. FILTER, not a
# CASE per column: the town page sums ~10k cell-day rows this way, and the CASEs cost a third more.
_DAY_SUMS = """SUM(reached) AS reached,
               SUM(reached) FILTER (WHERE day >= %s) AS reached_in_range,
               SUM(visits) FILTER (WHERE day >= %s) AS visits,
               SUM(grants) FILTER (WHERE day >= %s) AS grants,
               SUM(cash) FILTER (WHERE day >= %s) AS cash,
               SUM(goods_value) FILTER (WHERE day >= %s) AS goods_value,
               SUM(followups_raised) FILTER (WHERE day >= %s) AS raised,
               SUM(followups_closed) FILTER (WHERE day >= %s) AS closed"""
_DAY_COLUMNS = """COALESCE(c.targeted, 0), COALESCE(c.households, 0), COALESCE(d.reached, 0),
               COALESCE(d.reached_in_range, 0), COALESCE(d.visits, 0), COALESCE(d.grants, 0), COALESCE(d.cash, 0),
               COALESCE(d.goods_value, 0), COALESCE(d.raised, 0), COALESCE(d.closed, 0)"""


def _day_params(start: date) -> list:
    return [start] * 7


def coverage_by_town(campaign_id: int, town_ids, *, start: date, end: date) -> dict[int, Figures]:
    """Per town: targeted people and households, reached by `end` (coverage), and the additive
    figures of [start, end]: visits, grants (cash, goods value), follow-ups raised and closed,
    activities and the people they reached. One query."""
    marks, ids = _in(town_ids)
    # A FULL JOIN: a town may have work logged under the campaign but nobody targeted, or the reverse.
    sql = f"""
        SELECT COALESCE(c.k, d.k), {_DAY_COLUMNS}, COALESCE(d.activities, 0), COALESCE(d.activity_people, 0)
          FROM (SELECT town_id AS k, SUM(targeted) AS targeted, SUM(households) AS households
                  FROM reports_cellcoverage WHERE campaign_id = %s AND town_id IN ({marks}) GROUP BY town_id) c
          FULL JOIN (
                SELECT town_id AS k, {_DAY_SUMS},
                       SUM(activities) FILTER (WHERE day >= %s) AS activities,
                       SUM(activity_people) FILTER (WHERE day >= %s) AS activity_people
                  FROM reports_townday WHERE campaign_id = %s AND town_id IN ({marks}) AND day <= %s GROUP BY town_id) d
            ON d.k = c.k"""  # noqa: S608 (placeholders only; values are parameters)
    params = [campaign_id, *ids, *_day_params(start), start, start, campaign_id, *ids, end]
    return _figures(_rows(sql, params), with_activities=True)


def coverage_by_cell(
    campaign_id: int, town_id: int, *, start: date, end: date, big_cell_id: int | None = None
) -> dict[int, Figures]:
    """Per big cell of a town (big_cell_id None), or per small cell of one big cell: the same
    figures as coverage_by_town but activities (they belong to villages, not cells). One query."""
    group = "cell_id" if big_cell_id is not None else "big_cell_id"
    narrow = "AND big_cell_id = %s" if big_cell_id is not None else ""
    narrow_params = [big_cell_id] if big_cell_id is not None else []
    sql = f"""
        SELECT COALESCE(c.k, d.k), {_DAY_COLUMNS}
          FROM (SELECT {group} AS k, SUM(targeted) AS targeted, SUM(households) AS households
                  FROM reports_cellcoverage WHERE campaign_id = %s AND town_id = %s {narrow} GROUP BY {group}) c
          FULL JOIN (
                SELECT {group} AS k, {_DAY_SUMS}
                  FROM reports_cellday WHERE campaign_id = %s AND town_id = %s {narrow} AND day <= %s GROUP BY {group}) d
            ON d.k = c.k"""  # noqa: S608 (a column name of ours)
    params = [campaign_id, town_id, *narrow_params, *_day_params(start), campaign_id, town_id, *narrow_params, end]
    return _figures(_rows(sql, params), with_activities=False)


@dataclass
class Week:
    monday: date
    visits: int = 0
    reached: int = 0
    grants: int = 0
    cash: Decimal = ZERO
    followups_raised: int = 0
    activities: int = 0
    covered: int = 0  # people reached since the campaign began, as of the week's end


def trend_by_week(campaign_id: int, town_ids, *, start: date, end: date) -> list[Week]:
    """The weekly trend (weeks from Monday) of [start, end] over the given towns, with the running
    total of people reached. One query over (day) sums; weeks are folded in Python."""
    marks, ids = _in(town_ids)
    rows = _rows(
        f"""SELECT day, SUM(visits), SUM(reached), SUM(grants), SUM(cash), SUM(followups_raised), SUM(activities)
              FROM reports_townday WHERE campaign_id = %s AND town_id IN ({marks}) AND day <= %s
             GROUP BY day ORDER BY day""",  # noqa: S608
        [campaign_id, *ids, end],
    )
    weeks: dict[date, Week] = {}
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        weeks[monday] = Week(monday)
        monday += timedelta(days=7)
    covered = 0
    before = 0
    for day, visits, reached, grants, cash, raised, activities in rows:
        day = day if isinstance(day, date) else date.fromisoformat(day)
        covered += int(reached)
        if day < start:
            before = covered
            continue
        week = weeks[day - timedelta(days=day.weekday())]
        week.visits += int(visits)
        week.reached += int(reached)
        week.grants += int(grants)
        week.cash += _money(cash)
        week.followups_raised += int(raised)
        week.activities += int(activities)
    running = before
    for week in weeks.values():
        running += week.reached
        week.covered = running
    return list(weeks.values())


def cadre_zone_coverage(campaign_id: int, town_id: int, *, end: date) -> dict[int, tuple[int, int]]:
    """Per cadre of a town: (targeted, reached by `end`) among the people they answer for — the
    small cells and single households of their current 包保 assignments, and the people whose
    responsible cadre they are; each person once per cadre (reports.models.CadreZone)."""
    rows = _rows(
        """SELECT cadre_id, SUM(people), SUM(CASE WHEN first_visit_on <= %s THEN people ELSE 0 END)
             FROM reports_cadrezone WHERE campaign_id = %s AND town_id = %s GROUP BY cadre_id""",
        [end, campaign_id, town_id],
    )
    return {cadre_id: (int(n), int(reached or 0)) for cadre_id, n, reached in rows}


def cadre_visits(campaign_id: int, town_id: int, *, start: date, end: date) -> dict[int, int]:
    """Visits each cadre of a town logged (登记人) in [start, end]."""
    rows = _rows(
        """SELECT cadre_id, SUM(visits) FROM reports_cadreday
            WHERE campaign_id = %s AND town_id = %s AND day >= %s AND day <= %s GROUP BY cadre_id""",
        [campaign_id, town_id, start, end],
    )
    return {cadre_id: int(n) for cadre_id, n in rows}


def refreshed_at(campaign_id: int):
    """When the campaign's rollups were last rebuilt (None: never)."""
    return RollupRefresh.objects.filter(campaign_id=campaign_id).values_list("refreshed_at", flat=True).first()


# --- live reads (small, indexed; through the user's scope) ----------------------------------------


def budget_by_town(user, campaign, town_ids) -> dict[int, Decimal]:
    rows = (
        Budget.objects.for_user(user)
        .filter(campaign=campaign, town_id__in=list(town_ids))
        .order_by()
        .values_list("town_id")
        .annotate(total=Sum("amount"))
    )
    return {town_id: _money(total) for town_id, total in rows}


def _overdue(user, campaign, today: date):
    return (
        FollowUp.objects.for_user(user).filter(campaign=campaign, status__in=ESCALATING_STATUSES, deadline__lt=today).order_by()
    )


def followups_overdue_by_town(user, campaign, today: date, town_ids) -> dict[int, int]:
    """Open follow-ups (待受理, 办理中) of the campaign past their deadline today, per town."""
    rows = _overdue(user, campaign, today).filter(town_id__in=list(town_ids)).values_list("town_id").annotate(n=Count("id"))
    return dict(rows)


def followups_overdue_by_cell(user, campaign, today: date, town, *, big_cell_id: int | None = None) -> dict[int | None, int]:
    """The same per big cell of a town, or per small cell of one big cell (None: items without a cell)."""
    qs = _overdue(user, campaign, today).filter(town=town)
    if big_cell_id is not None:
        return dict(qs.filter(cell__parent_id=big_cell_id).values_list("cell_id").annotate(n=Count("id")))
    return dict(qs.values_list("cell__parent_id").annotate(n=Count("id")))


def followups_by_owner(user, campaign, today: date, town) -> dict[int, tuple[int, int]]:
    """Per owner in a town: (open, overdue) follow-ups of the campaign."""
    rows = (
        FollowUp.objects.for_user(user)
        .filter(campaign=campaign, town=town, owner__isnull=False, status__in=OPEN_FOLLOWUP_STATUSES)
        .order_by()
        .values_list("owner_id")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(status__in=ESCALATING_STATUSES, deadline__lt=today)))
    )
    return {owner: (n_open, n_overdue) for owner, n_open, n_overdue in rows}


def unvisited_in_cell(user, campaign, cell) -> list[dict]:
    """不漏一户，不落一人: the households of a small cell with the targeted people the campaign has
    not visited yet, read live (not from the rollups) so a visit logged a minute ago drops out."""
    people = (
        campaign_unvisited(user, campaign)
        .filter(cell=cell)
        .order_by("household__address", "household_id", "id")
        .values(
            "pk",
            "name",
            "gender",
            "birth_date",
            "phone",
            "last_visited_at",
            "household_id",
            "household__address",
            "household__head_name",
            "household__phone",
        )
    )
    households: dict[int, dict] = {}
    for p in people:
        h = households.setdefault(
            p["household_id"],
            {
                "pk": p["household_id"],
                "address": p["household__address"],
                "head_name": p["household__head_name"],
                "phone": p["household__phone"],
                "people": [],
            },
        )
        h["people"].append(p)
    return list(households.values())


def sum_rows(rows) -> Figures:
    total = Figures(key=None, name="合计")
    for row in rows:
        total.add(row)
    return total


def by_key(rows: dict, keys) -> list[Figures]:
    """Rows in the order of `keys` (an empty row for a key without figures)."""
    out = []
    for key in keys:
        out.append(rows.get(key) or Figures(key=key))
    return out
