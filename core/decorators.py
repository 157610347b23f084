from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from core.permissions import PERMISSIONS, can


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

        wrapped.required_permission = permission
        return wrapped

    return decorator
