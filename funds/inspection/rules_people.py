"""Rules on to whom: a declared relative, someone the campaign does not target, someone off the approved list."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate

from funds.inspection.base import (
    GONE,
    GRANT_FIELDS,
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
    person_text,
)
from funds.models import DeclaredRelative
from towns.models import Beneficiary, BeneficiaryStatusChange
from visits.models import Campaign, TargetList, TargetListEntry


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
    for chunk in chunks(household_ids):
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
                about_grant(
                    Rule.RELATIVE,
                    row,
                    key=f"{row['id']}-{cadre_id}",
                    summary=f"{grant_line(row)}发给{person_text(row)}，{role}{cadre_name}：领取人{how}",
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
    for row in grant_rows(provisional):
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
                summary=clip(f"{campaign}{grant_line(row)}发给{person_text(row)}：{why}"),
                details={"thresholds": {}, "values": {"原因": why, "发放日期": day_text(row["handed_at"])}},
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
    rows = grant_rows(ctx.handed().filter(campaign__isnull=False).filter(Exists(approved), ~Exists(named_then)))
    entries = {}
    for ids in chunks(sorted({r["beneficiary_id"] for r in rows})):
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
            why = f"发放后才增补进名单（{day_text(entry.added_at)}，理由：{entry.added_reason}）"
        elif entry.removed_after_approval:
            why = f"发放前已移出名单（{day_text(entry.removed_at)}，理由：{entry.removed_reason}）"
        else:
            why = f"审定前已从拟定名单中移出（理由：{entry.removed_reason}）"
        out.append(
            about_grant(
                Rule.OFF_LIST,
                row,
                summary=clip(f"“{row['campaign__name']}”{grant_line(row)}发给{person_text(row)}：{why}"),
                thresholds={},
                values={"原因": why, "发放日期": day_text(row["handed_at"])},
            )
        )
    return out
