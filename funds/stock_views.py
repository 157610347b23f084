"""慰问品 (issue 5 §1): items, each town's stock, 入库, and the movement history."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.decorators import permission_required
from core.permissions import can
from core.scoping import get_for_user_or_404, scope_of
from core.services import add_service_errors
from funds import budget_selectors as selectors
from funds import services
from funds.budget_forms import StockReceiveForm
from funds.models import StockMovement
from towns.models import Town


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _page(request, *, form=None, status=200):
    user = request.user
    county = scope_of(user).everything
    all_towns = list(Town.objects.for_user(user).order_by("code"))
    town = None
    town_id = _positive_int(request.GET.get("town"))
    if town_id:
        town = get_for_user_or_404(Town, user, pk=town_id)
    towns = [town] if town else all_towns
    items = selectors.goods_items()
    item_id = _positive_int(request.GET.get("item"))
    kind = request.GET.get("kind") or ""
    before = _positive_int(request.GET.get("before"))
    movements, has_next = selectors.movements_page(user, towns, item_id=item_id, kind=kind, before=before)
    params = request.GET.copy()
    params.pop("before", None)
    next_query = ""
    if has_next:
        params["before"] = movements[-1].pk
        next_query = params.urlencode()
    if form is None and can(user, "stock.manage"):
        form = StockReceiveForm()
    return render(
        request,
        "funds/goods.html",
        {
            "county": county,
            "all_towns": all_towns if county else [],
            "town": town,
            "items": items,
            "stock": selectors.stock_table(user, towns, items),
            "movements": movements,
            "item_id": item_id,
            "kind": kind,
            "kinds": StockMovement.Kind.choices,
            "paged": before is not None,
            "next_query": next_query,
            "form": form,
        },
        status=status,
    )


@permission_required("funds.view")
@require_safe
def goods(request):
    return _page(request)


@permission_required("stock.manage")
@require_POST
def stock_receive(request):
    form = StockReceiveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            movement = services.stock_receive(
                actor=request.user,
                goods_item=data["goods_item"],
                quantity=data["quantity"],
                source=data["source"],
                received_on=data["received_on"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            item = movement.goods_item
            messages.success(request, f"已入库：{item.name} {movement.quantity}{item.unit}（{movement.source}）")
            return redirect("funds:goods")
    return _page(request, form=form)
