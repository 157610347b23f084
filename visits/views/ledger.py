"""走访台账 (issue 7 §3): the visits of a scope, filtered, newest ids last; exported from here."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.decorators import permission_required
from visits.ledger_selectors import ledger_page


@permission_required("registry.view")
@require_safe
def visit_list(request):
    filterset, page = ledger_page(request.user, request.GET)
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return render(request, "visits/visit_list.html", {"filter": filterset, "page": page, "query": query.urlencode()})
