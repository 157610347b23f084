"""The exports page (issue 7 §3): a user's files of the last days, their progress, and the downloads.

Export buttons on the list pages POST here with the page's filter in the query string; the file is
built by a Celery job. Only the requester sees or downloads a job (another user's id is a 404).
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from core.decorators import permission_required
from core.scoping import get_for_user_or_404
from reports import export_services
from reports.exporters import EXPORTERS
from reports.models import ExportJob
from visits.models import Campaign

RECENT_LIMIT = 50


@permission_required("export.personal")
@require_safe
def exports(request):
    user = request.user
    jobs = list(
        ExportJob.objects.for_user(user)
        .filter(created_at__gte=timezone.now() - export_services.retention())
        .order_by("-created_at", "-id")[:RECENT_LIMIT]
    )
    context = {"jobs": jobs, "running": any(job.active for job in jobs), "days": settings.EXPORT_RETENTION_DAYS}
    if request.htmx:
        return render(request, "reports/_export_jobs.html", context)
    context["campaigns"] = Campaign.objects.for_user(user).order_by("-starts_on").only("id", "name")[:50]
    return render(request, "reports/exports.html", context)


@permission_required("export.personal")
@require_POST
def export_start(request):
    """Queue an export: ``name`` in the form, the list page's filter in the query string (or the form, for coverage)."""
    name = request.POST.get("name", "")
    params = request.GET.copy()
    for key in ("after", "before", "page"):
        params.pop(key, None)  # paging is not a filter
    for key in ("campaign", "town"):
        if request.POST.get(key):
            params[key] = request.POST[key]
    try:
        job = export_services.export_request(actor=request.user, name=name, params=params)
    except ValidationError as error:
        messages.error(request, "无法导出：" + "；".join(error.messages))
    else:
        messages.success(request, f"已开始生成“{job.title}”，完成后可在本页下载。")
    return redirect("reports:exports")


@permission_required("export.personal")
@require_POST
def export_retry(request, pk):
    """重试 a failed export: the same rows asked again, as a new job."""
    job = get_for_user_or_404(ExportJob.objects.all(), request.user, pk=pk)
    try:
        new = export_services.export_retry(actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, "无法重试：" + "；".join(error.messages))
    else:
        messages.success(request, f"已重新开始生成“{new.title}”，完成后可在本页下载。")
    return redirect("reports:exports")


@permission_required("export.personal")
@require_safe
def export_download(request, pk):
    job = get_for_user_or_404(ExportJob.objects.all(), request.user, pk=pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404("文件尚未生成或已删除")
    try:
        handle = export_services.export_download(actor=request.user, job=job)
    except FileNotFoundError:
        raise Http404("文件已删除，请重新导出") from None
    stamp = timezone.localtime(job.finished_at or job.created_at)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{EXPORTERS[job.exporter].title}-{stamp:%Y%m%d-%H%M}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "private, no-store"
    return response
