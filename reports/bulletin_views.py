"""The bulletin editor (组织部, ``bulletin.edit``) and the towns' submissions (``bulletin.submit``), issue 7 §2.

Thin: forms check the input, reports/bulletin_services.py makes every change (and refuses all of
them once the issue is published). Each action is an ordinary POST that redirects back to the
editor, so it works without JavaScript; htmx (hx-boost on the editor) only saves the page reload.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.decorators import permission_required
from core.permissions import can
from core.scoping import get_for_user_or_404
from core.services import add_service_errors
from reports import bulletin_docx, bulletin_selectors, bulletin_services
from reports.bulletin_forms import DraftForm, HeaderForm, ItemForm, NumberingForm, SubmissionForm
from reports.models import Bulletin, BulletinItem, BulletinSubmission
from reports.views import list_context
from towns.dates import cn_date

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _errors(error: ValidationError) -> list[str]:
    return [m for ms in error.message_dict.values() for m in ms] if hasattr(error, "error_dict") else error.messages


def _editor_context(request, bulletin, *, header_form=None) -> dict:
    items = bulletin_selectors.editor_items(bulletin)
    return {
        "bulletin": bulletin,
        "number": bulletin_selectors.display_number(bulletin),
        "items": items,
        "used_ids": {item.submission_id for item in items if item.submission_id},
        "draft_form": DraftForm(initial={"week": bulletin.week_start}),
        "submissions": bulletin_selectors.week_submissions(request.user, bulletin.week_start),
        "header_form": header_form or HeaderForm(instance=bulletin),
        "week_not_ended": bulletin_services.week_not_ended_message(bulletin),
    }


@permission_required("bulletin.edit")
@require_POST
def bulletin_draft_new(request):
    form = DraftForm(request.POST)
    if form.is_valid():
        try:
            bulletin = bulletin_services.draft(actor=request.user, week_start=form.monday())
        except ValidationError as error:
            for message in _errors(error):
                form.add_error(None, message)
        else:
            messages.success(request, f"已生成{cn_date(form.monday())}起一周的组工信息草稿。")
            return redirect("reports:bulletin_edit", pk=bulletin.pk)
    return render(request, "reports/bulletin_list.html", list_context(request, draft_form=form), status=400)


@permission_required("bulletin.edit")
@require_POST
def bulletin_numbering(request):
    """The editor sets where the series stands (下一期为第119期) and whether it restarts each year."""
    form = NumberingForm(request.POST)
    if form.is_valid():
        try:
            bulletin_services.set_numbering(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已设置：下一期为第{form.cleaned_data['next_number']}期。")
            return redirect("reports:bulletin_list")
    return render(request, "reports/bulletin_list.html", list_context(request, numbering_form=form), status=400)


@permission_required("bulletin.edit")
@require_http_methods(["GET", "POST"])
def bulletin_edit(request, pk):
    bulletin = get_object_or_404(Bulletin, pk=pk)
    form = None
    if request.method == "POST":
        form = HeaderForm(request.POST, instance=Bulletin.objects.get(pk=pk))
        if form.is_valid():
            try:
                bulletin_services.update_header(
                    actor=request.user, bulletin=bulletin, **{f: form.cleaned_data[f] for f in HeaderForm.Meta.fields}
                )
            except ValidationError as error:
                for message in _errors(error):
                    form.add_error(None, message)
            else:
                messages.success(request, "已保存刊头和报送范围。")
                return redirect("reports:bulletin_edit", pk=pk)
    return render(request, "reports/bulletin_edit.html", _editor_context(request, bulletin, header_form=form))


ITEM_ACTIONS = {"up", "down", "include", "exclude", "remove", "save"}


@permission_required("bulletin.edit")
@require_http_methods(["GET", "POST"])
def bulletin_item(request, pk, item_pk):
    """GET: the item's edit form. POST action=save|up|down|include|exclude|remove."""
    item = get_object_or_404(BulletinItem.objects.select_related("bulletin", "town"), pk=item_pk, bulletin_id=pk)
    form = ItemForm(initial={"headline": item.headline, "body": item.body})
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action not in ITEM_ACTIONS:
            return HttpResponse("未知操作", status=400)
        try:
            if action == "save":
                form = ItemForm(request.POST)
                if not form.is_valid():
                    return render(request, "reports/bulletin_item.html", {"item": item, "form": form}, status=400)
                bulletin_services.update_item(actor=request.user, item=item, **form.cleaned_data)
                messages.success(request, f"已保存{item.town.name}的条目。")
            elif action in ("up", "down"):
                bulletin_services.move_item(actor=request.user, item=item, direction=action)
            elif action in ("include", "exclude"):
                bulletin_services.set_included(actor=request.user, item=item, included=action == "include")
            else:
                bulletin_services.remove_item(actor=request.user, item=item)
                messages.success(request, f"已删除{item.town.name}的条目。")
        except ValidationError as error:
            for message in _errors(error):
                messages.error(request, message)
        return redirect(reverse("reports:bulletin_edit", args=[pk]) + "#items")
    return render(request, "reports/bulletin_item.html", {"item": item, "form": form})


@permission_required("bulletin.edit")
@require_POST
def bulletin_use_submission(request, pk, submission_pk):
    bulletin = get_object_or_404(Bulletin, pk=pk)
    submission = get_for_user_or_404(BulletinSubmission, request.user, pk=submission_pk)
    try:
        item = bulletin_services.use_submission(actor=request.user, bulletin=bulletin, submission=submission)
    except ValidationError as error:
        for message in _errors(error):
            messages.error(request, message)
    else:
        messages.success(request, f"已采用{item.town.name}的报送稿作为该镇条目。")
    return redirect(reverse("reports:bulletin_edit", args=[pk]) + "#items")


@permission_required("bulletin.edit")
@require_POST
def bulletin_publish(request, pk):
    bulletin = get_object_or_404(Bulletin, pk=pk)
    try:
        bulletin = bulletin_services.publish(
            actor=request.user, bulletin=bulletin, confirm_unfinished=request.POST.get("confirm_unfinished") == "1"
        )
    except ValidationError as error:
        for message in _errors(error):
            messages.error(request, message)
        return redirect("reports:bulletin_edit", pk=pk)
    messages.success(request, f"已发布{bulletin.year}年第{bulletin.number}期。发布后不能再修改。")
    return redirect("reports:bulletin_detail", pk=pk)


@permission_required("bulletin.read")
@require_safe
def bulletin_docx_download(request, pk):
    """Every reader downloads a published issue; a draft (草稿 · 期号暂定 in its header) only the editor."""
    bulletin = get_object_or_404(bulletin_selectors.readable_bulletins(request.user), pk=pk)
    number = bulletin_selectors.display_number(bulletin)
    data = bulletin_docx.build(bulletin, bulletin_selectors.printed_items(bulletin), number)
    response = HttpResponse(data, content_type=DOCX)
    response["Content-Disposition"] = content_disposition_header(True, bulletin_docx.filename(bulletin, number))
    return response


@permission_required("bulletin.submit")
@require_http_methods(["GET", "POST"])
def submission_list(request):
    """A town's own submissions (and whether each was used), and the form for a new one."""
    form = SubmissionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                sub = bulletin_services.submit(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"已报送“{sub.headline}”，组织部编辑时可采用。")
                return redirect("reports:submission_detail", pk=sub.pk)
        status = 400
    rows = bulletin_selectors.submissions_for(request.user)
    return render(request, "reports/submission_list.html", {"form": form, "rows": rows}, status=status)


@login_required
@require_safe
def submission_detail(request, pk):
    if not (can(request.user, "bulletin.submit") or can(request.user, "bulletin.edit")):
        raise PermissionDenied("仅限镇（街道）报送人员和组织部编辑查看")
    sub = get_for_user_or_404(BulletinSubmission.objects.select_related("town", "submitted_by__cadre"), request.user, pk=pk)
    row = bulletin_selectors.submission_row(sub)
    return render(request, "reports/submission_detail.html", {"row": row, "sub": sub})


@permission_required("bulletin.submit")
@require_POST
def submission_withdraw(request, pk):
    """撤回: a town takes back a submission the editor has not used."""
    sub = get_for_user_or_404(BulletinSubmission, request.user, pk=pk)
    try:
        bulletin_services.withdraw(actor=request.user, submission=sub)
    except ValidationError as error:
        for message in _errors(error):
            messages.error(request, message)
    else:
        messages.success(request, f"已撤回“{sub.headline}”。")
    return redirect("reports:submission_detail", pk=pk)
