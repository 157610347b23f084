"""Every view says who may open it, and leaves that on itself as ``view.access``: a permission
of the role table (``permission_required``), or ``public`` / ``login_only`` for the few pages
meant for anyone or for any signed-in user. tests/access_matrix walks the URLConf and fails on a
view without one."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.decorators import method_decorator

from core.permissions import PERMISSIONS, can

PUBLIC = "public"
LOGIN_ONLY = "login_only"


def permission_required(permission: str):
    """Login first, then the role table in core/permissions.py; a missing permission is a 403."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not can(request.user, permission):
                raise PermissionDenied(PERMISSIONS[permission][0])
            return view(request, *args, **kwargs)

        wrapped.access = permission
        return wrapped

    return decorator


def public(view):
    """Anyone, signed in or not (the login page, health checks). A function view or a view class."""
    view.access = PUBLIC
    return view


def login_only(view):
    """Any signed-in user whatever their role (the home page, one's own password); a class's
    dispatch is wrapped, so its as_view() requires the login too."""
    if isinstance(view, type):
        view.dispatch = method_decorator(login_required)(view.dispatch)
    else:
        view = login_required(view)
    view.access = LOGIN_ONLY
    return view
