"""Grant pages (issue 5 §2, §5): list, a grant's page, void, reissue, approval, receipts.

Thin views: reads through funds/grant_selectors.py (every query scoped with for_user), writes
through funds/services.py, which check the same role table again.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import audit
from core.decorators import permission_required
from core.permissions import can
from core.scoping import get_for_user_or_404
from core.services import add_service_errors
from funds import grant_selectors, services
from funds.grant_forms import ApproveForm, ReceiptUploadForm, ReissueForm, VoidForm
from funds.models import Disbursement, Receipt
from towns import access_log
from towns.cadres import cadre_of
from towns.models import PersonAccess


def _error_text(error: ValidationError) -> str:
    return "；".join(error.messages)


def _is_own(user, grant) -> bool:
    cadre = cadre_of(user)
    return cadre is not None and cadre.pk in (grant.handed_by_id, grant.recorded_by_id)


@permission_required("registry.view")
@require_safe
def grant_list(request):
    filterset, page = grant_selectors.grant_page(request.user, request.GET)
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return render(
        request,
        "funds/grant_list.html",
        {"filter": filterset, "page": page, "query": query.urlencode(), "county": cadre_of(request.user).town_id is None},
    )


@permission_required("registry.view")
@require_safe
def grant_detail(request, pk):
    grant = grant_selectors.grant_for_page(request.user, pk)
    person_grants = grant_selectors.person_grants(request.user, grant)
    replaced_by = list(Disbursement.objects.for_user(request.user).filter(replaces_id=grant.pk).order_by("id"))
    return render(
        request,
        "funds/grant_detail.html",
        {
            "grant": grant,
            "person": grant.beneficiary,
            "replaced_by": replaced_by,
            "person_grants": person_grants,
            "history": grant_selectors.grant_history(request.user, grant),
            "own": _is_own(request.user, grant),
            "actions": grant_can(request.user, grant),
            # A receipt row whose file is not on disk is shown as 待补, never as a link to nothing.
            "receipt_missing": grant.receipt_id is not None and not grant.receipt.file.storage.exists(grant.receipt.file.name),
        },
    )


@permission_required("grant.void")
@require_http_methods(["GET", "POST"])
def grant_void(request, pk):
    grant = grant_selectors.grant_for_page(request.user, pk)
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.disbursement_void(actor=request.user, disbursement=grant, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已作废发放记录 #{grant.pk}，原记录和作废原因均保留。")
            return redirect("funds:grant_detail", pk=grant.pk)
    return render(request, "funds/grant_void.html", {"grant": grant, "form": form})


@permission_required("grant.void")
@require_http_methods(["GET", "POST"])
def grant_reissue(request, pk):
    grant = grant_selectors.grant_for_page(request.user, pk)
    form = ReissueForm(request.POST or None, initial=ReissueForm.initial_from(grant))
    if request.method == "POST" and form.is_valid():
        try:
            corrected, created = services.disbursement_reissue(actor=request.user, original=grant, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if created:
                note = "，待审批" if corrected.approval_status == Disbursement.ApprovalStatus.PENDING else ""
                messages.success(request, f"已更正：原记录 #{grant.pk} 已作废，新记录 #{corrected.pk} 已登记{note}。")
            else:
                messages.info(request, f"该更正已提交过，未重复保存（新记录 #{corrected.pk}）。")
            return redirect("funds:grant_detail", pk=corrected.pk)
    return render(request, "funds/grant_reissue.html", {"grant": grant, "form": form})


@permission_required("grant.approve")
@require_POST
def grant_approve(request, pk):
    grant = grant_selectors.grant_for_page(request.user, pk)
    form = ApproveForm(request.POST)
    back = (
        reverse("funds:approval_queue") if request.POST.get("back") == "queue" else reverse("funds:grant_detail", args=[grant.pk])
    )
    if not form.is_valid():
        messages.error(request, "请选择同意或不同意")
        return redirect(back)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.disbursement_approve(actor=request.user, disbursement=grant, approve=approve, note=form.cleaned_data["note"])
    except ValidationError as error:
        messages.error(request, f"发放记录 #{grant.pk}：{_error_text(error)}")
    else:
        messages.success(request, f"发放记录 #{grant.pk}（{grant.beneficiary.name}）：{'已同意' if approve else '未通过'}")
    return redirect(back)


@permission_required("grant.approve")
@require_safe
def approval_queue(request):
    grants = grant_selectors.approval_queue(request.user)
    for grant in grants:
        grant.own = _is_own(request.user, grant)
    return render(
        request, "funds/approval_queue.html", {"grants": grants, "limits": grant_selectors.approval_limits(request.user)}
    )


def _selected_grants(request) -> list[Disbursement]:
    """The grants named in ?grants= (or the posted form), all in the user's scope, or a 404."""
    raw = request.POST.getlist("grants") if request.method == "POST" else request.GET.getlist("grants")
    try:
        ids = sorted({int(value) for value in raw})
    except ValueError:
        raise Http404("未找到该记录") from None
    if not ids:
        return []
    grants = list(
        Disbursement.objects.for_user(request.user)
        .filter(pk__in=ids)
        .select_related("beneficiary", "goods_item", "receipt")
        .order_by("pk")
    )
    if len(grants) != len(ids):
        raise Http404("未找到该记录")  # another town's id: its existence is not revealed
    return grants


@permission_required("grant.issue")
@require_http_methods(["GET", "POST"])
def receipt_upload(request):
    grants = _selected_grants(request)
    if not grants:
        messages.warning(request, "请先在发放记录中勾选要上传签领凭证的记录。")
        return redirect("funds:grant_list")
    several = len(grants) > 1
    form = ReceiptUploadForm(request.POST or None, request.FILES or None, several=several)
    if request.method == "POST" and form.is_valid():
        try:
            receipt = services.receipt_attach(
                actor=request.user, disbursements=grants, kind=form.cleaned_data["kind"], uploaded_file=form.cleaned_data["file"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已上传{receipt.get_kind_display()}，对应 {len(grants)} 条发放记录。")
            if several:
                return redirect("funds:grant_list")
            return redirect("funds:grant_detail", pk=grants[0].pk)
    return render(request, "funds/receipt_upload.html", {"grants": grants, "form": form, "several": several})


@permission_required("registry.view")
@require_safe
def receipt_file(request, pk):
    """The receipt's file, only for users who may see one of its grants; each view is recorded:
    a signature next to a name is personal data. Never served from MEDIA_URL."""
    receipt = get_for_user_or_404(Receipt.objects.all(), request.user, pk=pk)
    # A grid worker's scope is some cells: the receipt's town is not enough, one of its grants must be theirs.
    covers = Disbursement.objects.for_user(request.user).filter(receipt_id=receipt.pk).count()
    if not covers:
        raise Http404("未找到该记录")
    try:
        handle = receipt.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("凭证文件缺失，请联系系统管理员") from None
    found = services.receipt_file_type(handle.read(8))
    handle.seek(0)
    if found is None:
        handle.close()
        raise Http404("凭证文件已损坏")
    extension, content_type = found
    with transaction.atomic():
        audit.record_personal_data_access(
            actor=request.user,
            what=f"签领凭证 #{receipt.pk}（{receipt.get_kind_display()}）",
            count=covers,
            town=receipt.town_id,
            filters={"receipt": receipt.pk, "sha256": receipt.sha256},
        )
    access_log.note(
        request,
        PersonAccess.Kind.RECEIPT,
        Disbursement.objects.for_user(request.user).filter(receipt_id=receipt.pk).values_list("beneficiary_id", "town_id"),
    )
    response = FileResponse(handle, content_type=content_type, filename=f"签领凭证-{receipt.pk}.{extension}", as_attachment=False)
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"  # a PDF or image never runs script in our origin
    return response


def grant_can(user, grant) -> dict:
    """What the user may do with this grant, for the page's buttons (the views check again)."""
    issued = grant.status == Disbursement.Status.ISSUED
    return {
        "void": issued and can(user, "grant.void"),
        "approve": issued and grant.approval_status == "pending" and can(user, "grant.approve") and not _is_own(user, grant),
        "receipt": issued and can(user, "grant.issue"),
    }
