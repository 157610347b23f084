"""慰问品 (issue 5 §1): items, each town's stock, 入库, and the movement history."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.decorators import permission_required
from core.permissions import can
from core.services import add_service_errors
from funds import budget_selectors as selectors
from funds import stock_services
from funds.budget_forms import StockReceiveForm
from funds.models import StockMovement


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _page(request, *, form=None, status=200):
    user, get = request.user, request.GET
    town_id, item_id, before = (_positive_int(get.get(name)) for name in ("town", "item", "before"))
    kind = get.get("kind") or ""
    context = selectors.goods_page(user, town_id=town_id, item_id=item_id, kind=kind, before=before)
    params = get.copy()
    params.pop("before", None)
    next_query = ""
    if context["has_next"]:
        params["before"] = context["movements"][-1].pk
        next_query = params.urlencode()
    if form is None and can(user, "stock.manage"):
        form = StockReceiveForm()
    context.update(item_id=item_id, kind=kind, kinds=StockMovement.Kind.choices, paged=before is not None)
    context.update(next_query=next_query, form=form)
    return render(request, "funds/goods.html", context, status=status)


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
            movement = stock_services.stock_receive(
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
