"""Editing, publishing and town submissions for the weekly bulletin (issue 7 §2).

Every service: keyword-only, one transaction, the permission checked first (``require``), the issue
row locked (select_for_update) so an edit and a publish never interleave, one audit record per
change. A published issue is frozen: every edit is refused here with a Chinese message, and on
PostgreSQL the triggers of migration reports 0002 refuse a write that skips the service.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core import audit
from core.permissions import require
from reports import bulletin_selectors
from reports.bulletin_selectors import published_max
from reports.models import (
    HEADLINE_MAX_CHARS,
    SUBMISSION_MAX_CHARS,
    Bulletin,
    BulletinItem,
    BulletinSequence,
    BulletinSeries,
    BulletinSubmission,
)
from reports.services import BulletinPublished, bulletin_draft, refresh_closing
from towns.cadres import cadre_of

HEADER_FIELDS = ("title", "topic", "issuing_unit", "issue_date", "report_to", "copy_to", "lead", "closing")
ITEM_FIELDS = ("order", "headline", "body", "source", "included", "submission")


def frozen_message(bulletin: Bulletin) -> str:
    return f"{bulletin.year}年第{bulletin.number}期已发布，不能再修改"


def _load(actor, bulletin) -> Bulletin:
    """The issue, locked for the change; a published one is refused."""
    require(actor, "bulletin.edit")
    pk = getattr(bulletin, "pk", bulletin)
    locked = Bulletin.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise ValidationError("该期组工信息不存在")
    if locked.is_published:
        raise ValidationError(frozen_message(locked))
    return locked


def _load_item(actor, item) -> tuple[Bulletin, BulletinItem]:
    pk = getattr(item, "pk", item)
    bulletin_id = BulletinItem.objects.filter(pk=pk).values_list("bulletin_id", flat=True).first()
    if bulletin_id is None:
        raise ValidationError("该条目不存在")
    bulletin = _load(actor, bulletin_id)
    return bulletin, BulletinItem.objects.select_related("town").get(pk=pk)


def _check_monday(week_start: date) -> None:
    if week_start.weekday() != 0:
        raise ValidationError({"week_start": ["请选择该周的周一"]})


def _clean_text(value: str) -> str:
    # Browsers send \r\n; a limit of 1,500 characters counts what the reader sees.
    return (value or "").replace("\r\n", "\n").strip()


def draft(*, actor, week_start: date) -> Bulletin:
    """The editor's 起草: the same service as the Monday job, for any week."""
    require(actor, "bulletin.edit")
    _check_monday(week_start)
    try:
        return bulletin_draft(week_start=week_start, actor=actor)
    except BulletinPublished as exc:
        raise ValidationError(str(exc)) from exc


@transaction.atomic
def update_header(
    *,
    actor,
    bulletin,
    title: str,
    topic: str,
    issuing_unit: str,
    issue_date: date,
    report_to: str,
    copy_to: str,
    lead: str | None = None,
    closing: str | None = None,
) -> Bulletin:
    """lead / closing None: left as they are (callers that edit only the header)."""
    bulletin = _load(actor, bulletin)
    before = audit.snapshot(bulletin, fields=[*HEADER_FIELDS, "year"])
    bulletin.title, bulletin.topic, bulletin.issuing_unit = title.strip(), topic.strip(), issuing_unit.strip()
    bulletin.issue_date, bulletin.report_to, bulletin.copy_to = issue_date, _clean_text(report_to), _clean_text(copy_to)
    for field, value in (("lead", lead), ("closing", closing)):
        if value is not None and _clean_text(value) != getattr(bulletin, field):
            setattr(bulletin, field, _clean_text(value))
            bulletin.text_edited = True  # a redraft keeps the editor's lead and closing
    bulletin.year = issue_date.year  # numbered in the year it is issued
    bulletin.full_clean(exclude=["created_by", "number"])
    bulletin.save()
    after = audit.snapshot(bulletin, fields=[*HEADER_FIELDS, "year"])
    if after != before:
        audit.record(actor=actor, action="bulletin.update", obj=bulletin, before=before, after=after)
    return bulletin


@transaction.atomic
def update_item(*, actor, item, headline: str, body: str) -> BulletinItem:
    bulletin, item = _load_item(actor, item)
    headline, body = _clean_text(headline).rstrip("。"), _clean_text(body)
    if not headline or not body:
        raise ValidationError("标题和正文都不能为空")
    if len(headline) > HEADLINE_MAX_CHARS:
        raise ValidationError({"headline": [f"标题不能超过{HEADLINE_MAX_CHARS}字"]})
    before = audit.snapshot(item, fields=list(ITEM_FIELDS))
    if (headline, body) == (item.headline, item.body):
        return item
    item.headline, item.body = headline, body
    if item.source == BulletinItem.Source.GENERATED:
        item.source = BulletinItem.Source.EDITED  # a redraft keeps it
    item.save(update_fields=["headline", "body", "source"])
    audit.record(
        actor=actor, action="bulletin.item_update", obj=item, before=before, after=audit.snapshot(item, fields=list(ITEM_FIELDS))
    )
    bulletin.save(update_fields=["updated_at"])
    return item


@transaction.atomic
def move_item(*, actor, item, direction: str) -> BulletinItem:
    """上移/下移: the items are renumbered 1..n in their current order, then the two swap."""
    if direction not in ("up", "down"):
        raise ValidationError("未知的移动方向")
    bulletin, item = _load_item(actor, item)
    items = list(bulletin.items.order_by("order", "id"))
    index = next(i for i, it in enumerate(items) if it.pk == item.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        return item
    before = [it.town_id for it in items]
    items[index], items[other] = items[other], items[index]
    changed = []
    for order, it in enumerate(items, start=1):
        if it.order != order:
            it.order = order
            changed.append(it)
    BulletinItem.objects.bulk_update(changed, ["order"])
    audit.record(
        actor=actor,
        action="bulletin.item_move",
        obj=bulletin,
        before={"towns": before},
        after={"towns": [it.town_id for it in items]},
        reason=f"{item.town.name}{'上移' if direction == 'up' else '下移'}",
    )
    return item


@transaction.atomic
def set_included(*, actor, item, included: bool) -> BulletinItem:
    bulletin, item = _load_item(actor, item)
    if item.included == included:
        return item
    item.included = included
    item.save(update_fields=["included"])
    audit.record(
        actor=actor,
        action="bulletin.item_include" if included else "bulletin.item_exclude",
        obj=item,
        before={"included": not included},
        after={"included": included},
    )
    refresh_closing(bulletin)
    return item


@transaction.atomic
def remove_item(*, actor, item) -> None:
    bulletin, item = _load_item(actor, item)
    before = audit.snapshot(item, fields=list(ITEM_FIELDS))
    audit.record(actor=actor, action="bulletin.item_remove", obj=item, before=before, after=None)
    item.delete()
    refresh_closing(bulletin)


@transaction.atomic
def use_submission(*, actor, bulletin, submission) -> BulletinItem:
    """A town's submitted text becomes its item: it replaces the generated text, or is added at the end."""
    bulletin = _load(actor, bulletin)
    pk = getattr(submission, "pk", submission)
    sub = BulletinSubmission.objects.for_user(actor).select_related("town").filter(pk=pk).first()
    if sub is None:
        raise ValidationError("报送稿不存在或不在您的管辖范围内")
    if sub.withdrawn_at is not None:
        raise ValidationError(f"{sub.town.name}已撤回这篇报送稿")
    if sub.week_start != bulletin.week_start:
        raise ValidationError("报送稿不是本期所涵盖那一周的")
    item = bulletin.items.filter(town_id=sub.town_id).first()
    before = audit.snapshot(item, fields=list(ITEM_FIELDS)) if item else None
    if item is None:
        last = bulletin.items.aggregate(m=Max("order"))["m"] or 0
        item = BulletinItem(bulletin=bulletin, town_id=sub.town_id, order=last + 1)
    item.headline, item.body = sub.headline.rstrip("。"), sub.body
    item.source, item.submission, item.included = BulletinItem.Source.SUBMITTED, sub, True
    item.save()
    audit.record(
        actor=actor,
        action="bulletin.item_from_submission",
        obj=item,
        before=before,
        after=audit.snapshot(item, fields=list(ITEM_FIELDS)),
    )
    refresh_closing(bulletin)
    return item


def _locked_series() -> BulletinSeries:
    BulletinSeries.objects.bulk_create([BulletinSeries(pk=1)], ignore_conflicts=True)
    return BulletinSeries.objects.select_for_update().get(pk=1)


def _locked_sequence(key: int) -> BulletinSequence:
    BulletinSequence.objects.bulk_create([BulletinSequence(year=key)], ignore_conflicts=True)
    return BulletinSequence.objects.select_for_update().get(year=key)


def _next_number(year: int) -> int:
    """Locks the series and its sequence row until commit: a second publisher waits and takes the next number."""
    series = _locked_series()
    sequence = _locked_sequence(series.sequence_key(year))
    # Issues numbered by hand before the sequence existed (an import) still count.
    number = max(sequence.last_number, published_max(series, year)) + 1
    sequence.last_number = number
    sequence.save(update_fields=["last_number"])
    return number


@transaction.atomic
def set_numbering(*, actor, next_number: int, restart_yearly: bool) -> BulletinSeries:
    """The editor sets once where the series stands (the next issue is 第119期) and whether it restarts
    each year. A number already printed in the series is refused: no two issues share a number."""
    require(actor, "bulletin.edit")
    series = _locked_series()
    before = {"restart_yearly": series.restart_yearly, "next_number": bulletin_selectors.next_number(_this_year(), series)}
    series.restart_yearly = restart_yearly
    year = _this_year()
    used = published_max(series, year)
    if next_number < 1:
        raise ValidationError({"next_number": ["期号从1开始"]})
    if next_number <= used:
        scope = f"{year}年" if restart_yearly else "本刊"
        raise ValidationError({"next_number": [f"{scope}已发布到第{used}期，下一期至少是第{used + 1}期"]})
    sequence = _locked_sequence(series.sequence_key(year))
    sequence.last_number = next_number - 1
    sequence.save(update_fields=["last_number"])
    series.updated_by, series.updated_at = actor, timezone.now()
    series.save()
    audit.record(
        actor=actor,
        action="bulletin.numbering",
        obj=series,
        before=before,
        after={"restart_yearly": restart_yearly, "next_number": next_number},
    )
    return series


def _this_year() -> int:
    return timezone.localdate().year


def week_not_ended_message(bulletin: Bulletin) -> str | None:
    """Said before publishing an issue whose week is still running: its figures may still grow."""
    last_day = bulletin.week_start + timedelta(days=6)
    if last_day >= timezone.localdate():
        return f"本期涵盖的一周到{last_day.year}年{last_day.month}月{last_day.day}日才结束，数字可能还会变化。确认现在发布吗？"
    return None


@transaction.atomic
def publish(*, actor, bulletin, confirm_unfinished: bool = False) -> Bulletin:
    """confirm_unfinished: the editor confirmed publishing a week that has not ended yet."""
    bulletin = _load(actor, bulletin)
    items = list(bulletin.items.filter(included=True).select_related("town").order_by("order", "id"))
    if not items:
        raise ValidationError("本期没有编入任何条目，不能发布")
    if not confirm_unfinished and (message := week_not_ended_message(bulletin)):
        raise ValidationError(message, code="week_not_ended")
    bulletin.year = bulletin.issue_date.year
    bulletin.number = _next_number(bulletin.year)
    bulletin.status = Bulletin.Status.PUBLISHED
    bulletin.published_at = timezone.now()
    bulletin.save(update_fields=["year", "number", "status", "published_at", "updated_at"])
    audit.record(
        actor=actor,
        action="bulletin.publish",
        obj=bulletin,
        before={"status": Bulletin.Status.DRAFT},
        after={
            "status": bulletin.status,
            "year": bulletin.year,
            "number": bulletin.number,
            "issue_date": bulletin.issue_date,
            "items": [f"{it.town.name}：{it.headline}" for it in items],
        },
    )
    return bulletin


@transaction.atomic
def submit(*, actor, week_start: date, headline: str, body: str) -> BulletinSubmission:
    """A town cadre's own text (经验做法) for a week, for the editor to use."""
    require(actor, "bulletin.submit")
    cadre = cadre_of(actor)
    _check_monday(week_start)
    if week_start > timezone.localdate():
        raise ValidationError({"week_start": ["不能为尚未开始的一周报送"]})
    headline, body = _clean_text(headline).rstrip("。"), _clean_text(body)
    errors = {}
    if not headline:
        errors["headline"] = ["请填写标题"]
    elif len(headline) > HEADLINE_MAX_CHARS:
        errors["headline"] = [f"标题不能超过{HEADLINE_MAX_CHARS}字（现{len(headline)}字）"]
    if not body:
        errors["body"] = ["请填写正文"]
    elif len(body) > SUBMISSION_MAX_CHARS:
        errors["body"] = [f"正文不能超过{SUBMISSION_MAX_CHARS}字（现{len(body)}字）"]
    if errors:
        raise ValidationError(errors)
    sub = BulletinSubmission.objects.create(
        town_id=cadre.town_id, week_start=week_start, headline=headline, body=body, submitted_by=actor
    )
    audit.record(
        actor=actor, action="bulletin.submit", obj=sub, after={"week_start": week_start, "headline": headline, "chars": len(body)}
    )
    return sub


@transaction.atomic
def withdraw(*, actor, submission) -> BulletinSubmission:
    """A town takes back its submission before the editor uses it. Kept with its withdrawal time
    (the audit and the town's list still show it), no longer offered to the editor."""
    require(actor, "bulletin.submit")
    pk = getattr(submission, "pk", submission)
    sub = BulletinSubmission.objects.for_user(actor).select_for_update().filter(pk=pk).first()
    if sub is None:
        raise ValidationError("报送稿不存在或不在您的管辖范围内")
    if sub.withdrawn_at is not None:
        raise ValidationError("这篇报送稿已经撤回")
    used = BulletinItem.objects.filter(submission_id=sub.pk).select_related("bulletin").first()
    if used is not None:
        raise ValidationError(f"这篇报送稿已被组织部采用（{used.bulletin}），不能撤回；如需更正请联系组织部")
    sub.withdrawn_at = timezone.now()
    sub.save(update_fields=["withdrawn_at"])
    audit.record(
        actor=actor,
        action="bulletin.submission_withdraw",
        obj=sub,
        before={"withdrawn": False},
        after={"withdrawn": True, "headline": sub.headline, "week_start": sub.week_start},
    )
    return sub
