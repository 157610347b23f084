"""Reads for the bulletin editor, its page, its .docx and the towns' submissions (issue 7 §2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max, Prefetch
from django.utils import timezone

from core.permissions import can
from reports.models import Bulletin, BulletinItem, BulletinSequence, BulletinSeries, BulletinSubmission


def published_max(series: BulletinSeries, year: int) -> int:
    """The highest number printed in the series (the year's, when it restarts yearly)."""
    published = Bulletin.objects.filter(number__isnull=False)
    if series.restart_yearly:
        published = published.filter(year=year)
    return published.aggregate(m=Max("number"))["m"] or 0


def next_number(year: int, series: BulletinSeries | None = None) -> int:
    """The number the next issue would get if published now (a draft shows it, 暂定): the county's
    running series (第118期 → 第119期), or the year's when the editor chose to restart each year."""
    series = series or BulletinSeries.current()
    key = series.sequence_key(year)
    last = BulletinSequence.objects.filter(year=key).values_list("last_number", flat=True).first() or 0
    return max(last, published_max(series, year)) + 1


def numbering() -> dict:
    """What the list page says about the series: the next number and whether it restarts each year."""
    series = BulletinSeries.current()
    return {"series": series, "next_number": next_number(timezone.localdate().year, series)}


def display_number(bulletin: Bulletin) -> int:
    return bulletin.number if bulletin.number is not None else next_number(bulletin.year)


def readable_bulletins(user):
    """The issues a user may open: the editor every draft and issue, other readers published ones only
    (drafts stay with the editor)."""
    qs = Bulletin.objects.all()
    return qs if can(user, "bulletin.edit") else qs.filter(status=Bulletin.Status.PUBLISHED)


def printed_items(bulletin: Bulletin) -> list[BulletinItem]:
    """The items as they appear in the issue: included ones, in the editor's order."""
    return list(bulletin.items.filter(included=True).select_related("town").order_by("order", "id"))


def editor_items(bulletin: Bulletin) -> list[BulletinItem]:
    return list(bulletin.items.select_related("town", "submission").order_by("order", "id"))


def week_submissions(user, week_start: date) -> list[BulletinSubmission]:
    """The towns' submissions for the week, through the editor's scope (withdrawn ones left out)."""
    return list(
        BulletinSubmission.objects.for_user(user)
        .filter(week_start=week_start, withdrawn_at__isnull=True)
        .select_related("town", "submitted_by__cadre")
        .order_by("town__code", "-id")
    )


@dataclass
class SubmissionRow:
    submission: BulletinSubmission
    used_in: Bulletin | None  # the issue that printed it (published), else a draft that has it
    published: bool


def _usage(submission: BulletinSubmission) -> SubmissionRow:
    uses = [item for item in submission.items.all() if item.included]
    published = next((i.bulletin for i in uses if i.bulletin.is_published), None)
    if published is not None:
        return SubmissionRow(submission, published, True)
    return SubmissionRow(submission, uses[0].bulletin if uses else None, False)


def submissions_for(user, *, limit: int = 100) -> list[SubmissionRow]:
    """A town's own submissions with whether each was used (a county user: every town's)."""
    subs = (
        BulletinSubmission.objects.for_user(user)
        .select_related("town", "submitted_by__cadre")
        .prefetch_related(Prefetch("items", queryset=BulletinItem.objects.select_related("bulletin")))
        .order_by("-week_start", "-id")[:limit]
    )
    return [_usage(s) for s in subs]


def submission_row(submission: BulletinSubmission) -> SubmissionRow:
    return _usage(submission)


def recent_mondays(count: int = 8, today: date | None = None) -> list[date]:
    """This week's Monday and the ones before it: the weeks a town may submit for."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=i) for i in range(count)]
