"""Reads for the grant pages (issue 5 §2, §5): the grant list, one grant's page, the approval queue."""

from __future__ import annotations

from dataclasses import dataclass

import django_filters
from django.db.models import Q

from funds import audit
from funds.models import AuditRecord, Budget, Disbursement
from towns.filtering import LocalDateFromFilter, LocalDateToFilter, set_area_choices
from towns.paging import KeysetPage, capped_total, keyset_page
from towns.permissions import ROLE_LABELS
from towns.scoping import get_for_user_or_404
from visits.targets import grant_off_list

GRANT_PAGE_SIZE = 50
LEDGER_TOTAL_CAP = 10_000  # as the 走访台账 (visits/ledger_selectors.py)

# What counts as handed out: issued, and not refused by the town admin. A voided grant was never
# paid; a rejected one (未通过) stays on record but must not be counted in totals, budgets or
# rosters. A pending one (待审批) is counted: the money was handed over in the field and the
# approval judges it afterwards, so leaving it out would hide spending until an admin acts.
HANDED_OUT = Q(status=Disbursement.Status.ISSUED) & ~Q(approval_status=Disbursement.ApprovalStatus.REJECTED)

UNSIGNED = "unsigned"
STATE_CHOICES = [
    ("issued", "已发放"),
    (UNSIGNED, "待签领"),
    ("pending", "待审批"),
    ("rejected", "审批未通过"),
    ("voided", "已作废"),
]


class GrantFilter(django_filters.FilterSet):
    """发放记录: by town, village, campaign, kind, state, source and local date of handing."""

    town = django_filters.ChoiceFilter(label="镇（街道）", field_name="town_id")
    village = django_filters.ChoiceFilter(label="村（社区）", field_name="cell__village_id")
    campaign = django_filters.ChoiceFilter(label="专项活动", field_name="campaign_id")
    kind = django_filters.ChoiceFilter(label="发放方式", choices=Disbursement.Kind.choices)
    state = django_filters.ChoiceFilter(label="状态", choices=STATE_CHOICES, method="filter_state")
    source = django_filters.ChoiceFilter(label="经费来源", choices=Budget.Source.choices)
    date_from = LocalDateFromFilter(label="发放起始日期", field_name="handed_at")
    date_to = LocalDateToFilter(label="发放截止日期", field_name="handed_at")

    class Meta:
        model = Disbursement
        fields: list[str] = []

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        set_area_choices(self, user)
        filters = self.filters
        for name in ("town", "village", "campaign", "kind", "state", "source"):
            if name in filters:
                filters[name].extra["empty_label"] = "全部"

    def filter_state(self, queryset, name, value):
        if value == "issued":
            return queryset.filter(HANDED_OUT)
        if value == UNSIGNED:
            return queryset.filter(status=Disbursement.Status.ISSUED, receipt__isnull=True)
        if value in ("pending", "rejected"):
            return queryset.filter(status=Disbursement.Status.ISSUED, approval_status=value)
        if value == "voided":
            return queryset.filter(status=Disbursement.Status.VOIDED)
        return queryset


def grant_page(user, params) -> tuple[GrantFilter, KeysetPage]:
    """The filtered grants in the user's scope, one keyset page (by id) of them: page 500 costs
    what page 1 costs, and nothing counts the whole table."""
    base = Disbursement.objects.for_user(user).select_related(
        "beneficiary", "goods_item", "handed_by", "campaign", "town", "cell__village"
    )
    filterset = GrantFilter(params or None, queryset=base, user=user)
    page = keyset_page(filterset.qs, params, GRANT_PAGE_SIZE)
    page.total = capped_total(filterset.qs, LEDGER_TOTAL_CAP)  # never a COUNT over every grant of the county
    return filterset, page


def grant_for_page(user, pk) -> Disbursement:
    return get_for_user_or_404(
        Disbursement.objects.select_related(
            "beneficiary__household__village",
            "town",
            "cell",
            "campaign",
            "goods_item",
            "handed_by",
            "recorded_by",
            "approved_by",
            "voided_by",
            "receipt__uploaded_by",
            "visit",
            "replaces",
        ),
        user,
        pk=pk,
    )


@dataclass
class PersonGrants:
    same_campaign: list
    others: list
    duplicates: set  # ids of grants that look paid twice in one campaign


def _content_key(grant) -> str:
    # Cash and transfer are both money; goods count per item (rice twice is a duplicate, rice and oil not).
    return "money" if grant.kind != Disbursement.Kind.GOODS else f"goods-{grant.goods_item_id}"


def person_grants(user, grant: Disbursement, limit: int = 200) -> PersonGrants:
    """The person's other grants, split into this campaign's and the rest; duplicates marked."""
    rows = list(
        Disbursement.objects.for_user(user)
        .filter(beneficiary_id=grant.beneficiary_id)
        .select_related("goods_item", "campaign", "handed_by")
        .order_by("-handed_at", "-id")[:limit]
    )
    counted: dict[tuple, list[int]] = {}
    for row in rows:
        if row.campaign_id and row.status == Disbursement.Status.ISSUED and row.approval_status != "rejected":
            counted.setdefault((row.campaign_id, _content_key(row)), []).append(row.pk)
    duplicates = {pk for pks in counted.values() if len(pks) > 1 for pk in pks}
    same = [r for r in rows if r.pk != grant.pk and grant.campaign_id and r.campaign_id == grant.campaign_id]
    others = [r for r in rows if r.pk != grant.pk and r not in same]
    return PersonGrants(same, others, duplicates)


def grant_history(user, grant: Disbursement) -> list[AuditRecord]:
    """Every audit record of this grant the user may see, oldest first, with before/after rows:
    service writes and the database's own records of writes that bypassed the services."""
    records = list(
        AuditRecord.objects.for_user(user)
        .filter(object_type="funds.disbursement", object_id=str(grant.pk))
        .defer("payload", "prev_hash")
        .order_by("id")
    )
    for record in records:
        record.action_label = audit.action_label(record.action)
        record.role_label = ROLE_LABELS.get(record.actor_role, record.actor_role)
        record.diff = audit.diff_rows(record, changed_only=True)
    return records


def approval_queue(user, limit: int = 200) -> list[Disbursement]:
    return list(
        Disbursement.objects.for_user(user)
        .filter(status=Disbursement.Status.ISSUED, approval_status=Disbursement.ApprovalStatus.PENDING)
        .annotate(off_list=grant_off_list())  # 名单外: why it waits, beside the threshold
        .select_related("beneficiary", "goods_item", "handed_by", "recorded_by", "campaign", "cell__village")
        .order_by("handed_at", "id")[:limit]
    )
