"""Run every rule and keep their flags: new ones created, existing ones refreshed, ones no longer
produced cleared (their findings stay). County-wide, inside unscoped(); one audit record per run."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core import audit
from core.scoping import unscoped
from funds.inspection.base import (
    Candidate,
    Context,
    Rule,
    chunks,
)
from funds.inspection.rules_money import rule_above_standard, rule_duplicate, rule_over_budget
from funds.inspection.rules_people import rule_not_targeted, rule_off_list, rule_relative
from funds.inspection.rules_records import rule_bulk_signing, rule_late_entry, rule_no_receipt, rule_no_visit
from funds.models import InspectionFlag

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
        for chunk in chunks(seen_ids):
            InspectionFlag.objects.filter(pk__in=chunk).update(last_seen_at=now)
        # The grants each flag names: add what is new, drop what no longer applies.
        flag_id = {(f.rule, f.key): f.pk for f in created}
        flag_id.update({key: f["id"] for key, f in existing.items()})
        wanted = {(flag_id[(c.rule, c.key)], d) for c in candidates for d in c.disbursement_ids}
        touched = {flag_id[(c.rule, c.key)] for c in candidates}
        have = {(f, d): pk for pk, f, d in through.objects.values_list("id", "inspectionflag_id", "disbursement_id")}
        stale = [pk for (f, d), pk in have.items() if f in touched and (f, d) not in wanted]
        for chunk in chunks(stale):
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
