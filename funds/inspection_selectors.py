"""Reads for the inspectors' workspace: flags, a flag's grants and findings, the grant roster, declarations."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Prefetch, Q

from core.permissions import TOWN_ROLES
from core.scoping import scope_of
from funds.filters import InspectionFlagFilter, RosterFilter
from funds.inspection import BULK_ENTRY_HELP, RULE_HELP, SAME_IMAGE_HELP, THRESHOLD_LABELS, threshold_text
from funds.models import Disbursement, Finding, InspectionFlag, handed_out_q
from towns.cadre_labels import with_place
from towns.models import Cadre
from visits.models import Campaign

FLAG_PAGE = 50


def flags_page(user, params, *, before: int | None = None) -> dict:
    """One page of flags (newest first, keyset by id) with counts per rule for the same filters but any rule."""
    filterset = InspectionFlagFilter(params or None, queryset=InspectionFlag.objects.for_user(user), request=_Req(user))
    # An unbound FilterSet (no parameters) is "all flags", not an invalid form.
    valid = not filterset.is_bound or filterset.is_valid()
    qs = filterset.qs if valid else InspectionFlag.objects.none()
    # Counts per rule ignore the rule filter, so the row of badges doubles as the rule picker.
    count_params = params.copy()
    count_params.pop("rule", None)
    count_set = InspectionFlagFilter(count_params or None, queryset=InspectionFlag.objects.for_user(user), request=_Req(user))
    by_rule = dict(count_set.qs.order_by().values_list("rule").annotate(n=Count("id"))) if valid else {}
    rows = qs.select_related("town", "campaign", "beneficiary").order_by("-id")
    if before:
        rows = rows.filter(id__lt=before)
    latest = Prefetch(
        "findings", queryset=Finding.objects.order_by("-created_at", "-id").only("id", "flag_id", "verdict", "created_at")
    )
    grants = Prefetch("disbursements", queryset=Disbursement.objects.only("id").order_by("id"))
    page = list(rows.prefetch_related(latest, grants)[: FLAG_PAGE + 1])
    has_next = len(page) > FLAG_PAGE
    page = page[:FLAG_PAGE]
    for flag in page:
        findings = list(flag.findings.all())
        flag.latest_finding = findings[0] if findings else None
        flag.grant_ids = [d.pk for d in flag.disbursements.all()]
    rules = [(value, label, by_rule.get(value, 0)) for value, label in InspectionFlag.Rule.choices]
    return {
        "filter": filterset,
        "flags": page,
        "has_next": has_next,
        "next_before": page[-1].pk if has_next else None,
        "rules": rules,
        "total": sum(by_rule.values()),
    }


class _Req:
    """FilterSets take a request for their choices' scope; selectors only have the user."""

    def __init__(self, user):
        self.user = user


def flag_detail(flag: InspectionFlag) -> dict:
    grants = list(
        flag.disbursements.select_related(
            "town", "beneficiary", "goods_item", "handed_by", "recorded_by", "approved_by", "receipt"
        ).order_by("handed_at", "id")
    )
    findings = list(flag.findings.select_related("inspector").order_by("-created_at", "-id"))
    details = flag.details or {}
    thresholds = [(THRESHOLD_LABELS.get(k, "阈值"), v) for k, v in (details.get("thresholds") or {}).items()]
    return {
        "flag": flag,
        "help": {"集中录入": BULK_ENTRY_HELP, "签领雷同": SAME_IMAGE_HELP}.get(flag.title) or RULE_HELP.get(flag.rule, ""),
        "thresholds": thresholds,
        "threshold_text": threshold_text(details.get("thresholds")),
        "values": list((details.get("values") or {}).items()),
        "grants": grants,
        "findings": findings,
        "latest": findings[0] if findings else None,
    }


@dataclass
class Roster:
    filter: RosterFilter
    rows: list = field(default_factory=list)
    too_many: bool = False
    needs_town: bool = False
    voided: int = 0
    pending: int = 0
    people: int = 0
    money_total: Decimal = Decimal(0)
    goods_total: Decimal = Decimal(0)
    goods_count: int = 0
    limit: int = 0
    campaign: Campaign | None = None


def roster(user, params) -> Roster:
    """The printed 发放花名册: handed-out grants of one campaign in the user's scope, by town, village, cell and date.

    Voided grants are left out (counted in a note), as are grants still waiting for approval. No pages: it is
    printed whole, so it stops at INSPECTION_ROSTER_MAX_ROWS and asks for a narrower filter instead.
    """
    data = params.copy()
    if not data.get("campaign"):
        first = Campaign.objects.for_user(user).order_by("-starts_on").values_list("pk", flat=True).first()
        if first is not None:
            data["campaign"] = str(first)
    base = Disbursement.objects.for_user(user)
    filterset = RosterFilter(data, queryset=base, request=_Req(user))
    limit = settings.INSPECTION_ROSTER_MAX_ROWS
    result = Roster(filter=filterset, limit=limit)
    if not filterset.is_valid():
        return result
    result.campaign = filterset.form.cleaned_data.get("campaign")
    if scope_of(user).everything and not filterset.form.cleaned_data.get("town"):
        # A county-wide roster is tens of thousands of rows: it is printed town by town.
        result.needs_town = True
        return result
    chosen = filterset.qs
    counts = chosen.order_by().aggregate(
        voided=Count("id", filter=Q(status=Disbursement.Status.VOIDED)),
        # Issued but not handed out: waiting for approval, or refused (both left out of the roster).
        pending=Count("id", filter=Q(status=Disbursement.Status.ISSUED) & ~handed_out_q()),
    )
    result.voided, result.pending = counts["voided"], counts["pending"]
    handed = (
        chosen.handed_out()
        .select_related("town", "cell", "cell__village", "beneficiary", "goods_item", "handed_by")
        .prefetch_related("beneficiary__categories")
        .order_by("town__code", "cell__village__code", "cell__code", "handed_at", "id")
    )
    rows = list(handed[: limit + 1])
    if len(rows) > limit:
        result.too_many = True
        return result
    result.rows = rows
    result.people = len({g.beneficiary_id for g in rows})
    for g in rows:
        if g.kind == Disbursement.Kind.GOODS:
            result.goods_total += (g.goods_item.unit_value or 0) * (g.quantity or 0)
            result.goods_count += g.quantity or 0
        else:
            result.money_total += g.amount or 0
    return result


def declarations_of_town(user) -> dict:
    """Every active cadre of the admin's town with their declaration (or none): one query."""
    cadres = list(
        with_place(Cadre.objects.for_user(user))
        .filter(role__in=sorted(TOWN_ROLES), is_active=True)
        .select_related("conflict_declaration")
        .annotate(relatives_count=Count("conflict_declaration__relatives"))
        .order_by("name", "id")
    )
    missing = [c for c in cadres if not _declared(c)]
    return {"cadres": cadres, "missing": len(missing), "declared": len(cadres) - len(missing)}


def _declared(cadre) -> bool:
    try:
        return cadre.conflict_declaration is not None
    except Cadre.conflict_declaration.RelatedObjectDoesNotExist:
        return False
