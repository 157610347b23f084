"""Rules on how much was handed out: twice to one person, above the standard, over the budget."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from funds.inspection.base import (
    MONEY,
    SOURCE_LABELS,
    VALUE,
    Candidate,
    Context,
    Rule,
    chunks,
    clip,
    day_text,
    grant_line,
    grant_rows,
    person_text,
    yuan,
)
from funds.models import Budget
from towns.models import Category
from visits.models import GrantStandard


def rule_duplicate(ctx: Context) -> list[Candidate]:
    """1. 重复发放: the same ID number paid money twice in one campaign, or granted under two registrations (towns)."""
    base = ctx.handed().filter(campaign__isnull=False)
    # The ID numbers (HMAC digests) concerned, by aggregation; then their grants in one read.
    repeated = (
        base.values("campaign_id", "beneficiary__id_number_digest")
        .annotate(money=Count("id", filter=Q(kind__in=MONEY)), registrations=Count("beneficiary_id", distinct=True))
        .filter(Q(money__gt=1) | Q(registrations__gt=1))
        .values("beneficiary__id_number_digest")
    )
    rows = grant_rows(base.filter(beneficiary__id_number_digest__in=repeated))
    groups: dict = defaultdict(list)
    for row in rows:
        groups[(row["campaign_id"], row["beneficiary__id_number_digest"])].append(row)
    out = []
    for (campaign_id, digest), grants in groups.items():
        money = [g for g in grants if g["kind"] in MONEY]
        registrations = {g["beneficiary_id"] for g in grants}
        if len(money) < 2 and len(registrations) < 2:
            continue
        latest = grants[-1]
        towns = sorted({g["town__name"] for g in grants})
        across = len(registrations) > 1
        why = f"在{len(towns)}个镇（街道）的登记下都领取了" if across else f"领取慰问金{len(money)}次"
        total = sum((g["value"] or 0 for g in grants), Decimal(0))
        out.append(
            Candidate(
                rule=Rule.DUPLICATE,
                key=f"{campaign_id}-{digest}",
                town_id=latest["town_id"],
                campaign_id=campaign_id,
                beneficiary_id=latest["beneficiary_id"],
                disbursement_ids=[g["id"] for g in grants],
                summary=clip(
                    f"{person_text(latest)}在“{latest['campaign__name']}”中{why}："
                    + "；".join(grant_line(g, with_town=across) for g in grants)
                    + f"，合计{yuan(total)}"
                ),
                details={
                    "thresholds": {},
                    "values": {
                        "发放笔数": len(grants),
                        "慰问金笔数": len(money),
                        "涉及镇（街道）": "、".join(towns),
                        "登记数": len(registrations),
                        "合计金额": str(total),
                    },
                },
            )
        )
    return out


def rule_above_standard(ctx: Context) -> list[Candidate]:
    """2. 超标准: a person's cash + transfer + goods value in a campaign above the highest standard of their
    categories in that campaign; outside campaigns, in a calendar year above their categories' 日常慰问标准."""
    return _above_campaign_standard(ctx) + _above_yearly_standard(ctx)


def _above_yearly_standard(ctx: Context) -> list[Candidate]:
    """Grants outside any campaign, summed per person and local calendar year, against the highest
    Category.standard (元/年) of the person's categories. A person none of whose categories has a
    standard is not judged; a run for one campaign reads no grants outside campaigns."""
    if ctx.campaign_id:
        return []
    standard = (
        Category.objects.filter(beneficiaries=OuterRef("beneficiary_id"), standard__isnull=False)
        .order_by("-standard")
        .values("standard")[:1]
    )
    base = ctx.handed().filter(campaign__isnull=True)
    totals = list(
        base.annotate(year=ExtractYear("handed_at"))
        .values("beneficiary_id", "year")
        .annotate(total=Sum(VALUE), standard=Subquery(standard))
        .filter(standard__isnull=False, total__gt=F("standard"))
        .values_list("beneficiary_id", "year", "total", "standard")
    )
    if not totals:
        return []
    wanted = {(person, year): (total, std) for person, year, total, std in totals}
    rows = []
    for chunk in chunks(sorted({person for person, _ in wanted})):
        rows += grant_rows(base.filter(beneficiary_id__in=chunk))
    groups: dict = defaultdict(list)
    for row in rows:
        key = (row["beneficiary_id"], timezone.localtime(row["handed_at"]).year)
        if key in wanted:
            groups[key].append(row)
    out = []
    for (person_id, year), grants in groups.items():
        total, std = wanted[(person_id, year)]
        over = Decimal(total) - Decimal(std)
        out.append(
            Candidate(
                rule=Rule.ABOVE_STANDARD,
                key=f"year-{year}-{person_id}",
                town_id=grants[-1]["town_id"],
                beneficiary_id=person_id,
                disbursement_ids=[g["id"] for g in grants],
                summary=clip(
                    f"{person_text(grants[0])}{year}年在专项活动以外共领取{yuan(total)}，超过其类别日常慰问标准"
                    f"每年{yuan(std)}（多{yuan(over)}）：" + "；".join(grant_line(g) for g in grants)
                ),
                details={
                    "thresholds": {},
                    "values": {
                        "年度": year,
                        "领取合计（元）": str(total),
                        "日常慰问标准（元/年）": str(std),
                        "超出（元）": str(over),
                    },
                },
            )
        )
    return out


def _above_campaign_standard(ctx: Context) -> list[Candidate]:
    standard = (
        GrantStandard.objects.filter(campaign_id=OuterRef("campaign_id"), category__beneficiaries=OuterRef("beneficiary_id"))
        .order_by("-amount")
        .values("amount")[:1]
    )
    totals = list(
        ctx.handed()
        .filter(campaign__isnull=False)
        .values("campaign_id", "beneficiary_id")
        .annotate(total=Sum(VALUE), standard=Subquery(standard))
        .filter(standard__isnull=False, total__gt=F("standard"))
        .values_list("campaign_id", "beneficiary_id", "total", "standard")
    )
    if not totals:
        return []
    wanted = {(c, b): (total, std) for c, b, total, std in totals}
    rows = []
    for chunk in chunks(sorted({b for _, b in wanted})):
        rows += grant_rows(ctx.handed().filter(campaign__isnull=False, beneficiary_id__in=chunk))
    groups: dict = defaultdict(list)
    for row in rows:
        if (row["campaign_id"], row["beneficiary_id"]) in wanted:
            groups[(row["campaign_id"], row["beneficiary_id"])].append(row)
    out = []
    for (campaign_id, person_id), grants in groups.items():
        total, std = wanted[(campaign_id, person_id)]
        first = grants[0]
        out.append(
            Candidate(
                rule=Rule.ABOVE_STANDARD,
                key=f"{campaign_id}-{person_id}",
                town_id=grants[-1]["town_id"],
                campaign_id=campaign_id,
                beneficiary_id=person_id,
                disbursement_ids=[g["id"] for g in grants],
                summary=clip(
                    f"{person_text(first)}在“{first['campaign__name']}”中共领取{yuan(total)}，超过其类别最高慰问标准"
                    f"{yuan(std)}（多{yuan(Decimal(total) - Decimal(std))}）：" + "；".join(grant_line(g) for g in grants)
                ),
                details={
                    "thresholds": {},
                    "values": {
                        "领取合计（元）": str(total),
                        "慰问标准（元）": str(std),
                        "超出（元）": str(Decimal(total) - Decimal(std)),
                    },
                },
            )
        )
    return out


def rule_over_budget(ctx: Context) -> list[Candidate]:
    """7. 超预算: a town's campaign grants from one source above its budget for that source (no budget counts as 0)."""
    spent = list(
        ctx.handed()
        .filter(campaign__isnull=False)
        .values("campaign_id", "town_id", "source")
        .annotate(spent=Sum(VALUE), n=Count("id"))
        .values_list("campaign_id", "town_id", "source", "spent", "n")
    )
    budgets_qs = Budget.objects.all()
    if ctx.campaign_id:
        budgets_qs = budgets_qs.filter(campaign_id=ctx.campaign_id)
    budgets = {(c, t, s): a for c, t, s, a in budgets_qs.values_list("campaign_id", "town_id", "source", "amount")}
    over = {
        (c, t, s): (Decimal(total or 0), budgets.get((c, t, s)), n)
        for c, t, s, total, n in spent
        if Decimal(total or 0) > (budgets.get((c, t, s)) or Decimal(0))
    }
    if not over:
        return []
    which = Q()
    for c, t, s in over:
        which |= Q(campaign_id=c, town_id=t, source=s)
    groups: dict = defaultdict(list)
    for row in grant_rows(ctx.handed().filter(which)):
        groups[(row["campaign_id"], row["town_id"], row["source"])].append(row)
    out = []
    for (c, t, s), grants in groups.items():
        total, budget, n = over[(c, t, s)]
        limit = budget or Decimal(0)
        # The grants handed out after the money ran out (in handing order) are the ones named.
        running, beyond = Decimal(0), []
        for g in grants:
            running += Decimal(g["value"] or 0)
            if running > limit:
                beyond.append(g)
        first = grants[0]
        budget_text = f"预算{yuan(budget)}" if budget is not None else "未列预算"
        out.append(
            Candidate(
                rule=Rule.OVER_BUDGET,
                key=f"{c}-{t}-{s}",
                town_id=t,
                campaign_id=c,
                disbursement_ids=[g["id"] for g in beyond],
                summary=clip(
                    f"{first['town__name']}“{first['campaign__name']}”{SOURCE_LABELS.get(s, s)}经费：{budget_text}，已发放{n}笔共{yuan(total)}，"
                    f"超出{yuan(total - limit)}；自{day_text(beyond[0]['handed_at'])}（#{beyond[0]['id']}）起的{len(beyond)}笔发放超出预算"
                ),
                details={
                    "thresholds": {},
                    "values": {
                        "经费来源": SOURCE_LABELS.get(s, s),
                        "预算（元）": str(budget) if budget is not None else "未列预算",
                        "已发放（元）": str(total),
                        "超出（元）": str(total - limit),
                        "发放笔数": n,
                        "超出预算后的笔数": len(beyond),
                    },
                },
            )
        )
    return out
