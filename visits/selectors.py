"""Reads for the field work: who is due a visit, who the campaign has not reached, open items."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from towns.models import Beneficiary, Cadre
from visits.models import Activity, Campaign, FollowUp, Visit

DUE_SOON_DAYS = 7
OPEN_FOLLOWUP_STATUSES = [FollowUp.Status.PENDING, FollowUp.Status.IN_PROGRESS, FollowUp.Status.RESOLVED, FollowUp.Status.REVISITED]


def _active(user) -> QuerySet[Beneficiary]:
    return Beneficiary.objects.for_user(user).filter(status=Beneficiary.Status.ACTIVE)


def mine(user, qs: QuerySet) -> QuerySet:
    """Narrow a town's people to what this cadre answers for: assigned cells and households,
    and people they are the responsible cadre of. Grid workers are narrowed already by scope."""
    cadre = Cadre._base_manager.filter(user_id=user.pk).first()
    if cadre is None:
        return qs.none()
    cells, households = cadre.assigned_ids()
    return qs.filter(Q(cell_id__in=cells) | Q(household_id__in=households) | Q(responsible_cadre_id=cadre.pk))


def overdue(user, *, today: date | None = None) -> QuerySet[Beneficiary]:
    today = today or timezone.localdate()
    return _active(user).filter(next_visit_due__lt=today).order_by("next_visit_due", "id")


def due_soon(user, *, today: date | None = None, within_days: int = DUE_SOON_DAYS) -> QuerySet[Beneficiary]:
    today = today or timezone.localdate()
    return _active(user).filter(next_visit_due__gte=today, next_visit_due__lte=today + timedelta(days=within_days)).order_by(
        "next_visit_due", "id"
    )


def running_campaigns(user, *, today: date | None = None) -> QuerySet[Campaign]:
    today = today or timezone.localdate()
    return Campaign.objects.for_user(user).filter(starts_on__lte=today, ends_on__gte=today).order_by("-starts_on")


def campaign_unvisited(user, campaign: Campaign) -> QuerySet[Beneficiary]:
    """Targets of a campaign in the user's scope with no visit logged under it yet (不漏一户，不落一人)."""
    visited = Visit.objects.filter(campaign_id=campaign.pk, beneficiary_id=OuterRef("pk"))
    return (
        _active(user)
        .filter(town__in=campaign.towns.all(), categories__in=campaign.target_categories.all())
        .filter(~Exists(visited))
        .distinct()
        .order_by("cell_id", "household_id", "id")
    )


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
