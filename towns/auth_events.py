"""Logins, failed logins, logouts and lockouts leave audit records (ISSUE 3 §3).

Connected in TownsConfig.ready(). Each receiver writes in its own transaction: the login
view is not atomic, and a failed login must be recorded even though nothing else is saved.
The channel and request id come from RequestContextMiddleware, like every other record.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction

from core import audit
from towns.models import Cadre

USER_TYPE = "auth.user"


def _account_town_id(user_id) -> int | None:
    # The account's town, so an inspector filtering one town sees its users' logins.
    # _base_manager: this runs before the user is known, outside any user's scope.
    return Cadre._base_manager.filter(user_id=user_id).values_list("town_id", flat=True).first()


def _record_account_event(*, actor, action: str, user_id=None, username: str = "") -> None:
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=action,
            town=_account_town_id(user_id) if user_id else None,
            object_type=USER_TYPE,
            object_id=str(user_id) if user_id else "",
            object_repr=username[:120],
        )


def on_logged_in(sender, request, user, **kwargs):
    _record_account_event(actor=user, action="account.login", user_id=user.pk, username=user.get_username())
    # A temporary password (set by an admin): every page leads to the change form (towns/lockout.py).
    if (
        request is not None
        and hasattr(request, "session")
        and Cadre._base_manager.filter(user_id=user.pk, password_temporary=True).exists()
    ):
        request.session["password_temporary"] = True


def on_logged_out(sender, request, user, **kwargs):
    if user is None:  # logging out while not logged in
        return
    _record_account_event(actor=user, action="account.logout", user_id=user.pk, username=user.get_username())


def _user_id_for(username: str):
    if not username:
        return None
    User = get_user_model()
    return User._default_manager.filter(**{User.USERNAME_FIELD: username}).values_list("pk", flat=True).first()


def on_login_failed(sender, credentials, request=None, **kwargs):
    # credentials arrive with the password already masked by Django; only the username is kept.
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or "")
    _record_account_event(actor=None, action="account.login_failed", user_id=_user_id_for(username), username=username)


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    username = str(username or "")
    _record_account_event(actor=None, action="account.locked", user_id=_user_id_for(username), username=username)


def connect() -> None:
    from axes.signals import user_locked_out

    user_logged_in.connect(on_logged_in, dispatch_uid="nuanxin_audit_login")
    user_logged_out.connect(on_logged_out, dispatch_uid="nuanxin_audit_logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="nuanxin_audit_login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="nuanxin_audit_locked")
