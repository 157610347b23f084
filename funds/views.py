from django.core.paginator import Paginator
from django.shortcuts import render

from funds.models import AuditRecord
from towns.decorators import permission_required


@permission_required("audit.view")
def audit_list(request):
    records = AuditRecord.objects.for_user(request.user).select_related("town").order_by("-id")
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(request, "funds/audit_list.html", {"page": page})
