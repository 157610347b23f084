from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction

from core import audit
from core.scoping import scope_of, unscoped


class ScopedAdmin(admin.ModelAdmin):
    """The admin is a county-wide tool: only users whose scope is every town may use it.

    Its querysets still come from for_user; its filters and widgets (which read related
    tables on their own) run inside unscoped(), which is safe because the scope is everything.
    """

    def get_queryset(self, request):
        manager = self.model._default_manager
        return manager.for_user(request.user) if hasattr(manager, "for_user") else super().get_queryset(request)

    def _county_wide(self, request, view, *args, **kwargs):
        if not scope_of(request.user).everything:
            raise PermissionDenied("后台管理仅限全市范围的系统管理员")
        with unscoped():
            return view(request, *args, **kwargs)

    def changelist_view(self, request, extra_context=None):
        return self._county_wide(request, super().changelist_view, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._county_wide(request, super().changeform_view, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        return self._county_wide(request, super().history_view, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._county_wide(request, super().delete_view, object_id, extra_context)


class ReadOnlyAdmin(ScopedAdmin):
    """Records written only by services (registry, visits, money, audit): view only here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin(ScopedAdmin):
    """Reference data edited in the admin: every save and delete leaves an audit record."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = audit.snapshot(self.model._base_manager.get(pk=obj.pk)) if change else None
            super().save_model(request, obj, form, change)
            audit.record(
                actor=request.user,
                action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
                obj=obj,
                before=before,
                after=audit.snapshot(obj),
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record(actor=request.user, action=f"{obj._meta.model_name}.delete", obj=obj, before=audit.snapshot(obj))
            super().delete_model(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
