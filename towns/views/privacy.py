"""Privacy pages: 查阅记录 (who viewed whom) and 身份证号核查 (who checked ID numbers outside their town)."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.decorators import permission_required
from towns import privacy_selectors


@permission_required("access.log")
@require_safe
def access_log(request):
    context = privacy_selectors.access_log(request.user, request.GET)
    return render(request, "towns/access_log.html", context)


@permission_required("audit.view")
@require_safe
def id_checks(request):
    return render(request, "towns/id_checks.html", privacy_selectors.id_checks(request.user))
