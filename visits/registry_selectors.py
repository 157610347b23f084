"""Reads of the registry's pages that show visit state: the list with its campaign filters, and the
person page's timeline."""

from core.paging import capped_total, keyset_page
from towns.models import Beneficiary
from visits.registry_filters import RegistryFilter

REGISTRY_PAGE_SIZE = 50
# Exact totals up to this many people, else "5,000 人以上": counting further cost 0.6 s with the
# campaign + 未走访 filter at county scale (JIT kicks in), 0.1 s up to here (measured, see README).
REGISTRY_TOTAL_CAP = 5_000


def registry_page(user, params):
    """The filtered registry, one keyset page of it, with what each row shows."""
    base = (
        Beneficiary.objects.for_user(user)
        .select_related("household__village", "cell", "responsible_cadre", "town")
        .prefetch_related("categories")
    )
    filterset = RegistryFilter(params or None, queryset=base, user=user)
    rows = filterset.qs  # an invalid filter gives no rows, not all of them
    page = keyset_page(rows, params, REGISTRY_PAGE_SIZE)
    page.total = capped_total(rows, REGISTRY_TOTAL_CAP)
    return filterset, page


def person_timeline(person) -> list[dict]:
    """Visits, grants, follow-ups and status changes of one person, newest first, as one list."""
    events = []
    for visit in person.visits.select_related("recorded_by").prefetch_related("visitors").order_by("-visited_at")[:200]:
        events.append({"kind": "visit", "at": visit.visited_at, "obj": visit})
    for grant in person.disbursements.select_related("goods_item", "handed_by").order_by("-handed_at")[:200]:
        events.append({"kind": "grant", "at": grant.handed_at, "obj": grant})
    for item in person.followups.select_related("owner").order_by("-created_at")[:200]:
        events.append({"kind": "followup", "at": item.created_at, "obj": item})
    events.sort(key=lambda e: e["at"], reverse=True)
    return events
