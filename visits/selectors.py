"""Reads for the field work: who is due a visit, who the campaign has not reached, open items."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from towns.models import Beneficiary, Household
from towns.visit_due import DUE_SOON_DAYS
from visits.models import Activity, Campaign, FollowUp, Visit

OPEN_FOLLOWUP_STATUSES = [
    FollowUp.Status.PENDING,
    FollowUp.Status.IN_PROGRESS,
    FollowUp.Status.RESOLVED,
    FollowUp.Status.REVISITED,
]


def _active(user) -> QuerySet[Beneficiary]:
    return Beneficiary.objects.for_user(user).filter(status=Beneficiary.Status.ACTIVE)


def mine(user, qs: QuerySet, assigned: tuple[list[int], list[int]] | None = None) -> QuerySet:
    """Narrow a town's people to what this cadre answers for: assigned cells and households,
    and people they are the responsible cadre of. Grid workers are narrowed already by scope."""
    from towns.cadres import cadre_of

    cadre = cadre_of(user)
    if cadre is None:
        return qs.none()
    cells, households = assigned if assigned is not None else cadre.assigned_ids()
    return qs.filter(Q(cell_id__in=cells) | Q(household_id__in=households) | Q(responsible_cadre_id=cadre.pk))


def overdue(user, *, today: date | None = None) -> QuerySet[Beneficiary]:
    today = today or timezone.localdate()
    return _active(user).filter(next_visit_due__lt=today).order_by("next_visit_due", "id")


def due_soon(user, *, today: date | None = None, within_days: int = DUE_SOON_DAYS) -> QuerySet[Beneficiary]:
    today = today or timezone.localdate()
    return (
        _active(user)
        .filter(next_visit_due__gte=today, next_visit_due__lte=today + timedelta(days=within_days))
        .order_by("next_visit_due", "id")
    )


def running_campaigns(user, *, today: date | None = None) -> QuerySet[Campaign]:
    today = today or timezone.localdate()
    return Campaign.objects.for_user(user).filter(starts_on__lte=today, ends_on__gte=today).order_by("-starts_on")


def campaign_unvisited(user, campaign: Campaign) -> QuerySet[Beneficiary]:
    """Targets of a campaign in the user's scope (visits/targets.py, the one rule) with no visit
    logged under it yet (不漏一户，不落一人)."""
    from visits.targets import campaign_targets

    visited = Visit.objects.filter(campaign_id=campaign.pk, beneficiary_id=OuterRef("pk"))
    return campaign_targets(campaign, user).filter(~Exists(visited)).order_by("cell_id", "household_id", "id")


def open_followups_owned(user) -> QuerySet[FollowUp]:
    return (
        FollowUp.objects.for_user(user)
        .filter(owner__user_id=user.pk, status__in=OPEN_FOLLOWUP_STATUSES)
        .select_related("beneficiary")
        .order_by("deadline", "-urgency", "id")
    )


def days_overdue(person: Beneficiary, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return (today - person.next_visit_due).days if person.next_visit_due and person.next_visit_due < today else 0


# --- group activities (issue 4 §4) -----------------------------------------------------------

PEOPLE_SEARCH_LIMIT = 20


def activities_for(user, data=None, *, request=None):
    """The activities a user may see, narrowed by the list page's filters: (filterset, queryset)."""
    from visits.activity_filters import ActivityFilter

    filterset = ActivityFilter(data or None, queryset=Activity.objects.for_user(user), request=request)
    qs = filterset.qs.select_related("town", "village", "organiser", "campaign").order_by("-held_on", "-id")
    return filterset, qs


def people_search(user, q: str, *, exclude=(), limit: int = PEOPLE_SEARCH_LIMIT) -> list[Beneficiary]:
    """People on the registry by name or pinyin initials ("lgy" finds 李桂英), for pickers."""
    q = (q or "").strip()
    if not q:
        return []
    match = Q(name__icontains=q)
    if q.isascii() and q.isalnum():
        match |= Q(name_initials__startswith=q.lower())
    return list(
        _active(user)
        .filter(match)
        .exclude(pk__in=list(exclude))
        .select_related("household__village")
        .order_by("name_initials", "id")[:limit]
    )


def people_picked(user, ids) -> list[Beneficiary]:
    """The picked people a form carries, resolved through the user's scope (others dropped)."""
    return list(Beneficiary.objects.for_user(user).filter(pk__in=list(ids)).select_related("household__village").order_by("id"))


# --- 我的任务: the home page -------------------------------------------------------------------

HOME_LIST_SIZE = 30


def _people_rows(qs, limit=HOME_LIST_SIZE):
    return list(
        qs.select_related("household__village", "cell").only(
            "pk",
            "name",
            "next_visit_due",
            "last_visited_at",
            "household__address",
            "household__village__name",
            "cell__name",
            "status",
        )[:limit]
    )


def my_tasks(user, *, today: date | None = None) -> dict:
    """Who is due, overdue, not yet reached by the running campaign, and the items I own.

    Grid workers see their cells; a town cadre or admin sees what they answer for first
    (assigned cells and households, people they are responsible for), then the town by cell
    and by cadre. A constant number of queries whatever the town's size.
    """
    from core.permissions import GRID_WORKER, TOWN_ROLES, role_of
    from towns.cadres import cadre_of
    from towns.models import GridCell

    today = today or timezone.localdate()
    role = role_of(user)
    cadre = cadre_of(user)
    result = {"today": today, "role": role, "is_town_role": role in TOWN_ROLES}
    if role not in TOWN_ROLES:
        return result
    if role == GRID_WORKER:
        narrow = lambda qs: qs  # noqa: E731 - their scope is what they answer for
    else:
        assigned = cadre.assigned_ids()
        narrow = lambda qs: mine(user, qs, assigned)  # noqa: E731
    overdue_qs = narrow(overdue(user, today=today))
    result["overdue"] = _people_rows(overdue_qs)
    for person in result["overdue"]:
        person.days_overdue = days_overdue(person, today)
    result["due_soon"] = _people_rows(narrow(due_soon(user, today=today)))
    campaign = running_campaigns(user, today=today).first()
    result["campaign"] = campaign
    if campaign is not None:
        result["campaign_unvisited"] = _people_rows(narrow(campaign_unvisited(user, campaign)))
    result["followups"] = list(open_followups_owned(user)[:HOME_LIST_SIZE])
    for item in result["followups"]:
        item.days_left = (item.deadline - today).days if item.deadline else None
    if role != GRID_WORKER and cadre is not None:
        soon = today + timedelta(days=DUE_SOON_DAYS)
        active = Q(beneficiaries__status=Beneficiary.Status.ACTIVE)
        result["by_cell"] = list(
            GridCell.objects.for_user(user)
            .filter(level=GridCell.Level.SMALL)
            .annotate(
                overdue=Count("beneficiaries", filter=active & Q(beneficiaries__next_visit_due__lt=today)),
                due=Count(
                    "beneficiaries",
                    filter=active & Q(beneficiaries__next_visit_due__gte=today, beneficiaries__next_visit_due__lte=soon),
                ),
            )
            .filter(Q(overdue__gt=0) | Q(due__gt=0))
            .select_related("village")
            .order_by("-overdue", "-due", "code")[:HOME_LIST_SIZE]
        )
        from towns.selectors import zone_overview

        loaded = [c for c in zone_overview(user, cadre.town, today=today)["cadres"] if c.zone_assignments]
        loaded.sort(key=lambda c: (-c.load["overdue"], -c.load["due"], c.name))
        result["by_cadre"] = loaded[:HOME_LIST_SIZE]
        result["cadres_total"] = len(loaded)
    return result


def scope_summary(user) -> dict:
    """The figures on the home page: what the user answers for, counted in their scope."""
    today = timezone.localdate()
    month_start = today.replace(day=1)
    # Plain counts: a COUNT(DISTINCT household) over a county's people costs ~180 ms.
    people = {
        "active": Beneficiary.objects.for_user(user).filter(status=Beneficiary.Status.ACTIVE).count(),
        "households": Household.objects.for_user(user).count(),
    }
    # A datetime bound (not visited_at__date) so the (town, visited_at) index serves.
    month_start_at = timezone.make_aware(datetime.combine(month_start, time.min))
    visits_this_month = Visit.objects.for_user(user).filter(visited_at__gte=month_start_at).count()
    open_followups = (
        FollowUp.objects.for_user(user).exclude(status__in=[FollowUp.Status.CLOSED, FollowUp.Status.REJECTED]).count()
    )
    return {
        "active_people": people["active"],
        "households": people["households"],
        "visits_this_month": visits_this_month,
        "open_followups": open_followups,
    }


def campaigns_for(user) -> list[Campaign]:
    """The campaigns a user may see, newest first (the pickers of budgets, target lists, dashboards)."""
    return list(Campaign.objects.for_user(user).order_by("-starts_on", "-id"))
