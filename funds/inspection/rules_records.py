"""Rules on how a grant was recorded: without a visit, without a receipt, entered late, entered in bulk."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from funds.inspection.base import (
    GRANT_FIELDS,
    NEEDS_RECEIPT,
    ONE_PERSON_RECEIPTS,
    VALUE,
    Candidate,
    Context,
    Rule,
    about_grant,
    chunks,
    clip,
    day_text,
    grant_line,
    grant_rows,
    local_time,
    one_campaign,
    person_text,
)
from funds.models import Disbursement
from visits.models import Visit


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
    for row in grant_rows(ctx.handed().filter(visit__isnull=True).filter(~Exists(near))):
        out.append(
            about_grant(
                Rule.NO_VISIT,
                row,
                summary=f"{grant_line(row)}发给{person_text(row)}，发放前后{days}天内没有走访记录（发放人{row['handed_by__name']}）",
                thresholds={"INSPECTION_NO_VISIT_DAYS": days},
                values={"发放时间": local_time(row["handed_at"])},
            )
        )
    return out


def rule_no_receipt(ctx: Context) -> list[Candidate]:
    """6. 无签领: cash or goods without a receipt INSPECTION_RECEIPT_DAYS after handing."""
    days = settings.INSPECTION_RECEIPT_DAYS
    qs = ctx.handed().filter(receipt__isnull=True, kind__in=NEEDS_RECEIPT, handed_at__lt=ctx.now - timedelta(days=days))
    out = []
    for row in grant_rows(qs):
        waited = (ctx.now - row["handed_at"]).days
        out.append(
            about_grant(
                Rule.NO_RECEIPT,
                row,
                summary=f"{grant_line(row)}发给{person_text(row)}，已过{waited}天仍无签领凭证（期限{days}天，发放人{row['handed_by__name']}）",
                thresholds={"INSPECTION_RECEIPT_DAYS": days},
                values={"发放时间": local_time(row["handed_at"]), "已过天数": waited},
            )
        )
    return out


def rule_late_entry(ctx: Context) -> list[Candidate]:
    """8. 事后补录: recorded more than INSPECTION_LATE_ENTRY_DAYS after handing, or voided and reissued to someone else."""
    days = settings.INSPECTION_LATE_ENTRY_DAYS
    out = []
    for row in grant_rows(ctx.handed().filter(recorded_at__gt=F("handed_at") + timedelta(days=days))):
        late = (row["recorded_at"] - row["handed_at"]).days
        out.append(
            about_grant(
                Rule.LATE_ENTRY,
                row,
                key=f"entry-{row['id']}",
                summary=f"{grant_line(row)}发给{person_text(row)}，{day_text(row['recorded_at'])}才由{row['recorded_by__name']}登记，"
                f"晚于发放{late}天（期限{days}天）",
                thresholds={"INSPECTION_LATE_ENTRY_DAYS": days},
                values={"发放时间": local_time(row["handed_at"]), "登记时间": local_time(row["recorded_at"]), "相隔天数": late},
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
                summary=clip(
                    f"原发给{row['replaces__beneficiary__name']}的发放（#{row['replaces_id']}）被{row['replaces__voided_by__name'] or ''}作废"
                    f"（原因：{row['replaces__void_reason']}），改发给{person_text(row)}：{grant_line(row)}"
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
    for chunk in chunks(sorted({pk for ids in burst_ids for pk in ids})):
        for row in grant_rows(Disbursement.objects.filter(pk__in=chunk)):
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
                campaign_id=one_campaign(rows),
                disbursement_ids=ids,
                summary=clip(
                    f"{first['recorded_by__name']}在{local_time(first['recorded_at'])}至{timezone.localtime(last['recorded_at']):%H:%M}"
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
                campaign_id=one_campaign(grants),
                beneficiary_id=None,
                disbursement_ids=[g["id"] for g in grants],
                summary=clip(
                    f"同一张签领图片（摘要{sha[:12]}…）用于{len(names)}个不同的人：{'、'.join(names)}；"
                    + "；".join(grant_line(g, with_town=True) for g in grants)
                ),
                details={
                    "thresholds": {},
                    "values": {"文件摘要": sha, "凭证数": len(receipts), "涉及人数": len(names), "涉及人员": "、".join(names)},
                },
            )
        )
    return out
