from django import template

from core import health

register = template.Library()


@register.inclusion_tag("core/_status_line.html")
def system_status_line():
    """One line for the system admin on every page: what is down, or that all is well."""
    results = health.checks()
    return {"checks": results, "down": [c for c in results if not c.ok]}
