from django.conf import settings
from django.db import connection

from core.permissions import ROLE_LABELS, permissions_of, role_of


class _PermissionFlags:
    """{{ can.visit_log }} in templates reads the same table as views and services."""

    def __init__(self, granted):
        self._granted = granted

    def __getattr__(self, name):
        return name.replace("_", ".", 1) in self._granted


def nuanxin(request):
    user = getattr(request, "user", None)
    role = role_of(user)
    return {
        "can": _PermissionFlags(permissions_of(user)),
        "current_role": role,
        "current_role_label": ROLE_LABELS.get(role, ""),
        "audit_protected_by_database": connection.vendor == "postgresql",
        "demo_mode": settings.DEMO_MODE,
    }
