"""Reads for the grant pages (issue 5 §2, §5): the grant list, one grant's page, the approval queue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import django_filters
from django.conf import settings

from core import audit_labels
from core.filtering import LocalDateFromFilter, LocalDateToFilter, set_area_choices
from core.models import AuditRecord
from core.paging import KeysetPage, capped_total, newest_first_page
from core.scoping import get_for_user_or_404
from funds.models import Budget, Disbursement
from towns.cadres import cadre_of

GRANT_PAGE_SIZE = 50
LEDGER_TOTAL_CAP = 10_000  # as the 走访台账 (visits/ledger_selectors.py)

# The 已发放 filter is Disbursement.objects.handed_out() (funds/models.py says what it counts
# and why): a pending (待审批) grant has its own filter and badge, as on every page and in every file.
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
            return queryset.handed_out()
        if value == UNSIGNED:  # a receipt is collected for what was handed out, not for a request pending
            return queryset.handed_out().filter(receipt__isnull=True)
        if value == "pending":
            return queryset.pending_approval()
        if value == "rejected":
            return queryset.filter(status=Disbursement.Status.ISSUED, approval_status=value)
        if value == "voided":
            return queryset.filter(status=Disbursement.Status.VOIDED)
        return queryset


def grant_page(user, params) -> tuple[GrantFilter, KeysetPage]:
    """The filtered grants in the user's scope, newest handed out first, one keyset page of them:
    page 500 costs what page 1 costs, and nothing counts the whole table."""
    base = Disbursement.objects.for_user(user).select_related(
        "beneficiary", "goods_item", "handed_by", "campaign", "town", "cell__village"
    )
    filterset = GrantFilter(params or None, queryset=base, user=user)
    page = newest_first_page(filterset.qs, params, GRANT_PAGE_SIZE, "handed_at")
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
        if row.campaign_id and row.counts_as_handed_out:
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
    return audit_labels.decorate(records, user=user, changed_only=True)


@dataclass
class ApprovalLimits:
    threshold: Decimal  # what this town's grants are judged by
    own: bool  # the town set its own value (else the county default applies)
    county_default: Decimal
    ceiling: Decimal
    minor_age: int


def approval_limits(user) -> ApprovalLimits | None:
    """The rules the approval page states: the town's threshold (its own or the county default),
    the county's hard ceiling and the age below which cash needs a guardian. No query: the user's
    cadre is read with its town once per request."""
    from funds.services import approval_threshold

    cadre = cadre_of(user)
    if cadre is None or cadre.town_id is None:
        return None
    threshold, own = approval_threshold(cadre.town_id, cadre.town)
    return ApprovalLimits(
        threshold, own, settings.GRANT_APPROVAL_THRESHOLD_DEFAULT, settings.GRANT_CEILING, settings.GRANT_MINOR_AGE
    )


def approval_queue(user, limit: int = 200) -> list[Disbursement]:
    return list(
        Disbursement.objects.for_user(user)
        .pending_approval()
        .select_related("beneficiary", "goods_item", "handed_by", "recorded_by", "campaign", "cell__village")
        .order_by("handed_at", "id")[:limit]
    )
