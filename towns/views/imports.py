"""Roster import pages (issue 4 §5): upload, the preview with its errors, confirm, downloads.

Only holders of registry.import (town cadres and admins) see imports, and only their town's:
another town's import is a 404. The work itself is towns/roster_import/, run as Celery jobs.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from towns.decorators import permission_required
from towns.models import Category, GridCell, RosterImport, Village
from towns.roster_import import actions, records
from towns.roster_import import rows as roster_rows
from towns.roster_import.parse import ERROR_DISPLAY_LIMIT, MAX_BYTES, MAX_ROWS
from towns.roster_import.workbook import template_workbook
from towns.scoping import get_for_user_or_404

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECENT = 20


class UploadForm(forms.Form):
    file = forms.FileField(
        label="花名册文件（.xlsx）",
        error_messages={"required": "请选择要上传的花名册文件", "empty": "文件是空的，请重新选择文件"},
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "class": "form-control"}
        ),
        help_text=f"Excel 工作簿，不超过 {MAX_BYTES // (1024 * 1024)} MB、{MAX_ROWS // 10000} 万行；"
        "表头须含 姓名、身份证号、村（社区）、网格、人员类别。",
    )


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"  # holds personal data: no copies in shared caches
    return response


@permission_required("registry.import")
@require_http_methods(["GET", "POST"])
def import_list(request):
    """Upload form and the town's recent imports."""
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        roster_import = actions.roster_upload(actor=request.user, upload=form.cleaned_data["file"])
        if roster_import.status == RosterImport.Status.REJECTED:
            form.add_error("file", roster_import.message)
        else:
            return redirect("towns:import_detail", pk=roster_import.pk)
    recent = RosterImport.objects.for_user(request.user).select_related("uploaded_by").defer("errors")[:RECENT]
    return render(request, "towns/import_list.html", {"form": form, "imports": recent})


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


def _preview_page(request, roster_import):
    """The per-row preview, filtered (all / changed / errors) and cut into pages of PREVIEW_PAGE rows."""
    show = request.GET.get("show", "all")
    if show not in SHOW:
        show = "all"
    rows = roster_import.preview
    if show == "changed":
        rows = [r for r in rows if r["changes"]]
    elif show == "errors":
        rows = [r for r in rows if r["status"] in ("error", "pending")]
    try:
        page = max(int(request.GET.get("page", "1")), 1)
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


def _mapping_choices(request, roster_import):
    """For each unknown name: the suggestions first, then everything it could map to (3 queries at most)."""
    entries = roster_import.unknown_names
    if not entries:
        return []
    kinds = {e["kind"] for e in entries}
    villages = cells = categories = []
    if "village" in kinds:
        villages = [(v.pk, v.name) for v in Village.objects.for_user(request.user).filter(town_id=roster_import.town_id)]
    if "cell" in kinds:
        wanted = {e["village_id"] for e in entries if e["kind"] == "cell"}
        cells = list(
            GridCell.objects.for_user(request.user)
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


@permission_required("registry.import")
@require_safe
def import_detail(request, pk):
    """Status, progress while a job runs (htmx polls this page's status block), then the preview."""
    roster_import = get_for_user_or_404(RosterImport.objects.select_related("uploaded_by", "confirmed_by"), request.user, pk=pk)
    context = {
        "imp": roster_import,
        "progress": records.current_progress(roster_import),
        "errors": roster_import.errors[:ERROR_DISPLAY_LIMIT],
        "errors_hidden": max(roster_import.error_count - len(roster_import.errors[:ERROR_DISPLAY_LIMIT]), 0),
        "mapping": _mapping_choices(request, roster_import) if not roster_import.is_running else [],
        **_preview_page(request, roster_import),
    }
    template = "towns/_import_status.html" if request.htmx else "towns/import_detail.html"
    return render(request, template, context)


@permission_required("registry.import")
@require_POST
def import_confirm(request, pk):
    roster_import = get_for_user_or_404(RosterImport, request.user, pk=pk)
    try:
        actions.roster_confirm(actor=request.user, roster_import=roster_import)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    return redirect("towns:import_detail", pk=roster_import.pk)


@permission_required("registry.import")
@require_POST
def import_map(request, pk):
    """The cadre's picks for the unknown names: saved as the town's aliases, then checked again."""
    roster_import = get_for_user_or_404(RosterImport, request.user, pk=pk)
    choices = {}
    for index in range(len(roster_import.unknown_names)):
        value = request.POST.get(f"name-{index}", "")
        if value.isdigit():
            choices[index] = int(value)
    try:
        actions.roster_map_names(actor=request.user, roster_import=roster_import, choices=choices)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, "名称对应已保存，以后本镇的花名册都按此对应；正在重新校验")
    return redirect("towns:import_detail", pk=roster_import.pk)


@permission_required("registry.import")
@require_POST
def import_sheet(request, pk):
    """Read another worksheet of the same workbook."""
    roster_import = get_for_user_or_404(RosterImport, request.user, pk=pk)
    try:
        actions.roster_choose_sheet(actor=request.user, roster_import=roster_import, sheet_name=request.POST.get("sheet", ""))
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    return redirect("towns:import_detail", pk=roster_import.pk)


@permission_required("registry.import")
@require_POST
def import_retry(request, pk):
    """重试 an import whose job died: checked again from the kept file, then confirmed as usual."""
    roster_import = get_for_user_or_404(RosterImport, request.user, pk=pk)
    try:
        actions.roster_retry(actor=request.user, roster_import=roster_import)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    return redirect("towns:import_detail", pk=roster_import.pk)


@permission_required("registry.import")
@require_safe
def import_errors(request, pk):
    """The error workbook the worker built, sent as a file (never built here)."""
    roster_import = get_for_user_or_404(RosterImport, request.user, pk=pk)
    handle = actions.error_download(actor=request.user, roster_import=roster_import)
    if handle is None:
        raise Http404("没有错误清单")
    stem = roster_import.original_name.rsplit(".", 1)[0]
    response = FileResponse(handle, as_attachment=True, filename=f"{stem}-错误清单.xlsx", content_type=XLSX)
    response["Cache-Control"] = "no-store"  # holds personal data: no copies in shared caches
    return response


@permission_required("registry.import")
@require_safe
def import_template(request):
    return _xlsx(template_workbook(actor=request.user), "重点人群花名册导入模板.xlsx")
