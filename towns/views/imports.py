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

from core.decorators import permission_required
from core.scoping import get_for_user_or_404
from towns.models import RosterImport
from towns.roster_import import actions, selectors
from towns.roster_import.parse import MAX_BYTES, MAX_ROWS
from towns.roster_import.workbook import template_workbook

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


@permission_required("registry.import")
@require_safe
def import_detail(request, pk):
    """Status, progress while a job runs (htmx polls this page's status block), then the preview."""
    roster_import = get_for_user_or_404(RosterImport.objects.select_related("uploaded_by", "confirmed_by"), request.user, pk=pk)
    context = selectors.detail(
        request.user, roster_import, show=request.GET.get("show", "all"), page=request.GET.get("page", "1")
    )
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
