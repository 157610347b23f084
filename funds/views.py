from django.shortcuts import render
from django.views.decorators.http import require_safe

from core import audit_labels
from core.decorators import permission_required
from core.models import AuditRecord
from core.scoping import get_for_user_or_404
from funds.filters import AuditRecordFilter

PAGE_SIZE = 50


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


@permission_required("audit.view")
@require_safe
def audit_list(request):
    """Newest first, 50 a page, paged by id ("older than #n"): no COUNT over the whole trail, and
    page 500 costs what page 1 does."""
    filterset = AuditRecordFilter(request.GET or None, queryset=AuditRecord.objects.for_user(request.user), request=request)
    records = filterset.qs.select_related("town").defer("payload", "prev_hash", "hash").order_by("-id")
    older_than = _positive_int(request.GET.get("before"))
    if older_than:
        records = records.filter(id__lt=older_than)
    page = list(records[: PAGE_SIZE + 1])
    has_next = len(page) > PAGE_SIZE
    page = audit_labels.decorate(page[:PAGE_SIZE], user=request.user, changed_only=True)

    params = request.GET.copy()
    params.pop("before", None)
    first_query = params.urlencode()
    next_query = ""
    if has_next:
        params["before"] = page[-1].pk
        next_query = params.urlencode()
    return render(
        request,
        "funds/audit_list.html",
        {
            "filter": filterset,
            "records": page,
            "paged": older_than is not None,
            "first_query": first_query,
            "next_query": next_query,
        },
    )


@permission_required("audit.view")
@require_safe
def audit_detail(request, pk):
    record = get_for_user_or_404(AuditRecord.objects.select_related("town"), request.user, pk=pk)
    return render(
        request, "funds/audit_detail.html", {"record": audit_labels.decorate([record], user=request.user, changed_only=False)[0]}
    )
