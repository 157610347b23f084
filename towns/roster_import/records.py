"""The RosterImport row's bookkeeping: progress for the polling page, updates, the kept files.

Progress goes to the cache (``import-progress:<id>``) because the commit's transaction hides its
own writes to the RosterImport row from the page that polls it.
"""

from __future__ import annotations

from django.core.cache import cache
from django.core.exceptions import ValidationError

from core.scoping import unscoped
from towns.models import Cadre, RosterImport


def progress_key(import_id: int) -> str:
    return f"import-progress:{import_id}"


def current_progress(roster_import: RosterImport) -> int:
    if roster_import.is_running:
        return cache.get(progress_key(roster_import.pk), roster_import.progress)
    return roster_import.progress


def set_progress(import_id: int, percent: int) -> None:
    cache.set(progress_key(import_id), max(0, min(100, int(percent))), timeout=3600)


def load(import_id: int) -> RosterImport:
    with unscoped():  # jobs resolve the import by id; its town and uploader come from the row
        return RosterImport.objects.select_related("town", "uploaded_by__user", "confirmed_by__user").get(pk=import_id)


def update(roster_import: RosterImport, **values) -> None:
    for name, value in values.items():
        setattr(roster_import, name, value)
    RosterImport._base_manager.filter(pk=roster_import.pk).update(**values)


def discard_file(roster_import: RosterImport) -> None:
    # The roster holds whole ID numbers: once it is imported or refused nobody needs it.
    if roster_import.file:
        roster_import.file.delete(save=False)
        RosterImport._base_manager.filter(pk=roster_import.pk).update(file="")


def discard_error_file(roster_import: RosterImport) -> None:
    # The error workbook is the roster again, row for row: it goes when the roster goes.
    if roster_import.error_file:
        roster_import.error_file.delete(save=False)
        RosterImport._base_manager.filter(pk=roster_import.pk).update(error_file="")


def actor_town(actor) -> Cadre:
    cadre = Cadre._base_manager.select_related("town").filter(user_id=actor.pk).first()
    if cadre is None or cadre.town_id is None:
        raise ValidationError("只有镇（街道）的干部可以导入本镇花名册")
    return cadre
