"""Accounts under attack (issue 13 §4): lockout per user name and address, a per-account slow-down,
a lock page that says when it ends, and temporary passwords set by an admin.

django-axes counts failures per (user name, address) and locks that pair after AXES_FAILURE_LIMIT.
A griefer at another address therefore locks only themselves out of the account. What they can
still do is guess from many addresses; so once the account's failures over all addresses reach
the limit, every address must wait before its next try: 2 s after the limit's first failure,
doubling with each further one, at most LOGIN_SLOWDOWN_MAX_SECONDS, counted from that address's
own last failure (so a griefer's tries never make the owner wait at their own desk).
"""

from __future__ import annotations

from datetime import timedelta

from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

SESSION_KEY = "password_temporary"


def _recent_attempts(username: str):
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(username=username, attempt_time__gte=since)


def client_address(request) -> str:
    """The address axes counts failures under (its own helper: the same proxy settings)."""
    return getattr(request, "axes_ip_address", None) or get_client_ip_address(request) or ""


def slowdown_seconds(username: str, ip_address: str) -> int:
    """Seconds this address must still wait before trying this account again (0: go ahead)."""
    if not username:
        return 0
    rows = list(_recent_attempts(username).values_list("ip_address", "failures_since_start", "attempt_time"))
    failures = sum(n for _, n, _ in rows)
    mine = [t for ip, _, t in rows if ip == ip_address]
    if failures < settings.AXES_FAILURE_LIMIT or not mine:
        return 0
    delay = min(2 ** (failures - settings.AXES_FAILURE_LIMIT + 1), settings.LOGIN_SLOWDOWN_MAX_SECONDS)
    remaining = (max(mine) + timedelta(seconds=delay) - timezone.now()).total_seconds()
    return max(0, int(remaining + 0.999))


def lock_ends_at(username: str, ip_address: str):
    attempt = (
        _recent_attempts(username)
        .filter(ip_address=ip_address, failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-attempt_time")
        .first()
    )
    return attempt.attempt_time + settings.AXES_COOLOFF_TIME if attempt else None


def locked_out_response(request, original_response=None, credentials=None):
    """axes' lockout page, with the time the lock ends (AXES_LOCKOUT_CALLABLE)."""
    username = str((credentials or {}).get("username") or request.POST.get("username") or "")
    until = lock_ends_at(username, client_address(request))
    context = {
        "until": timezone.localtime(until) if until else None,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)


class TemporaryPasswordMiddleware:
    """A password an admin set is temporary: until its holder chooses their own, every page leads to
    the password change form. The flag sits in the session (set at login), so pages pay no query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.session.get(SESSION_KEY) and request.user.is_authenticated:
            allowed = (reverse("password_change"), reverse("logout"), reverse("login"))
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                return redirect(f"{reverse('password_change')}?temporary=1")
        return self.get_response(request)
