from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    """¥1,234.50: amounts always with two decimals and thousands separators."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


_CHOICE_INPUTS = {"checkbox", "radio"}


@register.filter
def bootstrap(field):
    """Render a bound field's widget with Bootstrap classes, red-outlined when it has errors."""
    widget = field.field.widget
    input_type = getattr(widget, "input_type", "")
    if input_type in _CHOICE_INPUTS or getattr(widget, "allow_multiple_selected", False) and input_type:
        css = "form-check-input"
    elif widget.__class__.__name__ in {"Select", "SelectMultiple", "NullBooleanSelect"}:
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def cn_date(value) -> str:
    """2024年1月8日 (1月8日 this year): the one date style of text (towns/dates.py)."""
    from towns.dates import cn_date as format_date

    return format_date(value)


@register.filter
def cn_datetime(value) -> str:
    """2024年1月8日 14:05 (local time; the year left out this year)."""
    from towns.dates import cn_datetime as format_datetime

    return format_datetime(value)


@register.filter
def cadre(value, with_town: bool = False) -> str:
    """刘晓燕（长兴社区·网格员）: the one way a cadre is named (towns/cadre_labels.py)."""
    from towns.cadre_labels import cadre_label

    return cadre_label(value, with_town=bool(with_town))
