from django.contrib import admin
from django.db import transaction

from funds import audit


class ScopedAdmin(admin.ModelAdmin):
    """Admin lists go through for_user like every other page."""

    def get_queryset(self, request):
        return self.model._default_manager.for_user(request.user) if hasattr(self.model._default_manager, "for_user") else super().get_queryset(request)


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
            audit.record(actor=request.user, action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
                         obj=obj, before=before, after=audit.snapshot(obj))

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record(actor=request.user, action=f"{obj._meta.model_name}.delete", obj=obj, before=audit.snapshot(obj))
            super().delete_model(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
