"""Small, fast pieces of the dashboard tables (a town page has a few hundred rows; an {% include %}
per row cost more than the page's queries)."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def coverage_bar(value):
    """A coverage percentage as a thin bar and its figure; "—" where nobody is targeted."""
    if value is None:
        return mark_safe('<span class="text-muted">—</span>')  # noqa: S308 (a constant)
    colour = "bg-success" if value >= 90 else "bg-warning" if value >= 60 else "bg-danger"
    text = f"{value:g}"
    return format_html(
        '<div class="d-flex align-items-center gap-1"><div class="progress flex-grow-1" role="progressbar" aria-label="覆盖率" '
        'aria-valuenow="{}" aria-valuemin="0" aria-valuemax="100" style="height: .6rem; min-width: 3rem">'
        '<div class="progress-bar {}" style="width: {}%"></div></div><span class="small">{}%</span></div>',
        text,
        colour,
        min(value, 100),
        text,
    )


@register.filter
def n(value) -> str:
    """A count with thousands separators (1,234), without the locale machinery's per-call cost."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""
