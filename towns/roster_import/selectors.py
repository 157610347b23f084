"""What the import page shows: the preview filtered and paged, the mapping form's choices, the
status block. Reads only; the view parses the request and renders what these return."""

from __future__ import annotations

from towns.models import Category, GridCell, RosterImport, Village
from towns.roster_import import rows as roster_rows
from towns.roster_import.parse import ERROR_DISPLAY_LIMIT
from towns.roster_import.records import current_progress

PREVIEW_PAGE = 200
SHOW = {"all": "全部", "changed": "只看写入值与文件不同的", "errors": "只看有问题的"}
STATUS_LABELS = {
    "new": "新增",
    "update": "更新",
    "same": "无变化",
    "error": "有问题",
    "pending": "待对应名称",
    "ok": "",
}


def preview_page(roster_import: RosterImport, *, show: str, page: str) -> dict:
    """The per-row preview, filtered (all / changed / errors) and cut into pages of PREVIEW_PAGE rows."""
    if show not in SHOW:
        show = "all"
    rows = roster_import.preview
    if show == "changed":
        rows = [r for r in rows if r["changes"]]
    elif show == "errors":
        rows = [r for r in rows if r["status"] in ("error", "pending")]
    try:
        page = max(int(page or "1"), 1)
    except ValueError:
        page = 1
    pages = max((len(rows) + PREVIEW_PAGE - 1) // PREVIEW_PAGE, 1)
    page = min(page, pages)
    shown = [dict(r, label=STATUS_LABELS.get(r["status"], "")) for r in rows[(page - 1) * PREVIEW_PAGE : page * PREVIEW_PAGE]]
    return {
        "show": show,
        "show_options": SHOW.items(),
        "preview_rows": shown,
        "preview_count": len(rows),
        "preview_page": page,
        "preview_pages": pages,
        "preview_cut": len(roster_import.preview) >= roster_rows.PREVIEW_LIMIT,
    }


def mapping_choices(actor, roster_import: RosterImport) -> list[dict]:
    """For each unknown name: the suggestions first, then everything it could map to (3 queries at most)."""
    entries = roster_import.unknown_names
    if not entries:
        return []
    kinds = {e["kind"] for e in entries}
    villages = cells = categories = []
    if "village" in kinds:
        villages = [(v.pk, v.name) for v in Village.objects.for_user(actor).filter(town_id=roster_import.town_id)]
    if "cell" in kinds:
        wanted = {e["village_id"] for e in entries if e["kind"] == "cell"}
        cells = list(
            GridCell.objects.for_user(actor)
            .filter(town_id=roster_import.town_id, village_id__in=wanted, level=GridCell.Level.SMALL)
            .order_by("code")
            .values_list("village_id", "pk", "name")
        )
    if "category" in kinds:
        categories = [(c.pk, c.name) for c in Category.objects.all()]
    out = []
    for index, entry in enumerate(entries):
        if entry["kind"] == "village":
            options = villages
        elif entry["kind"] == "cell":
            options = [(pk, name) for village_id, pk, name in cells if village_id == entry["village_id"]]
        else:
            options = categories
        suggested = {s["id"] for s in entry["suggestions"]}
        out.append(
            {
                **entry,
                "index": index,
                "field": f"name-{index}",
                "kind_label": KIND_LABELS.get(entry["kind"], ""),
                "selected": entry["suggestions"][0]["id"] if entry["suggestions"] else None,
                "others": [(pk, name) for pk, name in options if pk not in suggested],
            }
        )
    return out


KIND_LABELS = {"village": "村（社区）", "cell": "网格", "category": "人员类别"}


def detail(actor, roster_import: RosterImport, *, show: str, page: str) -> dict:
    """Everything the import page shows (the mapping form only once no job is running)."""
    shown_errors = roster_import.errors[:ERROR_DISPLAY_LIMIT]
    return {
        "imp": roster_import,
        "progress": current_progress(roster_import),
        "errors": shown_errors,
        "errors_hidden": max(roster_import.error_count - len(shown_errors), 0),
        "mapping": mapping_choices(actor, roster_import) if not roster_import.is_running else [],
        **preview_page(roster_import, show=show, page=page),
    }
