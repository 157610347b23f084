"""The background steps of an import, run by towns/tasks.py: the dry run (``run_check``), the
all-or-nothing write (``run_commit``), a dead job marked failed, and the housekeeping sweeps.

Both steps stream the sheet from the kept upload and build the error workbook when there are
errors, so no web request ever reads a roster or builds a workbook.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core import jobs, outbox
from core.permissions import require
from core.scoping import unscoped
from towns.models import RosterImport
from towns.roster_import.check import analyse
from towns.roster_import.commit import lock_town, write
from towns.roster_import.parse import ERROR_DISPLAY_LIMIT, Rejected, open_sheet
from towns.roster_import.records import discard_error_file, discard_file, load, set_progress, update
from towns.roster_import.rows import Analysis
from towns.roster_import.workbook import build_error_workbook


@contextlib.contextmanager
def _opened(roster_import: RosterImport):
    with (
        roster_import.file.open("rb") as handle,
        open_sheet(
            handle, size=roster_import.file.size, name=roster_import.original_name, sheet_name=roster_import.sheet_name
        ) as sheet,
    ):
        yield sheet


def _errors_found(roster_import: RosterImport, result: Analysis, sheet) -> dict:
    """What the row keeps of the errors (the first for the page, the count), after writing all of
    them into the error workbook."""
    discard_error_file(roster_import)
    if result.errors:
        build_error_workbook(roster_import, sheet=sheet, header=result.header, errors=result.errors)
    return {"errors": result.errors[:ERROR_DISPLAY_LIMIT], "error_count": len(result.errors)}


def _refused(roster_import: RosterImport, refused: Rejected) -> RosterImport:
    update(roster_import, status=RosterImport.Status.REJECTED, message=str(refused), progress=100, finished_at=timezone.now())
    discard_file(roster_import)
    return roster_import


def run_check(import_id: int) -> RosterImport:
    """The full dry run: counts and errors on the RosterImport, nothing written to the registry."""
    roster_import = load(import_id)
    if roster_import.status not in {RosterImport.Status.UPLOADED, RosterImport.Status.CHECKING}:
        return roster_import  # already checked: a redelivered job does nothing
    actor = roster_import.uploaded_by.user
    require(actor, "registry.import")
    update(roster_import, status=RosterImport.Status.CHECKING, progress=0)
    set_progress(import_id, 0)
    try:
        with _opened(roster_import) as sheet:
            result = analyse(
                sheet, actor=actor, town_id=roster_import.town_id, progress=lambda p: set_progress(import_id, p * 9 // 10)
            )
            unknown = result.unknown_names() if result.ref else []
            found = _errors_found(roster_import, result, sheet)
            names = sheet.names
    except Rejected as refused:
        return _refused(roster_import, refused)
    status = RosterImport.Status.FAILED if result.errors else RosterImport.Status.READY
    update(
        roster_import,
        status=status,
        message=_check_message(result, unknown),
        sheet_names=names,
        skipped=result.skipped,
        unknown_names=unknown,
        preview=[result.preview[n] for n in sorted(result.preview)],
        total_rows=result.total_rows,
        to_create=len(result.creates),
        to_update=len(result.updates),
        unchanged=result.unchanged,
        progress=100,
        finished_at=timezone.now() if result.errors else None,
        **found,
    )
    set_progress(import_id, 100)
    return roster_import


def _check_message(result: Analysis, unknown: list) -> str:
    if result.errors:
        message = f"发现 {len(result.errors):,} 处问题，请修改后重新上传（有错误时不导入任何数据）"
        if unknown:
            message += f"；另有 {len(unknown)} 个名称需要对应"
        return message
    if unknown:
        return f"有 {len(unknown)} 个名称与本镇的村（社区）、网格或人员类别对不上，请逐个选择对应后继续"
    return "校验通过，请核对后确认导入"


class _StillInvalid(Exception):
    def __init__(self, result: Analysis):
        self.result = result


def run_commit(import_id: int) -> RosterImport:
    """Check again and write everything in one transaction, or nothing."""
    roster_import = load(import_id)
    if roster_import.status != RosterImport.Status.IMPORTING:
        return roster_import  # done already (or never confirmed): a redelivered job does nothing
    actor = roster_import.confirmed_by.user
    require(actor, "registry.import")
    set_progress(import_id, 1)
    try:
        with _opened(roster_import) as sheet:
            try:
                _commit(roster_import, sheet, actor)
            except _StillInvalid as invalid:
                result = invalid.result
                update(
                    roster_import,
                    status=RosterImport.Status.FAILED,
                    unknown_names=result.unknown_names() if result.ref else [],
                    to_create=len(result.creates),
                    to_update=len(result.updates),
                    unchanged=result.unchanged,
                    progress=100,
                    finished_at=timezone.now(),
                    message=f"确认后信息库已有变动，重新校验发现 {len(result.errors):,} 处问题，未导入任何数据。请修改后重新上传",
                    **_errors_found(roster_import, result, sheet),
                )
                set_progress(import_id, 100)
                return roster_import
    except Rejected as refused:
        return _refused(roster_import, refused)
    set_progress(import_id, 100)
    discard_file(roster_import)
    return roster_import


def _commit(roster_import: RosterImport, sheet, actor) -> None:
    import_id = roster_import.pk
    with transaction.atomic():
        lock_town(roster_import.town_id)
        result = analyse(
            sheet, actor=actor, town_id=roster_import.town_id, progress=lambda p: set_progress(import_id, p * 3 // 10), lock=True
        )
        if result.errors or result.unknown:
            raise _StillInvalid(result)
        write(result, roster_import=roster_import, actor=actor, progress=lambda p: set_progress(import_id, 30 + p * 7 // 10))
        update(
            roster_import,
            status=RosterImport.Status.DONE,
            to_create=len(result.creates),
            to_update=len(result.updates),
            unchanged=result.unchanged,
            total_rows=result.total_rows,
            progress=100,
            finished_at=timezone.now(),
            message=f"已导入：新增 {len(result.creates):,} 人，更新 {len(result.updates):,} 人，无变化 {result.unchanged:,} 人",
        )
        # New or changed people change who the town's campaigns target (dashboards).
        outbox.town_registry_changed(roster_import.town_id)


def mark_failed(import_id: int, message: str) -> None:
    """A job died: say so on the row (its transaction, if any, has rolled back: nothing written)."""
    RosterImport._base_manager.filter(pk=import_id).exclude(status=RosterImport.Status.DONE).update(
        status=RosterImport.Status.FAILED, message=message[:300], progress=100, finished_at=timezone.now()
    )
    set_progress(import_id, 100)


# --- housekeeping ---------------------------------------------------------------------------

KEEP_UNIMPORTED_FILES = timedelta(days=7)

LOST_MESSAGES = {
    RosterImport.Status.UPLOADED: "后台处理未能开始（可能正在维护），未写入任何数据。请点击“重试”",
    RosterImport.Status.CHECKING: "校验中断（后台处理程序停止），未写入任何数据。请点击“重试”",
    RosterImport.Status.IMPORTING: "导入中断（后台处理程序停止），已全部撤销，未写入任何数据。请点击“重试”",
}


def sweep_lost(*, now=None) -> int:
    """Every few minutes (beat): a job whose heartbeat stopped (core/jobs.py) is marked failed
    with a retry button. Its transaction rolled back with the process: nothing was written."""
    with unscoped():
        lost = list(
            jobs.stale(
                RosterImport._base_manager.all(),
                running=(RosterImport.Status.CHECKING, RosterImport.Status.IMPORTING),
                queued=(RosterImport.Status.UPLOADED,),
                now=now,
            ).values_list("pk", "status")
        )
    for import_id, status in lost:
        mark_failed(import_id, LOST_MESSAGES[status])
    return len(lost)


def sweep(*, now=None) -> dict:
    """Nightly: a job lost long ago is marked failed (sweep_lost does this within minutes), and
    rosters never imported lose their file and error workbook after a week: they hold whole ID numbers."""
    now = now or timezone.now()
    running = [RosterImport.Status.UPLOADED, RosterImport.Status.CHECKING, RosterImport.Status.IMPORTING]
    lost = sweep_lost(now=now)
    old = RosterImport._base_manager.exclude(status__in=running).filter(created_at__lt=now - KEEP_UNIMPORTED_FILES)
    discarded = 0
    for roster_import in old.exclude(file="", error_file=""):
        discarded += bool(roster_import.file)
        discard_file(roster_import)
        discard_error_file(roster_import)
    return {"stale": lost, "files_discarded": discarded}
