"""Small, fast pieces of the dashboard tables (a town page has a few hundred rows; an {% include %}
per row cost more than the page's queries)."""

from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from towns.templatetags.nuanxin import yuan

register = template.Library()


@register.simple_tag
def coverage_bar(value):
    """A coverage percentage as a thin bar and its figure; "—" where nobody is targeted."""
    if value is None:
        return mark_safe('<span class="text-muted">—</span>')  # noqa: S308 (a constant)
    colour = "bg-success" if value >= 90 else "bg-warning" if value >= 60 else "bg-danger"
    text = f"{value:g}"
    # An f-string, not format_html: a town page draws ~250 bars, and every value here is a number.
    return mark_safe(  # noqa: S308 (numbers and constants only)
        '<div class="d-flex align-items-center gap-1"><div class="progress flex-grow-1" role="progressbar" aria-label="覆盖率" '
        f'aria-valuenow="{text}" aria-valuemin="0" aria-valuemax="100" style="height: .6rem; min-width: 3rem">'
        f'<div class="progress-bar {colour}" style="width: {min(value, 100)}%"></div></div><span class="small">{text}%</span></div>'
    )


@register.filter
def n(value) -> str:
    """A count with thousands separators (1,234), without the locale machinery's per-call cost."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""


# The table bodies are built here, not with {% for %}: a big town's page has ~85 big-cell rows and
# ~170 cadre rows of a dozen cells each, and the template engine's per-node cost (~3,500 nodes)
# was half of the page's 60-70 ms at county scale. The markup is the template's, cell for cell.


_SENTINEL = 987654321


@register.simple_tag(takes_context=True)
def figures_rows(context, rows, link, activities):
    """The <tr>s of reports/_figures_table.html: one per Figures, linked to `link` with the page's query."""
    query = escape(context.get("query", ""))
    # One reverse() for the table, the key put in by hand: reversing per row cost ~5 ms on a big town.
    url = reverse(link, args=[_SENTINEL]) if link else ""
    out = []
    for r in rows:
        name = escape(r.name)
        head = f'<a href="{escape(url.replace(str(_SENTINEL), str(int(r.key))))}?{query}">{name}</a>' if link else name
        unreached = r.unreached
        cells = [
            f'<tr data-testid="figures-row" data-name="{name}">',
            f'<th scope="row" class="fw-normal">{head}</th>',
            f'<td class="text-end" data-col="targeted">{n(r.targeted)}</td>',
            f'<td class="text-end" data-col="reached">{n(r.reached)}</td>',
            f'<td data-col="coverage">{coverage_bar(r.coverage)}</td>',
            f'<td class="text-end{" text-danger" if unreached else ""}" data-col="unreached">{n(unreached)}</td>',
            f'<td class="text-end" data-col="visits">{n(r.visits)}</td>',
        ]
        if activities:
            cells.append(f'<td class="text-end" data-col="activities">{n(r.activities)}</td>')
            cells.append(f'<td class="text-end" data-col="activity_people">{n(r.activity_people)}</td>')
        cells.append(f'<td class="text-end" data-col="cash">{yuan(r.cash)}</td>')
        cells.append(f'<td class="text-end" data-col="goods">{yuan(r.goods_value)}</td>')
        if activities:
            if r.budget:
                over = ' <span class="badge text-bg-danger">超预算</span>' if r.spent > r.budget else ""
                budget = f'<span title="预算 {yuan(r.budget)}">{r.budget_percent}%</span>{over}'
            else:
                budget = '<span class="text-muted">未设预算</span>'
            cells.append(f'<td class="text-end" data-col="budget">{budget}</td>')
        overdue = r.followups_overdue
        cells.append(f'<td class="text-end" data-col="followups">{n(r.followups_raised)} / {n(r.followups_closed)}</td>')
        cells.append(
            f'<td class="text-end{" text-danger fw-semibold" if overdue else ""}" data-col="overdue">{n(overdue)}</td></tr>'
        )
        out.append("".join(cells))
    return mark_safe("\n".join(out))  # noqa: S308 (every value above is escaped or a number we formatted)


@register.simple_tag
def cadre_rows(cadres):
    """The <tr>s of the town page's cadre table (reports.dashboard_selectors.cadre_rows)."""
    out = []
    for c in cadres:
        name = escape(c["name"])
        overdue = c["overdue"]
        out.append(
            f'<tr data-testid="cadre-row" data-name="{name}">'
            f'<th scope="row" class="fw-normal">{name}</th><td class="small">{escape(c["role"])}</td>'
            f'<td class="text-end" data-col="targeted">{n(c["targeted"])}</td>'
            f'<td class="text-end" data-col="reached">{n(c["reached"])}</td>'
            f"<td>{coverage_bar(c['coverage'])}</td>"
            f'<td class="text-end" data-col="visits">{n(c["visits"])}</td><td class="text-end">{n(c["open"])}</td>'
            f'<td class="text-end{" text-danger fw-semibold" if overdue else ""}">{n(overdue)}</td></tr>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 (names escaped, figures formatted here)
