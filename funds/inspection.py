"""Inspection rules: flags for the known abuses of grants (issue 5 §4).

Each ``rule_*`` function reads the grants of the county (or one campaign) with a fixed number
of set-based queries — aggregates, Exists and correlated subqueries that run on PostgreSQL and
on SQLite alike — and returns candidate flags naming the rule, the records and why.
``run_inspection`` upserts them by (rule, key): new ones are created, existing ones refreshed,
ones no longer produced are marked cleared (their findings stay). It is a county-wide job, so it
runs inside ``unscoped()``; one audit record per run says what it found.

What counts as handed out is Disbursement.objects.handed_out() (funds/models.py), as on every page
and in every file: pending grants (待审批) wait for the decision, rejected and voided ones are not
counted. Two rules read other grants on purpose: the "voided and reissued to someone else" half of
rule 8 reads voided grants, and rule 9 (集中代签) counts entries as they were recorded, pending and
voided ones included, because the burst of entries is what it looks for.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractYear, TruncDate
from django.utils import timezone

from core import audit
from core.scoping import unscoped
from funds.models import Budget, DeclaredRelative, Disbursement, InspectionFlag, Receipt
from towns.dates import cn_date, cn_datetime
from towns.models import Beneficiary, BeneficiaryStatusChange, Category
from visits.models import Campaign, GrantStandard, TargetList, TargetListEntry, Visit

Rule = InspectionFlag.Rule
MONEY = (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER)
GONE = (Beneficiary.Status.DECEASED, Beneficiary.Status.MOVED)
# Cash and goods are signed for (签领); a bank transfer's proof is the bank's record, not a signature.
NEEDS_RECEIPT = (Disbursement.Kind.CASH, Disbursement.Kind.GOODS)
# A signature or thumbprint photo belongs to one person; a scanned roster page may cover many.
ONE_PERSON_RECEIPTS = (Receipt.Kind.SIGNATURE, Receipt.Kind.THUMBPRINT)

# Value of a grant in yuan: the amount, or goods at their unit value.
VALUE = Coalesce(
    "amount",
    F("goods_item__unit_value") * F("quantity"),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)

# Rule 9 finds two things; the flag page explains the one it found (InspectionFlag.title).
BULK_ENTRY_HELP = (
    "集中录入：同一干部在几分钟内登记了大量发放记录（超过下方阈值）。当面发放、当场签领的记录是逐笔登记的，"
    "短时间内录入几十笔，多半是事后照名单补录，需核实每笔是否本人当面领取、本人签领。"
)
SAME_IMAGE_HELP = "签领雷同：同一张签领照片（文件摘要相同）用在了不同的人身上，可能是代签或重复使用凭证。"

# Shown on the flag page: what the rule looks for, in the inspectors' words.
RULE_HELP: dict[str, str] = {
    Rule.DUPLICATE: "同一身份证号在同一专项活动中领取慰问金两次以上，或在两个以上镇（街道）的登记下都领取了慰问金（品）。",
    Rule.ABOVE_STANDARD: "同一人在一个专项活动中领取的现金、转账和慰问品折价合计，超过其所属人群类别中最高的慰问标准；"
    "专项活动以外的发放，按自然年合计，超过其所属人群类别中最高的日常慰问标准（每年）。",
    Rule.RELATIVE: "领取人是发放人或审批人申报的近亲属，或与其申报的近亲属同户（亲情牌、优亲厚友）。",
    Rule.NOT_TARGETED: "名单未经审定的镇，领取人不属于专项活动的慰问对象类别；或发放当天已故、已迁出。",
    Rule.NO_VISIT: "发放前后规定天数内没有对领取人的走访记录。",
    Rule.NO_RECEIPT: "现金或慰问品发放后超过规定天数仍没有签领凭证（签字、手印或签领花名册扫描页）。银行转账以银行记录为凭，不在此列。",
    Rule.OVER_BUDGET: "某镇（街道）某一经费来源在专项活动中的发放合计超过预算；未列预算的来源按预算为0计。",
    Rule.LATE_ENTRY: "发放记录在发放日之后超过规定天数才登记（事后补录），或作废后改发给了另一个人。",
    Rule.BULK_SIGNING: BULK_ENTRY_HELP + SAME_IMAGE_HELP,
    Rule.OFF_LIST: "本镇慰问对象名单经镇党委审定后，发给不在名单上的人（含发放后才增补进名单的）。",
}

THRESHOLD_LABELS = {
    "INSPECTION_NO_VISIT_DAYS": "走访时间窗（发放前后天数）",
    "INSPECTION_RECEIPT_DAYS": "签领期限（天）",
    "INSPECTION_LATE_ENTRY_DAYS": "补录期限（天）",
    "INSPECTION_BULK_COUNT": "集中录入笔数上限",
    "INSPECTION_BULK_MINUTES": "集中录入时间窗（分钟）",
}


def threshold_text(thresholds: dict) -> str:
    """The thresholds a flag used, as a reader says them ("阈值：10分钟内30笔"), never the setting names."""
    t = thresholds or {}
    parts = []
    if "INSPECTION_BULK_COUNT" in t:
        parts.append(f"{t.get('INSPECTION_BULK_MINUTES', '?')}分钟内{t['INSPECTION_BULK_COUNT']}笔")
    if "INSPECTION_NO_VISIT_DAYS" in t:
        parts.append(f"发放前后{t['INSPECTION_NO_VISIT_DAYS']}天内应有走访")
    if "INSPECTION_RECEIPT_DAYS" in t:
        parts.append(f"发放后{t['INSPECTION_RECEIPT_DAYS']}天内应签领")
    if "INSPECTION_LATE_ENTRY_DAYS" in t:
        parts.append(f"发放后{t['INSPECTION_LATE_ENTRY_DAYS']}天内应登记")
    known = set(THRESHOLD_LABELS)
    parts += [f"{k}：{v}" for k, v in t.items() if k not in known]
    return "阈值：" + "；".join(parts) if parts else ""


@dataclass
class Candidate:
    rule: str
    key: str
    town_id: int
    summary: str
    details: dict
    campaign_id: int | None = None
    beneficiary_id: int | None = None
    disbursement_ids: list[int] = field(default_factory=list)


@dataclass
class Context:
    now: datetime
    campaign_id: int | None = None

    def grants(self):
        """All grants in the run's reach (every status)."""
        qs = Disbursement.objects.all()
        return qs.filter(campaign_id=self.campaign_id) if self.campaign_id else qs

    def handed(self):
        return self.grants().handed_out()


# ------------------------------------------------------------------ helpers


def _chunks(items: list, size: int | None = None) -> Iterator[list]:
    # SQLite caps bound parameters; PostgreSQL takes large lists happily.
    size = size or (900 if connection.vendor == "sqlite" else 10_000)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _yuan(value) -> str:
    return f"¥{Decimal(value or 0):,.2f}"


def _local(moment: datetime | None) -> str:
    # Summaries are text, stored and read in later years: the date style of text, always with the year.
    return cn_datetime(moment, full=True) if moment else ""


def _day(moment: datetime | None) -> str:
    return cn_date(moment, full=True) if moment else ""


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The columns every rule reads to name a grant in its summary: one query, no per-grant look-ups.
GRANT_FIELDS = (
    "id",
    "town_id",
    "town__name",
    "campaign_id",
    "campaign__name",
    "beneficiary_id",
    "beneficiary__name",
    "beneficiary__id_number_masked",
    "beneficiary__id_number_digest",
    "kind",
    "amount",
    "goods_item__name",
    "quantity",
    "handed_at",
    "handed_by_id",
    "handed_by__name",
    "recorded_at",
    "recorded_by_id",
    "recorded_by__name",
    "source",
)
KIND_LABELS = dict(Disbursement.Kind.choices)
SOURCE_LABELS = dict(Budget.Source.choices)


def _grant_rows(qs) -> list[dict]:
    return list(qs.annotate(value=VALUE).values(*GRANT_FIELDS, "value").order_by("handed_at", "id"))


def _about_grant(rule: str, row: dict, *, summary: str, thresholds: dict, values: dict, key: str | None = None) -> Candidate:
    """A flag about one grant (rules 3-6 and 8 name a single row of _grant_rows)."""
    return Candidate(
        rule=rule,
        key=key or str(row["id"]),
        town_id=row["town_id"],
        campaign_id=row["campaign_id"],
        beneficiary_id=row["beneficiary_id"],
        disbursement_ids=[row["id"]],
        summary=_clip(summary),
        details={"thresholds": thresholds, "values": values},
    )


def _what(row: dict) -> str:
    if row["kind"] == Disbursement.Kind.GOODS:
        return f"{row['goods_item__name']}×{row['quantity']}"
    return f"{KIND_LABELS[row['kind']]}{_yuan(row['amount'])}"


def _person(row: dict) -> str:
    return f"{row['beneficiary__name']}（{row['beneficiary__id_number_masked']}）"


def _grant_line(row: dict, with_town: bool = False) -> str:
    town = f"{row['town__name']} " if with_town else ""
    return f"{town}{_day(row['handed_at'])} {_what(row)}（#{row['id']}）"


def _one_campaign(rows: Iterable[dict]) -> int | None:
    campaigns = {r["campaign_id"] for r in rows}
    return campaigns.pop() if len(campaigns) == 1 else None


# ------------------------------------------------------------------ the rules


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
    rows = _grant_rows(base.filter(beneficiary__id_number_digest__in=repeated))
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
                summary=_clip(
                    f"{_person(latest)}在“{latest['campaign__name']}”中{why}："
                    + "；".join(_grant_line(g, with_town=across) for g in grants)
                    + f"，合计{_yuan(total)}"
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
    for chunk in _chunks(sorted({person for person, _ in wanted})):
        rows += _grant_rows(base.filter(beneficiary_id__in=chunk))
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
                summary=_clip(
                    f"{_person(grants[0])}{year}年在专项活动以外共领取{_yuan(total)}，超过其类别日常慰问标准"
                    f"每年{_yuan(std)}（多{_yuan(over)}）：" + "；".join(_grant_line(g) for g in grants)
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
    for chunk in _chunks(sorted({b for _, b in wanted})):
        rows += _grant_rows(ctx.handed().filter(campaign__isnull=False, beneficiary_id__in=chunk))
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
                summary=_clip(
                    f"{_person(first)}在“{first['campaign__name']}”中共领取{_yuan(total)}，超过其类别最高慰问标准"
                    f"{_yuan(std)}（多{_yuan(Decimal(total) - Decimal(std))}）：" + "；".join(_grant_line(g) for g in grants)
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


def rule_relative(ctx: Context) -> list[Candidate]:
    """3. 亲情牌: granted to a declared relative of the cadre who handed or approved it, or to someone in that relative's household.

    Cadres have no link to a household of their own, so the match is on what they declared:
    the relative's ID number (HMAC digest), and the household the relative is registered in.
    """
    relatives = list(
        DeclaredRelative.objects.values_list(
            "id_number_digest", "declaration__cadre_id", "declaration__cadre__name", "name", "relation"
        )
    )
    if not relatives:
        return []
    by_digest: dict = defaultdict(list)
    for digest, cadre_id, cadre_name, name, relation in relatives:
        by_digest[digest].append((cadre_id, cadre_name, name, relation))
    declared = DeclaredRelative.objects.values("id_number_digest")
    same_household = Beneficiary.objects.filter(household_id=OuterRef("beneficiary__household_id"), id_number_digest__in=declared)
    base = ctx.handed().filter(Q(beneficiary__id_number_digest__in=declared) | Exists(same_household))
    rows = list(
        base.annotate(value=VALUE)
        .values(*GRANT_FIELDS, "value", "approved_by_id", "approved_by__name", "beneficiary__household_id")
        .order_by("handed_at", "id")
    )
    if not rows:
        return []
    # Household members who are declared relatives: one query for the households involved.
    members: dict = defaultdict(list)
    household_ids = sorted({r["beneficiary__household_id"] for r in rows})
    for chunk in _chunks(household_ids):
        for household_id, digest, name in Beneficiary.objects.filter(
            household_id__in=chunk, id_number_digest__in=declared
        ).values_list("household_id", "id_number_digest", "name"):
            members[household_id].append((digest, name))
    out = []
    for row in rows:
        deciders = {row["handed_by_id"]: ("发放人", row["handed_by__name"])}
        if row["approved_by_id"]:
            deciders.setdefault(row["approved_by_id"], ("审批人", row["approved_by__name"]))
        matches = []  # (cadre id, role, cadre name, how)
        for cadre_id, cadre_name, name, relation in by_digest.get(row["beneficiary__id_number_digest"], []):
            if cadre_id in deciders:
                matches.append((cadre_id, deciders[cadre_id][0], cadre_name, f"是其申报的{relation}{name}"))
        for digest, member_name in members.get(row["beneficiary__household_id"], []):
            if digest == row["beneficiary__id_number_digest"]:
                continue
            for cadre_id, cadre_name, _name, relation in by_digest.get(digest, []):
                if cadre_id in deciders:
                    matches.append((cadre_id, deciders[cadre_id][0], cadre_name, f"与其申报的{relation}{member_name}同户"))
        for cadre_id in sorted({m[0] for m in matches}):
            mine = [m for m in matches if m[0] == cadre_id]
            role, cadre_name = mine[0][1], mine[0][2]
            how = "；".join(dict.fromkeys(m[3] for m in mine))
            out.append(
                _about_grant(
                    Rule.RELATIVE,
                    row,
                    key=f"{row['id']}-{cadre_id}",
                    summary=f"{_grant_line(row)}发给{_person(row)}，{role}{cadre_name}：领取人{how}",
                    thresholds={},
                    values={"干部": cadre_name, "经手方式": role, "关系": how},
                )
            )
    return out


def rule_not_targeted(ctx: Context) -> list[Candidate]:
    """4. 对象不符: the person's categories are not targeted by the campaign, or they were dead or moved away that day."""
    targeted = Beneficiary.categories.through.objects.filter(
        beneficiary_id=OuterRef("beneficiary_id"), category__campaigns=OuterRef("campaign_id")
    )
    has_targets = Campaign.target_categories.through.objects.filter(campaign_id=OuterRef("campaign_id"))
    # Where the town's list is approved, the list decides who is a target, not the categories
    # (visits/targets.py): those grants are rule 10's (名单外发放).
    decided = TargetList.objects.filter(
        campaign_id=OuterRef("campaign_id"), town_id=OuterRef("town_id"), status=TargetList.Status.APPROVED
    )
    reasons: dict = defaultdict(list)
    rows_by_id: dict = {}
    provisional = ctx.handed().filter(campaign__isnull=False).filter(Exists(has_targets), ~Exists(targeted), ~Exists(decided))
    for row in _grant_rows(provisional):
        rows_by_id[row["id"]] = row
        reasons[row["id"]].append("所属人群类别不在该专项活动的慰问对象范围内")
    # The status on the grant's day: the latest change effective on or before it (BeneficiaryStatusChange),
    # or, for people without change rows, the current status if it began on or before that day.
    status_then = (
        BeneficiaryStatusChange.objects.filter(
            beneficiary_id=OuterRef("beneficiary_id"), effective_on__lte=OuterRef("handed_day")
        )
        .order_by("-effective_on", "-id")
        .values("to_status")[:1]
    )
    changed_since = BeneficiaryStatusChange.objects.filter(beneficiary_id=OuterRef("beneficiary_id"))
    gone = (
        ctx.handed()
        .annotate(handed_day=TruncDate("handed_at"), status_then=Subquery(status_then))
        .filter(
            Q(status_then__in=GONE)
            | (
                Q(status_then__isnull=True)
                & ~Exists(changed_since)
                & Q(beneficiary__status__in=GONE, beneficiary__status_since__lte=F("handed_day"))
            )
        )
    )
    gone_rows = list(
        gone.annotate(value=VALUE).values(
            *GRANT_FIELDS, "value", "status_then", "beneficiary__status", "beneficiary__status_since"
        )
    )
    status_labels = dict(Beneficiary.Status.choices)
    for row in gone_rows:
        rows_by_id.setdefault(row["id"], row)
        state = status_labels[row["status_then"] or row["beneficiary__status"]]
        reasons[row["id"]].append(f"发放当天该对象已登记为“{state}”")
    out = []
    for grant_id, row in sorted(rows_by_id.items()):
        why = "；".join(reasons[grant_id])
        campaign = f"“{row['campaign__name']}”" if row["campaign__name"] else ""
        out.append(
            Candidate(
                rule=Rule.NOT_TARGETED,
                key=str(grant_id),
                town_id=row["town_id"],
                campaign_id=row["campaign_id"],
                beneficiary_id=row["beneficiary_id"],
                disbursement_ids=[grant_id],
                summary=_clip(f"{campaign}{_grant_line(row)}发给{_person(row)}：{why}"),
                details={"thresholds": {}, "values": {"原因": why, "发放日期": _day(row["handed_at"])}},
            )
        )
    return out


def rule_no_visit(ctx: Context) -> list[Candidate]:
    """5. 无走访: no visit to the person within ± INSPECTION_NO_VISIT_DAYS of the grant."""
    days = settings.INSPECTION_NO_VISIT_DAYS
    window = timedelta(days=days)
    near = Visit.objects.filter(
        beneficiary_id=OuterRef("beneficiary_id"),
        visited_at__gte=OuterRef("handed_at") - window,
        visited_at__lte=OuterRef("handed_at") + window,
    )
    out = []
    for row in _grant_rows(ctx.handed().filter(visit__isnull=True).filter(~Exists(near))):
        out.append(
            _about_grant(
                Rule.NO_VISIT,
                row,
                summary=f"{_grant_line(row)}发给{_person(row)}，发放前后{days}天内没有走访记录（发放人{row['handed_by__name']}）",
                thresholds={"INSPECTION_NO_VISIT_DAYS": days},
                values={"发放时间": _local(row["handed_at"])},
            )
        )
    return out


def rule_no_receipt(ctx: Context) -> list[Candidate]:
    """6. 无签领: cash or goods without a receipt INSPECTION_RECEIPT_DAYS after handing."""
    days = settings.INSPECTION_RECEIPT_DAYS
    qs = ctx.handed().filter(receipt__isnull=True, kind__in=NEEDS_RECEIPT, handed_at__lt=ctx.now - timedelta(days=days))
    out = []
    for row in _grant_rows(qs):
        waited = (ctx.now - row["handed_at"]).days
        out.append(
            _about_grant(
                Rule.NO_RECEIPT,
                row,
                summary=f"{_grant_line(row)}发给{_person(row)}，已过{waited}天仍无签领凭证（期限{days}天，发放人{row['handed_by__name']}）",
                thresholds={"INSPECTION_RECEIPT_DAYS": days},
                values={"发放时间": _local(row["handed_at"]), "已过天数": waited},
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
    for row in _grant_rows(ctx.handed().filter(which)):
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
        budget_text = f"预算{_yuan(budget)}" if budget is not None else "未列预算"
        out.append(
            Candidate(
                rule=Rule.OVER_BUDGET,
                key=f"{c}-{t}-{s}",
                town_id=t,
                campaign_id=c,
                disbursement_ids=[g["id"] for g in beyond],
                summary=_clip(
                    f"{first['town__name']}“{first['campaign__name']}”{SOURCE_LABELS.get(s, s)}经费：{budget_text}，已发放{n}笔共{_yuan(total)}，"
                    f"超出{_yuan(total - limit)}；自{_day(beyond[0]['handed_at'])}（#{beyond[0]['id']}）起的{len(beyond)}笔发放超出预算"
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


def rule_late_entry(ctx: Context) -> list[Candidate]:
    """8. 事后补录: recorded more than INSPECTION_LATE_ENTRY_DAYS after handing, or voided and reissued to someone else."""
    days = settings.INSPECTION_LATE_ENTRY_DAYS
    out = []
    for row in _grant_rows(ctx.handed().filter(recorded_at__gt=F("handed_at") + timedelta(days=days))):
        late = (row["recorded_at"] - row["handed_at"]).days
        out.append(
            _about_grant(
                Rule.LATE_ENTRY,
                row,
                key=f"entry-{row['id']}",
                summary=f"{_grant_line(row)}发给{_person(row)}，{_day(row['recorded_at'])}才由{row['recorded_by__name']}登记，"
                f"晚于发放{late}天（期限{days}天）",
                thresholds={"INSPECTION_LATE_ENTRY_DAYS": days},
                values={"发放时间": _local(row["handed_at"]), "登记时间": _local(row["recorded_at"]), "相隔天数": late},
            )
        )
    reissued = (
        ctx.grants()
        .filter(replaces__isnull=False)
        .exclude(approval_status=Disbursement.ApprovalStatus.REJECTED)
        .exclude(beneficiary_id=F("replaces__beneficiary_id"))
    )
    rows = list(
        reissued.annotate(value=VALUE)
        .values(
            *GRANT_FIELDS,
            "value",
            "replaces_id",
            "replaces__beneficiary__name",
            "replaces__void_reason",
            "replaces__voided_by__name",
        )
        .order_by("handed_at", "id")
    )
    for row in rows:
        out.append(
            Candidate(
                rule=Rule.LATE_ENTRY,
                key=f"reissue-{row['id']}",
                town_id=row["town_id"],
                campaign_id=row["campaign_id"],
                beneficiary_id=row["beneficiary_id"],
                disbursement_ids=[row["replaces_id"], row["id"]],
                summary=_clip(
                    f"原发给{row['replaces__beneficiary__name']}的发放（#{row['replaces_id']}）被{row['replaces__voided_by__name'] or ''}作废"
                    f"（原因：{row['replaces__void_reason']}），改发给{_person(row)}：{_grant_line(row)}"
                ),
                details={
                    "thresholds": {},
                    "values": {
                        "原领取人": row["replaces__beneficiary__name"],
                        "新领取人": row["beneficiary__name"],
                        "作废原因": row["replaces__void_reason"],
                    },
                },
            )
        )
    return out


def rule_bulk_signing(ctx: Context) -> list[Candidate]:
    """9. 集中录入、签领雷同: one cadre records more than INSPECTION_BULK_COUNT grants within INSPECTION_BULK_MINUTES, or one
    receipt image (same SHA-256) is used for different people."""
    limit, minutes = settings.INSPECTION_BULK_COUNT, settings.INSPECTION_BULK_MINUTES
    window = timedelta(minutes=minutes)
    # A sliding window over each cadre's grants in recording order, in Python: the same on both databases,
    # one pass over three small columns.
    stamps = list(
        ctx.grants()
        .exclude(approval_status=Disbursement.ApprovalStatus.REJECTED)
        .order_by("recorded_by_id", "recorded_at", "id")
        .values_list("recorded_by_id", "recorded_at", "id")
    )
    bursts: list[list[int]] = []  # positions in stamps
    start = 0
    current: set[int] | None = None
    current_cadre = None
    for end, (cadre_id, moment, _pk) in enumerate(stamps):
        if cadre_id != current_cadre:
            start, current, current_cadre = end, None, cadre_id
        while stamps[start][0] != cadre_id or moment - stamps[start][1] > window:
            start += 1
        if end - start + 1 > limit:
            span = set(range(start, end + 1))
            if current is not None and min(span) <= max(current) + 1:
                current |= span
            else:
                current = span
                bursts.append(current)  # mutated in place while the burst grows
    out = []
    burst_ids = [[stamps[i][2] for i in sorted(burst)] for burst in bursts]
    rows_by_id = {}
    for chunk in _chunks(sorted({pk for ids in burst_ids for pk in ids})):
        for row in _grant_rows(Disbursement.objects.filter(pk__in=chunk)):
            rows_by_id[row["id"]] = row
    for ids in burst_ids:
        rows = [rows_by_id[pk] for pk in ids]
        first, last = min(rows, key=lambda r: r["recorded_at"]), max(rows, key=lambda r: r["recorded_at"])
        towns = Counter(r["town_id"] for r in rows)
        span_minutes = (last["recorded_at"] - first["recorded_at"]).total_seconds() / 60
        people = len({r["beneficiary_id"] for r in rows})
        out.append(
            Candidate(
                rule=Rule.BULK_SIGNING,
                key=f"burst-{first['recorded_by_id']}-{ids[0]}",
                town_id=towns.most_common(1)[0][0],
                campaign_id=_one_campaign(rows),
                disbursement_ids=ids,
                summary=_clip(
                    f"{first['recorded_by__name']}在{_local(first['recorded_at'])}至{timezone.localtime(last['recorded_at']):%H:%M}"
                    f"的{span_minutes:.0f}分钟内登记了{len(rows)}笔发放（{people}人），超过{minutes}分钟{limit}笔的上限"
                ),
                details={
                    "thresholds": {"INSPECTION_BULK_COUNT": limit, "INSPECTION_BULK_MINUTES": minutes},
                    "values": {
                        "登记人": first["recorded_by__name"],
                        "笔数": len(rows),
                        "人数": people,
                        "用时（分钟）": round(span_minutes, 1),
                    },
                },
            )
        )
    # The same image for different people: several Receipt rows with one SHA-256 (a photo uploaded again
    # for someone else), or a single-person signature/thumbprint attached to grants of several people.
    handed = ctx.handed().filter(receipt__isnull=False)
    other_person = handed.filter(receipt__sha256=OuterRef("receipt__sha256")).exclude(
        beneficiary__id_number_digest=OuterRef("beneficiary__id_number_digest")
    )
    rows = list(
        handed.filter(Exists(other_person))
        .annotate(value=VALUE)
        .values(*GRANT_FIELDS, "value", "receipt_id", "receipt__sha256", "receipt__kind")
        .order_by("handed_at", "id")
    )
    by_image: dict = defaultdict(list)
    for row in rows:
        by_image[row["receipt__sha256"]].append(row)
    for sha, grants in by_image.items():
        receipts = {g["receipt_id"] for g in grants}
        single = any(g["receipt__kind"] in ONE_PERSON_RECEIPTS for g in grants)
        if len(receipts) < 2 and not single:
            continue  # one scanned roster page covering several people is how rosters are signed
        names = list(dict.fromkeys(g["beneficiary__name"] for g in grants))
        out.append(
            Candidate(
                rule=Rule.BULK_SIGNING,
                key=f"image-{sha}",
                town_id=Counter(g["town_id"] for g in grants).most_common(1)[0][0],
                campaign_id=_one_campaign(grants),
                beneficiary_id=None,
                disbursement_ids=[g["id"] for g in grants],
                summary=_clip(
                    f"同一张签领图片（摘要{sha[:12]}…）用于{len(names)}个不同的人：{'、'.join(names)}；"
                    + "；".join(_grant_line(g, with_town=True) for g in grants)
                ),
                details={
                    "thresholds": {},
                    "values": {"文件摘要": sha, "凭证数": len(receipts), "涉及人数": len(names), "涉及人员": "、".join(names)},
                },
            )
        )
    return out


def rule_off_list(ctx: Context) -> list[Candidate]:
    """10. 名单外发放: a grant in a town whose 慰问对象名单 the town party committee approved, to
    someone the list did not name when it was handed out (never on it, taken off before, or
    added only afterwards)."""
    approved = TargetList.objects.filter(
        campaign_id=OuterRef("campaign_id"), town_id=OuterRef("town_id"), status=TargetList.Status.APPROVED
    )
    named_then = (
        TargetListEntry.objects.filter(
            target_list__campaign_id=OuterRef("campaign_id"),
            target_list__town_id=OuterRef("town_id"),
            target_list__status=TargetList.Status.APPROVED,
            beneficiary_id=OuterRef("beneficiary_id"),
        )
        .filter(Q(added_after_approval=False) | Q(added_at__lte=OuterRef("handed_at")))
        .filter(Q(listed=True) | Q(removed_after_approval=True, removed_at__gt=OuterRef("handed_at")))
    )
    rows = _grant_rows(ctx.handed().filter(campaign__isnull=False).filter(Exists(approved), ~Exists(named_then)))
    entries = {}
    for ids in _chunks(sorted({r["beneficiary_id"] for r in rows})):
        for e in TargetListEntry.objects.filter(
            target_list__status=TargetList.Status.APPROVED, beneficiary_id__in=ids
        ).select_related("target_list"):
            entries[(e.target_list.campaign_id, e.beneficiary_id)] = e
    out = []
    for row in rows:
        entry = entries.get((row["campaign_id"], row["beneficiary_id"]))
        if entry is None:
            why = "不在镇党委审定的慰问对象名单上"
        elif entry.listed:
            why = f"发放后才增补进名单（{_day(entry.added_at)}，理由：{entry.added_reason}）"
        elif entry.removed_after_approval:
            why = f"发放前已移出名单（{_day(entry.removed_at)}，理由：{entry.removed_reason}）"
        else:
            why = f"审定前已从拟定名单中移出（理由：{entry.removed_reason}）"
        out.append(
            _about_grant(
                Rule.OFF_LIST,
                row,
                summary=_clip(f"“{row['campaign__name']}”{_grant_line(row)}发给{_person(row)}：{why}"),
                thresholds={},
                values={"原因": why, "发放日期": _day(row["handed_at"])},
            )
        )
    return out


RULES = {
    Rule.DUPLICATE: rule_duplicate,
    Rule.ABOVE_STANDARD: rule_above_standard,
    Rule.RELATIVE: rule_relative,
    Rule.NOT_TARGETED: rule_not_targeted,
    Rule.NO_VISIT: rule_no_visit,
    Rule.NO_RECEIPT: rule_no_receipt,
    Rule.OVER_BUDGET: rule_over_budget,
    Rule.LATE_ENTRY: rule_late_entry,
    Rule.BULK_SIGNING: rule_bulk_signing,
    Rule.OFF_LIST: rule_off_list,
}


def compute(*, campaign=None, now: datetime | None = None) -> list[Candidate]:
    """Every rule's candidates (no writes). Deliberately county-wide: call inside unscoped()."""
    ctx = Context(now=now or timezone.now(), campaign_id=getattr(campaign, "pk", campaign))
    found: dict = {}
    for rule in RULES.values():
        for candidate in rule(ctx):
            found[(candidate.rule, candidate.key)] = candidate
    return list(found.values())


def _json(value) -> dict:
    # What the JSONField will hold after a round trip, so "unchanged" compares like with like.
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def run_inspection(*, campaign=None, now: datetime | None = None, actor=None) -> dict:
    """Compute every rule and upsert the flags by (rule, key). Returns counts per rule and of new/cleared flags.

    With ``campaign`` only that campaign's grants are read and only its flags can be cleared.
    """
    now = now or timezone.now()
    campaign_id = getattr(campaign, "pk", campaign)
    through = InspectionFlag.disbursements.through
    with unscoped(), transaction.atomic():
        candidates = compute(campaign=campaign_id, now=now)
        existing = {
            (f["rule"], f["key"]): f
            for f in InspectionFlag.objects.values(
                "id", "rule", "key", "status", "summary", "details", "town_id", "campaign_id", "beneficiary_id"
            )
        }
        new, changed, seen_ids = [], [], []
        for c in candidates:
            c.details = _json(c.details)
            old = existing.get((c.rule, c.key))
            if old is None:
                new.append(
                    InspectionFlag(
                        rule=c.rule,
                        key=c.key,
                        town_id=c.town_id,
                        campaign_id=c.campaign_id,
                        beneficiary_id=c.beneficiary_id,
                        summary=c.summary,
                        details=c.details,
                        status=InspectionFlag.Status.OPEN,
                        last_seen_at=now,
                    )
                )
                continue
            seen_ids.append(old["id"])
            values = {
                "summary": c.summary,
                "details": c.details,
                "town_id": c.town_id,
                "campaign_id": c.campaign_id,
                "beneficiary_id": c.beneficiary_id,
                "status": InspectionFlag.Status.OPEN,
            }
            if any(old[k] != v for k, v in values.items()):
                changed.append(InspectionFlag(id=old["id"], cleared_at=None, last_seen_at=now, **values))
        created = InspectionFlag.objects.bulk_create(new, batch_size=1000)
        if created and created[0].pk is None:  # databases that cannot return ids from a bulk insert
            keys = {(f.rule, f.key) for f in created}
            created = [
                f
                for f in InspectionFlag.objects.filter(last_seen_at=now, rule__in={r for r, _ in keys})
                if (f.rule, f.key) in keys
            ]
        InspectionFlag.objects.bulk_update(
            changed,
            ["summary", "details", "town_id", "campaign_id", "beneficiary_id", "status", "cleared_at", "last_seen_at"],
            batch_size=500,
        )
        for chunk in _chunks(seen_ids):
            InspectionFlag.objects.filter(pk__in=chunk).update(last_seen_at=now)
        # The grants each flag names: add what is new, drop what no longer applies.
        flag_id = {(f.rule, f.key): f.pk for f in created}
        flag_id.update({key: f["id"] for key, f in existing.items()})
        wanted = {(flag_id[(c.rule, c.key)], d) for c in candidates for d in c.disbursement_ids}
        touched = {flag_id[(c.rule, c.key)] for c in candidates}
        have = {(f, d): pk for pk, f, d in through.objects.values_list("id", "inspectionflag_id", "disbursement_id")}
        stale = [pk for (f, d), pk in have.items() if f in touched and (f, d) not in wanted]
        for chunk in _chunks(stale):
            through.objects.filter(pk__in=chunk).delete()
        through.objects.bulk_create(
            [through(inspectionflag_id=f, disbursement_id=d) for f, d in sorted(wanted - set(have))], batch_size=2000
        )
        # Open flags of this run's reach that no rule produced any more: the problem went away (or was fixed).
        gone = InspectionFlag.objects.filter(status=InspectionFlag.Status.OPEN).exclude(last_seen_at=now)
        if campaign_id:
            gone = gone.filter(campaign_id=campaign_id)
        cleared = gone.update(status=InspectionFlag.Status.CLEARED, cleared_at=now)
        by_rule = Counter(c.rule for c in candidates)
        counts = {
            "by_rule": {rule: by_rule.get(rule, 0) for rule in RULES},
            "open": len(candidates),
            "new": len(created),
            "updated": len(changed),
            "cleared": cleared,
        }
        audit.record(
            actor=actor,
            action="inspection.run",
            object_type="inspection",
            object_repr="监督预警计算" + (f"（专项活动 #{campaign_id}）" if campaign_id else "（全县）"),
            after={**counts, "campaign": campaign_id, "as_of": now.isoformat()},
        )
    return counts
