"""Reads of the map and the registry, always through for_user()."""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from core.permissions import ROLE_LABELS, TOWN_ROLES
from core.scoping import get_for_user_or_404
from towns.cadre_labels import with_place
from towns.models import Assignment, Beneficiary, Cadre, GridCell, Household
from towns.visit_due import DUE_SOON_DAYS


def town_cadres(user):
    """Accounts a town admin manages (their own town only); all accounts for a system admin."""
    return with_place(Cadre.objects.for_user(user).select_related("user", "town")).order_by("town__code", "role", "name")


# --- responsibility zones (issue 4 §6) -------------------------------------------------------


def _load_counts(prefix: str, today, soon) -> dict:
    """People, due within the week and overdue, counted once each, over the relation `prefix`
    (visits.selectors.due_soon / overdue say the same in words)."""
    active = Q(**{f"{prefix}__status": Beneficiary.Status.ACTIVE})
    due = Q(**{f"{prefix}__next_visit_due__gte": today, f"{prefix}__next_visit_due__lte": soon})
    late = Q(**{f"{prefix}__next_visit_due__lt": today})
    return {
        "people": Count(f"{prefix}__id", filter=active, distinct=True),
        "due": Count(f"{prefix}__id", filter=active & due, distinct=True),
        "overdue": Count(f"{prefix}__id", filter=active & late, distinct=True),
    }


def zone_overview(user, town, *, today=None) -> dict:
    """The 包保 picture of one town for its admin: every cadre with their current assignments and
    load, and the small cells nobody answers for. A fixed number of queries whatever the number
    of cadres: the loads are two grouped counts (through cells, through single households)."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=DUE_SOON_DAYS)
    cadres = list(
        with_place(Cadre.objects.for_user(user).filter(town=town, is_active=True, role__in=sorted(TOWN_ROLES)))
        .select_related("user")
        .order_by("role", "name", "id")
    )
    current = Assignment.objects.for_user(user).filter(town=town, ends_on__isnull=True)
    assignments = list(current.select_related("cell", "household").order_by("cell__code", "household_id", "id"))
    # People of a cell assigned to the cadre are counted through the cell; a single household in
    # a cell the same cadre already answers for must not count its people twice.
    covered = current.filter(cadre_id=OuterRef("cadre_id"), cell_id=OuterRef("household__cell_id"))
    by_cell = current.filter(cell__isnull=False).values("cadre_id").annotate(**_load_counts("cell__beneficiaries", today, soon))
    by_household = (
        current.filter(household__isnull=False)
        .exclude(Exists(covered))
        .values("cadre_id")
        .annotate(**_load_counts("household__members", today, soon))
    )
    load = defaultdict(lambda: {"people": 0, "due": 0, "overdue": 0})
    for row in [*by_cell, *by_household]:
        for key in ("people", "due", "overdue"):
            load[row["cadre_id"]][key] += row[key]
    by_cadre = defaultdict(list)
    for assignment in assignments:
        by_cadre[assignment.cadre_id].append(assignment)
    for cadre in cadres:
        cadre.zone_assignments = by_cadre.get(cadre.pk, [])
        cadre.load = load[cadre.pk]
        cadre.role_label = ROLE_LABELS.get(cadre.role, cadre.role)
    # Who else answers for each cell: the page warns where several cadres share one.
    cadres_by_cell = defaultdict(set)
    for assignment in assignments:
        if assignment.cell_id:
            cadres_by_cell[assignment.cell_id].add(assignment.cadre_id)
    unassigned = (
        GridCell.objects.for_user(user)
        .filter(town=town, level=GridCell.Level.SMALL)
        .exclude(Exists(current.filter(cell_id=OuterRef("pk"))))
        .select_related("village")
        .annotate(people=Count("beneficiaries", filter=Q(beneficiaries__status=Beneficiary.Status.ACTIVE)))
        .order_by("code")
    )
    return {
        "cadres": cadres,
        "unassigned_cells": list(unassigned),
        "shared_cells": {cell for cell, ids in cadres_by_cell.items() if len(ids) > 1},
        "today": today,
        "soon": soon,
    }


def cell_co_holders(user, assignment) -> str:
    """Names of the other cadres currently answering for the assignment's cell ("" for a household)."""
    if assignment.cell_id is None:
        return ""
    others = (
        Assignment.objects.for_user(user)
        .filter(cell_id=assignment.cell_id, ends_on__isnull=True)
        .exclude(cadre_id=assignment.cadre_id)
        .select_related("cadre")
    )
    return "、".join(a.cadre.name for a in others)


def zone_households(user, town, q: str, *, limit: int = 20):
    """Households of a town found by head name, a member's name or the address (assign form)."""
    q = (q or "").strip()
    if not q:
        return []
    match = Q(head_name__icontains=q) | Q(address__icontains=q)
    members = Beneficiary.objects.for_user(user).filter(name__icontains=q).values("household_id")
    return list(
        Household.objects.for_user(user)
        .filter(town=town)
        .filter(match | Q(pk__in=members))
        .select_related("village", "cell")
        .order_by("village__code", "address", "id")[:limit]
    )


# --- the registry ----------------------------------------------------------------------------


def person(user, pk):
    """One person of the registry, or 404 outside the user's scope."""
    return get_for_user_or_404(
        Beneficiary.objects.select_related(
            "household__village", "household__cell__parent", "town", "responsible_cadre", "party_branch"
        ),
        user,
        pk=pk,
    )
