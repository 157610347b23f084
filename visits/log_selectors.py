"""Reads for the visit log screens (issue 4 §3): the person search, the person's header, a visit.

Kept apart from visits/selectors.py only while several people edit that file; same rules: every
queryset starts from for_user().
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from core import idnumbers
from core.scoping import get_for_user_or_404
from funds.models import GoodsItem
from towns import idchecks
from towns.models import Beneficiary
from visits.models import Campaign, GrantStandard, Visit
from visits.selectors import days_overdue

SEARCH_LIMIT = 20


def person_search(user, q: str) -> QuerySet[Beneficiary]:
    """Active people in the user's scope by name, pinyin initials, phone or exact ID number.

    Without a query: the people most due a visit, so the list is useful before anything is typed.
    """
    people = Beneficiary.objects.for_user(user).filter(status=Beneficiary.Status.ACTIVE).select_related("household")
    q = (q or "").strip()
    if q:
        match = Q(name__contains=q)
        if q.isascii() and q.isalpha():
            match |= Q(name_initials__startswith=q.lower())
        if q.isdigit() and len(q) >= 4:
            match |= Q(phone__contains=q)
        parsed = idnumbers.parse_or_none(q) if len(q) in (15, 18) else None
        if parsed:
            # As the user may know the number (towns/idchecks.py): never by digest for a user
            # who may not reveal ID numbers, so trying candidate numbers tells nothing.
            match |= idchecks.match_q(user, parsed)
        people = people.filter(match)
    return people.order_by(F("next_visit_due").asc(nulls_last=True), "id")[:SEARCH_LIMIT]


@dataclass
class PersonHeader:
    person: Beneficiary
    categories: list
    days_overdue: int


def person_for_log(user, pk) -> PersonHeader:
    """The person a visit is being logged for; another town's (or cell's) person is a 404."""
    person = get_for_user_or_404(
        # The town too: the grants' approval threshold is read from it (funds.services._approval_needed).
        Beneficiary.objects.select_related("household", "town").prefetch_related("categories"),
        user,
        pk=pk,
    )
    return PersonHeader(person=person, categories=list(person.categories.all()), days_overdue=days_overdue(person))


@dataclass
class CampaignHint:
    campaign: Campaign
    standards: list  # GrantStandard of the person's categories


def campaign_hint(user, person: Beneficiary, categories: list, on: date | None = None) -> CampaignHint | None:
    """The campaign a visit today would count for, with the grant standard of the person's categories."""
    from visits.targets import named_in_campaign

    on = on or timezone.localdate()
    category_ids = [c.pk for c in categories]
    campaign = (
        Campaign.objects.for_user(user)
        .filter(named_in_campaign(person, category_ids), starts_on__lte=on, ends_on__gte=on)
        .prefetch_related(
            Prefetch(
                "standards",
                queryset=GrantStandard.objects.filter(category_id__in=category_ids).select_related("category"),
                to_attr="person_standards",
            )
        )
        .order_by("-starts_on")
        .distinct()
        .first()
    )
    if campaign is None:
        return None
    return CampaignHint(campaign=campaign, standards=campaign.person_standards)


def goods_items() -> list[GoodsItem]:
    return list(GoodsItem.objects.order_by("name"))


def visit_by_key(user, key) -> Visit | None:
    """The visit a form (by its idempotency key) already logged, if the user may see it."""
    if key is None:
        return None
    return Visit.objects.for_user(user).filter(idempotency_key=key).only("pk", "visited_at", "created_at").first()


def recent_same_visit(user, person, *, key=None, within=timedelta(hours=1)) -> Visit | None:
    """A visit of this person that this user logged within the last hour under another form: the
    form asks before saving what looks like the same visit again (a cadre who re-entered a visit
    after an error page, not knowing it had been saved)."""
    from towns.cadres import cadre_of

    cadre = cadre_of(user)
    if cadre is None:
        return None
    recent = Visit.objects.for_user(user).filter(
        beneficiary_id=person.pk, recorded_by_id=cadre.pk, created_at__gte=timezone.now() - within
    )
    if key is not None:
        recent = recent.exclude(idempotency_key=key)
    return recent.only("pk", "visited_at", "created_at").order_by("-created_at").first()


def visit_for_page(user, pk) -> Visit:
    """One visit with what was handed over and raised; 404 outside the user's scope."""
    return get_for_user_or_404(
        Visit.objects.select_related("beneficiary", "household", "recorded_by", "campaign").prefetch_related(
            "visitors",
            Prefetch("disbursements", queryset=_grants(), to_attr="grants"),
            "followups",
        ),
        user,
        pk=pk,
    )


def _grants():
    from funds.models import Disbursement

    return Disbursement.objects.select_related("goods_item").order_by("id")
