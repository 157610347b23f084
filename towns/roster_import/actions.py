"""What a cadre does with an import: upload, pick a sheet, map unknown names, confirm, retry,
download the error workbook. Each is one short transaction; the work itself is queued by task
name through the outbox (towns/tasks.py runs towns/roster_import/jobs.py), never imported here.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit, outbox
from core.permissions import require
from towns import name_aliases
from towns.models import RosterImport
from towns.roster_import.parse import Rejected, check_file
from towns.roster_import.records import actor_town, set_progress, update

CHECK_TASK = "towns.tasks.check_roster_import"
COMMIT_TASK = "towns.tasks.run_roster_import"


@transaction.atomic
def roster_upload(*, actor, upload, enqueue: bool = True) -> RosterImport:
    """Record an upload and queue its check; an unsafe file is recorded as refused and not kept."""
    require(actor, "registry.import")
    cadre = actor_town(actor)
    name = (getattr(upload, "name", "") or "roster.xlsx")[-200:]
    size = upload.size
    roster_import = RosterImport(town_id=cadre.town_id, uploaded_by=cadre, original_name=name, file_size=size)
    try:
        check_file(upload, size=size, name=name)
    except Rejected as refused:
        roster_import.status = RosterImport.Status.REJECTED
        roster_import.message = str(refused)
        roster_import.finished_at = timezone.now()
        roster_import.save()
        return roster_import
    upload.seek(0)
    roster_import.file.save("roster.xlsx", upload, save=False)
    roster_import.save()
    if enqueue:
        outbox.run_task(CHECK_TASK, import_id=roster_import.pk)
    return roster_import


@transaction.atomic
def roster_confirm(*, actor, roster_import: RosterImport, enqueue: bool = True) -> RosterImport:
    """The person confirms the preview; the import runs as a job. A second confirm does nothing."""
    require(actor, "registry.import")
    locked = RosterImport.objects.for_user(actor).select_for_update().filter(pk=roster_import.pk).first()
    if locked is None:
        raise ValidationError("导入记录不存在或不在您的管辖范围内")
    if locked.status in {RosterImport.Status.IMPORTING, RosterImport.Status.DONE}:
        return locked  # double click, retry
    if locked.status == RosterImport.Status.READY and locked.unknown_names:
        raise ValidationError(f"还有 {len(locked.unknown_names)} 个名称没有对应，请先在预览中选择对应项")
    if locked.status == RosterImport.Status.READY and not locked.errors and not locked.can_confirm:
        raise ValidationError("文件中的人员都已在册且信息一致，没有需要导入的变更")
    if not locked.can_confirm:
        raise ValidationError(f"当前状态为“{locked.get_status_display()}”，不能确认导入")
    update(
        locked,
        status=RosterImport.Status.IMPORTING,
        confirmed_by=actor_town(actor),
        confirmed_at=timezone.now(),
        progress=0,
        message="正在导入",
        heartbeat_at=timezone.now(),  # queued now: the lost-job sweep counts from here
    )
    set_progress(locked.pk, 0)
    if enqueue:
        outbox.run_task(COMMIT_TASK, import_id=locked.pk)
    return locked


def _recheck(roster_import: RosterImport, *, enqueue: bool, **values) -> RosterImport:
    """Back to 已上传 and check again (same file): after a mapping or another sheet was chosen."""
    update(
        roster_import,
        status=RosterImport.Status.UPLOADED,
        message="正在重新校验",
        progress=0,
        errors=[],
        error_count=0,
        unknown_names=[],
        preview=[],
        skipped=[],
        finished_at=None,
        heartbeat_at=timezone.now(),  # queued now: the lost-job sweep counts from here
        **values,
    )
    set_progress(roster_import.pk, 0)
    if enqueue:
        outbox.run_task(CHECK_TASK, import_id=roster_import.pk)
    return roster_import


def _locked_for_recheck(actor, roster_import: RosterImport) -> RosterImport:
    locked = RosterImport.objects.for_user(actor).select_for_update().filter(pk=roster_import.pk).first()
    if locked is None:
        raise ValidationError("导入记录不存在或不在您的管辖范围内")
    if locked.status not in {RosterImport.Status.READY, RosterImport.Status.FAILED} or not locked.file:
        raise ValidationError(f"当前状态为“{locked.get_status_display()}”，不能重新校验，请重新上传")
    return locked


@transaction.atomic
def roster_choose_sheet(*, actor, roster_import: RosterImport, sheet_name: str, enqueue: bool = True) -> RosterImport:
    """The cadre picks which worksheet of the workbook is the roster; it is checked again."""
    require(actor, "registry.import")
    locked = _locked_for_recheck(actor, roster_import)
    if sheet_name not in locked.sheet_names:
        raise ValidationError("请从列出的工作表中选择")
    return _recheck(locked, enqueue=enqueue, sheet_name=sheet_name)


@transaction.atomic
def roster_map_names(*, actor, roster_import: RosterImport, choices: dict[int, int], enqueue: bool = True) -> RosterImport:
    """Save the cadre's picks for the preview's unknown names as the town's aliases (audited) and
    check the roster again with them. ``choices``: index in unknown_names -> the id picked."""
    require(actor, "registry.import")
    locked = _locked_for_recheck(actor, roster_import)
    saved = 0
    for index, target_id in choices.items():
        if not target_id or not 0 <= index < len(locked.unknown_names):
            continue
        entry = locked.unknown_names[index]
        name_aliases.name_alias_set(
            actor=actor,
            town_id=locked.town_id,
            kind=entry["kind"],
            name=entry["name"],
            target_id=target_id,
            in_village_id=entry.get("village_id"),
        )
        saved += 1
    if not saved:
        raise ValidationError("请至少为一个名称选择对应项")
    return _recheck(locked, enqueue=enqueue)


def suggested_choices(roster_import: RosterImport) -> dict[int, int]:
    """What a cadre accepting every suggestion would pick: the first suggestion of each name."""
    return {i: e["suggestions"][0]["id"] for i, e in enumerate(roster_import.unknown_names) if e["suggestions"]}


@transaction.atomic
def roster_retry(*, actor, roster_import: RosterImport) -> RosterImport:
    """重试: a job that died is checked again from the kept file; the person then confirms as usual
    (the registry may have changed since). A second click does nothing."""
    require(actor, "registry.import")
    locked = RosterImport.objects.for_user(actor).select_for_update().filter(pk=roster_import.pk).first()
    if locked is None:
        raise ValidationError("导入记录不存在或不在您的管辖范围内")
    if locked.is_running:
        return locked
    if not locked.can_retry:
        raise ValidationError(f"当前状态为“{locked.get_status_display()}”，不能重试；请重新上传")
    update(locked, status=RosterImport.Status.UPLOADED, progress=0, message="", finished_at=None, heartbeat_at=timezone.now())
    set_progress(locked.pk, 0)
    outbox.run_task(CHECK_TASK, import_id=locked.pk)
    return locked


def error_download(*, actor, roster_import: RosterImport):
    """The error workbook the worker built, opened for sending. Logged: the file carries the
    uploader's own whole ID numbers. None when there is none (no errors, or discarded after a week)."""
    require(actor, "registry.import")
    if not roster_import.error_file:
        return None
    handle = roster_import.error_file.open("rb")
    with transaction.atomic():
        audit.record_personal_data_access(
            actor=actor,
            what=f"花名册导入错误清单（{roster_import.original_name}）",
            count=_rows_with_errors(roster_import),
            town=roster_import.town_id,
            filters={"import": roster_import.pk},
        )
    return handle


def _rows_with_errors(roster_import: RosterImport) -> int:
    rows = len({e.get("row") for e in roster_import.errors if e.get("row")})
    # Only the first errors are kept on the row; past them, every further problem may be a person.
    return rows + max(roster_import.error_count - len(roster_import.errors), 0)
