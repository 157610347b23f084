"""Users, groups and passwords changed in /admin/ go into the audit chain (issue 13 §3), and a
password an admin sets there is temporary (§4). Django's own UserAdmin/GroupAdmin, audited."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction

from core import audit
from towns.models import Cadre

User = get_user_model()
_USER_FIELDS_LEFT_OUT = ("password", "last_login")  # a hash is never logged; logins have their own records


def _user_state(user) -> dict:
    state = audit.snapshot(user, exclude=_USER_FIELDS_LEFT_OUT)
    if user.pk:
        state["groups"] = sorted(user.groups.values_list("name", flat=True))
        state["user_permissions"] = sorted(user.user_permissions.values_list("codename", flat=True))
    return state


def _town_of(user_id):
    return Cadre._base_manager.filter(user_id=user_id).values_list("town_id", flat=True).first()


def _mark_temporary(user_id) -> None:
    Cadre._base_manager.filter(user_id=user_id).update(password_temporary=True)


class AuditedUserAdmin(UserAdmin):
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # One transaction for the user, its groups and the record of both.
        with transaction.atomic():
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        request._audit_before = _user_state(User._base_manager.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        if not change:
            _mark_temporary(user.pk)  # a new account's first password was chosen by the admin
        audit.record(
            actor=request.user,
            action=f"user.{'update' if change else 'create'}",
            obj=user,
            town=_town_of(user.pk),
            object_repr=user.get_username(),
            before=getattr(request, "_audit_before", None),
            after=_user_state(user),
        )

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = User._base_manager.get(pk=id)
                _mark_temporary(user.pk)
                audit.record(
                    actor=request.user,
                    action="account.password_reset",
                    town=_town_of(user.pk),
                    object_type="auth.user",
                    object_id=str(user.pk),
                    object_repr=user.get_username(),
                    reason="后台设置临时密码",
                )
            return response

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record(actor=request.user, action="user.delete", obj=obj, before=_user_state(obj))
            super().delete_model(request, obj)


class AuditedGroupAdmin(GroupAdmin):
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with transaction.atomic():
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        request._audit_before = self._state(Group.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        audit.record(
            actor=request.user,
            action=f"group.{'update' if change else 'create'}",
            obj=form.instance,
            before=getattr(request, "_audit_before", None),
            after=self._state(form.instance),
        )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record(actor=request.user, action="group.delete", obj=obj, before=self._state(obj))
            super().delete_model(request, obj)

    @staticmethod
    def _state(group) -> dict:
        return {"name": group.name, "permissions": sorted(group.permissions.values_list("codename", flat=True))}


def register() -> None:
    for model, model_admin in ((User, AuditedUserAdmin), (Group, AuditedGroupAdmin)):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, model_admin)
