"""Roster import pages (issue 4 §5): upload, the preview with its errors, confirm, downloads.

Only holders of registry.import (town cadres and admins) see imports, and only their town's:
another town's import is a 404. The work itself is towns/imports.py, run as Celery jobs.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from towns import imports
from towns.decorators import permission_required
from towns.models import RosterImport
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
        help_text="Excel 工作簿，不超过 20 MB、10 万行；表头须含 姓名、身份证号、村（社区）、网格、人员类别。",
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
        roster_import = imports.roster_upload(actor=request.user, upload=form.cleaned_data["file"])
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
    context = {
        "imp": roster_import,
        "progress": imports.current_progress(roster_import),
        "errors": roster_import.errors[: imports.ERROR_DISPLAY_LIMIT],
        "errors_hidden": max(len(roster_import.errors) - imports.ERROR_DISPLAY_LIMIT, 0),
    }
    template = "towns/_import_status.html" if request.htmx else "towns/import_detail.html"
    return render(request, template, context)


@permission_required("registry.import")
@require_POST
def import_confirm(request, pk):
    roster_import = get_for_user_or_404(RosterImport, request.user, pk=pk)
    try:
        imports.roster_confirm(actor=request.user, roster_import=roster_import)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    return redirect("towns:import_detail", pk=roster_import.pk)


@permission_required("registry.import")
@require_POST
def import_retry(request, pk):
    """重试 an import whose job died: checked again from the kept file, then confirmed as usual."""
    roster_import = get_for_user_or_404(RosterImport, request.user, pk=pk)
    try:
        imports.roster_retry(actor=request.user, roster_import=roster_import)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    return redirect("towns:import_detail", pk=roster_import.pk)


@permission_required("registry.import")
@require_safe
def import_errors(request, pk):
    roster_import = get_for_user_or_404(RosterImport.objects.select_related("town"), request.user, pk=pk)
    data = imports.error_workbook(actor=request.user, roster_import=roster_import)
    stem = roster_import.original_name.rsplit(".", 1)[0]
    return _xlsx(data, f"{stem}-错误清单.xlsx")


@permission_required("registry.import")
@require_safe
def import_template(request):
    return _xlsx(imports.template_workbook(actor=request.user), "重点人群花名册导入模板.xlsx")
