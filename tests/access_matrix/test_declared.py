"""Every view in the URLConf declares who may open it (core/decorators.py): a permission of the
role table, or ``public`` / ``login_only`` said outright. A view added without one fails here,
before anyone reads the access matrix."""

from django.urls import URLPattern, URLResolver, get_resolver

from core.decorators import LOGIN_ONLY, PUBLIC
from core.permissions import PERMISSIONS

# The Django admin checks is_staff itself (test_matrix.test_admin_is_for_the_system_admin_only).
ADMIN_NAMESPACE = "admin"


def _views(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace != ADMIN_NAMESPACE:
                yield from _views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _access(view):
    # A class-based view is marked on its class; as_view() returns a new function each time.
    return getattr(view, "access", None) or getattr(getattr(view, "view_class", None), "access", None)


def test_every_view_declares_its_access():
    views = list(_views(get_resolver().url_patterns))
    assert len(views) > 90, "the URLConf walk found too few views"
    undeclared = sorted(route or "/" for route, view in views if _access(view) is None)
    assert not undeclared, f"views without permission_required, public or login_only: {undeclared}"


def test_declared_access_is_a_permission_or_a_marker():
    unknown = {route: _access(view) for route, view in _views(get_resolver().url_patterns)}
    unknown = {
        route: access for route, access in unknown.items() if access not in PERMISSIONS and access not in (PUBLIC, LOGIN_ONLY)
    }
    assert unknown == {}


def test_the_few_open_views_are_the_expected_ones():
    """Widening a page to anyone or to any signed-in user is a decision: it shows up here."""
    open_views = {
        route or "/": _access(view)
        for route, view in _views(get_resolver().url_patterns)
        if _access(view) in (PUBLIC, LOGIN_ONLY)
    }
    assert open_views == {
        "/": LOGIN_ONLY,
        "healthz": PUBLIC,
        "readyz": PUBLIC,
        "accounts/login/": PUBLIC,
        "accounts/logout/": PUBLIC,
        "accounts/password/": LOGIN_ONLY,
        "accounts/password/done/": LOGIN_ONLY,
    }
