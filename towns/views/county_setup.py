"""County setup pages (issue 16 §1): upload the three files, preview, confirm, print the passwords once.

The work is towns/county_setup/. Uploaded files wait in a private folder between the preview
and the confirmation (the confirmation checks them again under the lock); the one-time passwords
live only in the admin's session and are dropped the first time the print page is shown.
"""

import shutil
import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.decorators import permission_required
from core.models import AuditRecord
from towns.county_setup import workbooks, writing
from towns.county_setup.plan import analyse
from towns.roster_import.parse import ERROR_DISPLAY_LIMIT, MAX_BYTES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_FILES = "county_setup_token"
SESSION_PASSWORDS = "county_setup_passwords"
KINDS = ("map", "categories", "cadres")
KEEP_SECONDS = 24 * 3600


def _root() -> Path:
    return Path(settings.MEDIA_ROOT) / "private" / "county-setup"


def _sweep() -> None:
    # Previews never confirmed: their files go after a day.
    root = _root()
    if root.exists():
        for folder in root.iterdir():
            if folder.is_dir() and time.time() - folder.stat().st_mtime > KEEP_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)


def _file_field(label):
    return forms.FileField(
        label=label,
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx", "class": "form-control"}),
    )


class SetupForm(forms.Form):
    map = _file_field("区划网格（镇街道、村社区、网格）")
    categories = _file_field("人群类别")
    cadres = _file_field("干部账号")

    def clean(self):
        data = super().clean()
        if not any(data.get(k) for k in KINDS):
            raise forms.ValidationError("请至少选择一个文件")
        return data


def _files(folder: Path) -> dict:
    out = {}
    for kind in KINDS:
        path = folder / f"{kind}.xlsx"
        if path.exists():
            out[f"{kind}_file"] = (path.open("rb"), path.stat().st_size, path.name)
    return out


def _analyse(folder: Path):
    files = _files(folder)
    try:
        return analyse(**files)
    finally:
        for handle, _, _ in files.values():
            handle.close()


@permission_required("county.setup")
@require_http_methods(["GET", "POST"])
def setup(request):
    """Upload (POST) checks the files and shows the preview; nothing is written yet."""
    form = SetupForm(request.POST, request.FILES) if request.method == "POST" else SetupForm()
    plan = None
    if request.method == "POST" and form.is_valid():
        _sweep()
        token = uuid.uuid4().hex
        folder = _root() / token
        folder.mkdir(parents=True)
        for kind in KINDS:
            upload = form.cleaned_data.get(kind)
            if not upload:
                continue
            if upload.size > MAX_BYTES:
                form.add_error(kind, f"文件超过 {MAX_BYTES // 1024 // 1024} MB 的上限")
                continue
            with (folder / f"{kind}.xlsx").open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            if not upload.name.lower().endswith(".xlsx"):
                form.add_error(kind, "请上传 Excel 工作簿（.xlsx）文件")
        if form.errors:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            plan = _analyse(folder)
            request.session[SESSION_FILES] = token
            if not plan.ok:
                shutil.rmtree(folder, ignore_errors=True)
                request.session.pop(SESSION_FILES, None)
    return render(
        request,
        "towns/county_setup.html",
        {"form": form, "plan": plan, "templates": workbooks.TEMPLATE_NAMES, "problem_limit": ERROR_DISPLAY_LIMIT},
    )


@permission_required("county.setup")
@require_POST
def setup_confirm(request):
    token = request.session.get(SESSION_FILES) or ""
    folder = _root() / token
    if not token or not token.isalnum() or not folder.is_dir():
        messages.error(request, "没有待确认的导入，请重新上传文件")
        return redirect("towns:county_setup")
    plan = _analyse(folder)
    if not plan.ok:
        # The database changed since the preview (another admin): show the new problems.
        messages.error(request, "数据在预览后有变化，请重新上传文件检查")
        return redirect("towns:county_setup")
    passwords = writing.apply(actor=request.user, plan=plan, channel=AuditRecord.Channel.WEB)
    shutil.rmtree(folder, ignore_errors=True)
    request.session.pop(SESSION_FILES, None)
    messages.success(request, "导入完成：" + "；".join(plan.summary()))
    if passwords:
        request.session[SESSION_PASSWORDS] = passwords
        return redirect("towns:county_setup_passwords")
    return redirect("towns:county_setup")


@permission_required("county.setup")
@require_safe
def setup_passwords(request):
    """The new accounts' one-time passwords, by town, ready to print: shown once, then gone."""
    passwords = request.session.pop(SESSION_PASSWORDS, None)
    by_town: dict[str, list] = {}
    for p in passwords or []:
        by_town.setdefault(p["town"], []).append(p)
    response = render(request, "towns/county_setup_passwords.html", {"by_town": by_town})
    response["Cache-Control"] = "no-store"
    return response


@permission_required("county.setup")
@require_safe
def setup_template(request, kind):
    if kind not in KINDS:
        raise Http404
    response = HttpResponse(workbooks.template(kind), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, workbooks.TEMPLATE_NAMES[kind])
    return response
