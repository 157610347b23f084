"""The town's own names for its villages, cells and categories (issue 16 §2): who mapped what, and
a way to forget a wrong mapping. Town cadres and admins (registry.import), their town's only."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.decorators import permission_required
from core.scoping import get_for_user_or_404
from towns import name_aliases
from towns.models import NameAlias


@permission_required("registry.import")
@require_safe
def alias_list(request):
    return render(request, "towns/alias_list.html", {"aliases": name_aliases.town_aliases(request.user)})


@permission_required("registry.import")
@require_POST
def alias_remove(request, pk):
    alias = get_for_user_or_404(NameAlias, request.user, pk=pk)
    try:
        name_aliases.name_alias_remove(actor=request.user, alias=alias)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已删除“{alias.name}”的对应，以后的花名册再用这个名称时会重新询问")
    return redirect("towns:alias_list")
