"""Reads of the map and the registry, always through for_user()."""

from django.db.models import Count, Q
from django.utils import timezone

from towns.models import Beneficiary, Cadre
from visits.models import FollowUp, Visit


def scope_summary(user) -> dict:
    """The figures on the home page: what the user answers for, counted in their scope."""
    today = timezone.localdate()
    month_start = today.replace(day=1)
    people = Beneficiary.objects.for_user(user).aggregate(
        active=Count("pk", filter=Q(status=Beneficiary.Status.ACTIVE)),
        households=Count("household", filter=Q(status=Beneficiary.Status.ACTIVE), distinct=True),
    )
    visits_this_month = Visit.objects.for_user(user).filter(visited_at__date__gte=month_start).count()
    open_followups = FollowUp.objects.for_user(user).exclude(
        status__in=[FollowUp.Status.CLOSED, FollowUp.Status.REJECTED]
    ).count()
    return {
        "active_people": people["active"],
        "households": people["households"],
        "visits_this_month": visits_this_month,
        "open_followups": open_followups,
    }


def town_cadres(user):
    """Accounts a town admin manages (their own town only); all accounts for a system admin."""
    return Cadre.objects.for_user(user).select_related("user", "town").order_by("town__code", "role", "name")
