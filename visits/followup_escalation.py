"""Deadlines and escalation (督办) of follow-ups, issue 6 §2.

An open item past its deadline is first its owner's (level 0, shown red on the board); after
FOLLOWUP_ESCALATE_TOWN_DAYS it rises to the town admin (level 1), after
FOLLOWUP_ESCALATE_COUNTY_DAYS to the county (level 2). The nightly job moves items set by set:
one query finds the candidates of a level, one UPDATE moves them, one bulk insert writes their
events and one the audit records. Levels only rise, and an item already at a level is not a
candidate for it, so a second run on the same day changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import audit
from core.scoping import unscoped
from visits.models import FollowUp, FollowUpEvent

# 已办结 waits for the return visit: the work is done, so it is not overdue work.
ESCALATING_STATUSES = (FollowUp.Status.PENDING, FollowUp.Status.IN_PROGRESS)
LEVEL_LABELS = {0: "", 1: "镇", 2: "县"}


@dataclass
class EscalationResult:
    moved: dict[int, list[int]] = field(default_factory=dict)  # level -> ids raised to it this run

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.moved.values())


def thresholds() -> dict[int, int]:
    """Days past the deadline after which an item belongs to each level."""
    return {1: settings.FOLLOWUP_ESCALATE_TOWN_DAYS, 2: settings.FOLLOWUP_ESCALATE_COUNTY_DAYS}


def overdue_q(today: date) -> Q:
    return Q(status__in=ESCALATING_STATUSES, deadline__lt=today)


@transaction.atomic
def escalate_followups(*, today: date | None = None, actor=None) -> EscalationResult:
    """Raise every overdue open item to the level its lateness calls for. Runs across towns (a job)."""
    today = today or timezone.localdate()
    now = timezone.now()
    result = EscalationResult()
    with unscoped():
        # Highest level first: an item 10 days late goes straight to the county in one step,
        # and is then no candidate for level 1.
        for level, days in sorted(thresholds().items(), reverse=True):
            candidates = list(
                FollowUp.objects.filter(
                    status__in=ESCALATING_STATUSES,
                    deadline__lte=today - timedelta(days=days),
                    escalation_level__lt=level,
                )
                .select_for_update(of=("self",))
                .order_by("id")
                .values_list("id", "escalation_level", "town_id", "title", "deadline")
            )
            if not candidates:
                continue
            ids = [row[0] for row in candidates]
            FollowUp.objects.filter(pk__in=ids).update(escalation_level=level, escalated_at=now, updated_at=now)
            note = f"逾期{days}天以上，升级至{LEVEL_LABELS[level]}级督办"
            FollowUpEvent.objects.bulk_create(
                [FollowUpEvent(followup_id=pk, kind=FollowUpEvent.Kind.ESCALATE, actor=None, note=note) for pk in ids]
            )
            audit.record_many(
                actor=actor,
                entries=[
                    {
                        "action": "followup.escalate",
                        "object_type": "visits.followup",
                        "object_id": str(pk),
                        "object_repr": title,
                        "town": town_id,
                        "before": {"escalation_level": old},
                        "after": {"escalation_level": level, "deadline": deadline},
                        "reason": note,
                    }
                    for pk, old, town_id, title, deadline in candidates
                ],
            )
            result.moved[level] = ids
    return result


def days_left(item: FollowUp, today: date) -> int | None:
    return (item.deadline - today).days if item.deadline else None


def colour(item: FollowUp, today: date) -> str:
    """The board's colour: red overdue, orange within 3 days, green otherwise; grey without a deadline."""
    left = days_left(item, today)
    if left is None:
        return "secondary"
    if left < 0:
        return "danger"
    if left <= 3:
        return "warning"
    return "success"
