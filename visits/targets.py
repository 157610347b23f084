"""Who is a campaign's target: the one definition (issue 12 §1, §2).

A person is a target of a campaign when they are

* living and registered (在册: status active — not 已故, not 迁出),
* in one of the campaign's towns, and
* before their town's 慰问对象名单 is approved: in one of the campaign's target categories (the
  provisional list); once it is approved: on that approved list (the town party committee's
  decision, with its later additions and removals) — categories no longer decide.

``target_q`` says this as one Q on Beneficiary. Everything that asks "who is a target" goes through
it: the registry's 专项活动 filter (towns/filters.py), the home page's "not yet visited"
(visits/selectors.py), the dashboard rollups (reports/rollups.py compiles this queryset into its
INSERT…SELECT), the coverage export, the 对象不符 and 名单外发放 inspection rules and the grant
approval decision (funds). RULE_TEXT is the same rule in words, shown on the pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from core.scoping import unscoped
from towns.models import Beneficiary
from visits.models import Campaign, TargetList, TargetListEntry

RULE_TEXT = (
    "慰问对象＝在册（非已故、非迁出）、属于参加该专项活动的镇（街道），并且："
    "该镇慰问对象名单经镇党委审定后，以审定的名单（含审定后的增补和移出）为准；"
    "审定前，暂按专项活动的慰问对象类别确定（暂定名单）。"
)
PROVISIONAL_TEXT = "名单尚未经镇党委审定，慰问对象暂按专项活动的人群类别确定（暂定名单）。"


def approved_lists(campaign_id) -> QuerySet[TargetList]:
    return TargetList.objects.filter(campaign_id=campaign_id, status=TargetList.Status.APPROVED)


def listed_entries(campaign_id, *, person=None, town=None) -> QuerySet[TargetListEntry]:
    """Entries now on the campaign's approved list of the person's own town (by default the outer
    query's person and town)."""
    person = OuterRef("pk") if person is None else person
    town = OuterRef("town_id") if town is None else town
    return TargetListEntry.objects.filter(
        target_list__campaign_id=campaign_id,
        target_list__status=TargetList.Status.APPROVED,
        target_list__town_id=town,
        beneficiary_id=person,
        listed=True,
    )


def in_target_category(campaign_id, *, person=None) -> Exists:
    person = OuterRef("pk") if person is None else person
    categories = Campaign.target_categories.through.objects.filter(campaign_id=campaign_id).values("category_id")
    return Exists(Beneficiary.categories.through.objects.filter(beneficiary_id=person, category_id__in=categories))


def target_q(campaign_id) -> Q:
    """The rule, as a filter on Beneficiary (see the module's docstring)."""
    campaign_towns = Campaign.towns.through.objects.filter(campaign_id=campaign_id).values("town_id")
    town_approved = Q(town_id__in=approved_lists(campaign_id).values("town_id"))
    return (
        Q(status=Beneficiary.Status.ACTIVE)
        & Q(town_id__in=campaign_towns)
        & ((town_approved & Exists(listed_entries(campaign_id))) | (~town_approved & in_target_category(campaign_id)))
    )


def campaign_targets(campaign, user=None) -> QuerySet[Beneficiary]:
    """The campaign's targets, in the user's scope (no user: the whole county, for jobs and rollups
    inside ``unscoped()``)."""
    campaign_id = getattr(campaign, "pk", campaign)
    base = Beneficiary.objects.for_user(user) if user is not None else Beneficiary.objects.all()
    return base.filter(target_q(campaign_id))


def provisional_q(campaign_id, town_id) -> Q:
    """Who the categories alone would name in a town (what a proposed list is generated from)."""
    return Q(status=Beneficiary.Status.ACTIVE, town_id=town_id) & in_target_category(campaign_id)


def named_in_campaign(person: Beneficiary, category_ids=None) -> Q:
    """A filter on Campaign for the campaigns of the person's town that name them: by a target
    category, or on the town's approved list (an addition outside the categories). Which campaign a
    visit counts for; whether the person is a target there is still target_q's answer."""
    categories = category_ids if category_ids is not None else person.categories.all()
    on_list = Exists(listed_entries(OuterRef("pk"), person=person.pk, town=person.town_id))
    return Q(towns=person.town_id) & (Q(target_categories__in=categories) | on_list)


def off_approved_list(campaign, person: Beneficiary) -> bool:
    """True when the person's town has an approved list for the campaign and it does not name them
    now: a grant to them needs approval (funds.services) and is flagged (名单外发放). One query."""
    known = getattr(campaign, "off_list_for", None)  # read with the campaign (campaign_off_list_q)
    if known is not None and person.pk in known:
        return known[person.pk]
    campaign_id = getattr(campaign, "pk", campaign)
    named = TargetListEntry.objects.filter(target_list_id=OuterRef("pk"), beneficiary_id=person.pk, listed=True)
    with unscoped():
        return approved_lists(campaign_id).filter(town_id=person.town_id).filter(~Exists(named)).exists()


def campaign_off_list_q(person: Beneficiary):
    """An annotation for Campaign: off_approved_list(campaign, person), read with the campaign
    itself (the visit log picks its campaign anyway: the grants' check then costs no query)."""
    from django.db.models import BooleanField, ExpressionWrapper

    approved = TargetList.objects.filter(campaign_id=OuterRef("pk"), town_id=person.town_id, status=TargetList.Status.APPROVED)
    named = listed_entries(OuterRef("pk"), person=person.pk, town=person.town_id)
    return ExpressionWrapper(Q(Exists(approved)) & ~Q(Exists(named)), output_field=BooleanField())


def grant_off_list():
    """An annotation for Disbursement (and the 名单外发放 rule): the grant's campaign has an approved
    list in the grant's town and that list does not name the person now."""
    from django.db.models import BooleanField, ExpressionWrapper

    approved = TargetList.objects.filter(
        campaign_id=OuterRef("campaign_id"), town_id=OuterRef("town_id"), status=TargetList.Status.APPROVED
    )
    named = listed_entries(OuterRef("campaign_id"), person=OuterRef("beneficiary_id"), town=OuterRef("town_id"))
    return ExpressionWrapper(Q(Exists(approved)) & ~Q(Exists(named)), output_field=BooleanField())


# --- the lists' pages ---------------------------------------------------------------------------


@dataclass
class TownListRow:
    campaign: Campaign
    town: object
    target_list: TargetList | None
    listed: int = 0
    added: int = 0
    removed: int = 0

    @property
    def status_label(self) -> str:
        if self.target_list is None:
            return "未拟定"
        return self.target_list.get_status_display()


def lists_overview(user, campaign) -> list[TownListRow]:
    """Every town of the campaign in the user's scope, with its list's state and counts: county
    roles see every town's, a town's cadres their own. Three queries whatever the number of towns."""
    from towns.models import Town

    towns = list(Town.objects.for_user(user).filter(campaigns=campaign).order_by("code"))
    lists = {
        tl.town_id: tl
        for tl in TargetList.objects.for_user(user)
        .filter(campaign=campaign, town__in=towns)
        .select_related("proposed_by", "approved_by")
    }
    counts = {
        row["target_list_id"]: row
        for row in TargetListEntry.objects.for_user(user)
        .filter(target_list__in=list(lists.values()))
        .order_by()
        .values("target_list_id")
        .annotate(
            n_listed=Count("id", filter=Q(listed=True)),
            n_added=Count("id", filter=Q(source=TargetListEntry.Source.ADDED, listed=True)),
            n_removed=Count("id", filter=Q(listed=False)),
        )
    }
    rows = []
    for town in towns:
        tl = lists.get(town.pk)
        c = counts.get(tl.pk, {}) if tl else {}
        rows.append(TownListRow(campaign, town, tl, c.get("n_listed", 0), c.get("n_added", 0), c.get("n_removed", 0)))
    return rows


ENTRY_PAGE_SIZE = 100
PRINT_MAX_ROWS = 5000  # a printed 公示 beyond this: print it village by village


def people_to_add(user, target_list: TargetList, q: str, limit: int = 20) -> list[Beneficiary]:
    """在册 people of the list's town matching a search (name, pinyin initials, phone, whole ID
    number) who are not on the list now: the candidates for an addition."""
    from towns.filters import _search

    on_list = TargetListEntry.objects.filter(target_list=target_list, beneficiary_id=OuterRef("pk"), listed=True)
    qs = Beneficiary.objects.for_user(user).filter(town_id=target_list.town_id, status=Beneficiary.Status.ACTIVE)
    return list(
        _search(qs, "q", q)
        .filter(~Exists(on_list))
        .select_related("household__village")
        .prefetch_related("categories")
        .order_by("name_initials", "id")[:limit]
    )


def entries(user, target_list: TargetList, *, listed: bool | None = True, village=None) -> QuerySet[TargetListEntry]:
    qs = TargetListEntry.objects.for_user(user).filter(target_list=target_list)
    if listed is not None:
        qs = qs.filter(listed=listed)
    if village:
        qs = qs.filter(beneficiary__household__village_id=village)
    return qs.select_related("beneficiary__household__village", "cell", "added_by", "removed_by").order_by(
        "beneficiary__household__village__code", "cell__code", "beneficiary__household_id", "beneficiary_id"
    )


def changes(user, target_list: TargetList) -> list[TargetListEntry]:
    """The additions and removals (the proposal's and later ones), newest first."""
    return list(
        TargetListEntry.objects.for_user(user)
        .filter(target_list=target_list)
        .filter(Q(source=TargetListEntry.Source.ADDED) | Q(listed=False))
        .select_related("beneficiary__household__village", "added_by", "removed_by")
        .order_by("-id")
    )


def not_in_register(user, target_list: TargetList) -> int:
    """People on the list who are no longer 在册 (died or moved away since): not targets whatever
    the list says; the town admin should take them off with the reason."""
    return (
        TargetListEntry.objects.for_user(user)
        .filter(target_list=target_list, listed=True)
        .exclude(beneficiary__status=Beneficiary.Status.ACTIVE)
        .count()
    )


def town_list_states(user, campaign_id, town_ids) -> dict[int, str]:
    """{town id: TargetList.Status} for the towns that have a list (the dashboards' "暂定" note)."""
    return dict(
        TargetList.objects.for_user(user)
        .filter(campaign_id=campaign_id, town_id__in=list(town_ids))
        .values_list("town_id", "status")
    )
