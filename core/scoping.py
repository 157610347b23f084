"""The one area-scoping mechanism.

Every queryset that reaches a user comes from ``Model.objects.for_user(user)``. Each scoped
model names the path to its town and, when it has one, to its small grid cell; for_user
turns the user's role into a filter on those paths:

* county viewer, inspector, system admin: every town;
* town admin, town cadre: their own town;
* grid worker: the cells they answer for (models without a cell: their own town).

The scope guard: while a request or a job runs with the guard on (settings.SCOPE_GUARD,
always on in tests), evaluating a queryset of a scoped model that did not come from
for_user raises ScopeError, unless the code says so with ``unscoped()``. Querysets reached
through an instance already loaded (``person.visits.all()``, prefetches) carry that
instance as a hint and pass: the instance itself was scoped.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q

from core.permissions import COUNTY_ROLES, GRID_WORKER


class ScopeError(RuntimeError):
    pass


_guard_on = contextvars.ContextVar("scope_guard_on", default=False)
_unscoped_depth = contextvars.ContextVar("scope_unscoped_depth", default=0)


@contextlib.contextmanager
def guarded():
    """Turn the guard on for a request or a job (middleware and task base do this)."""
    token = _guard_on.set(True)
    try:
        yield
    finally:
        _guard_on.reset(token)


@contextlib.contextmanager
def unscoped():
    """Code that legitimately reads across scopes (services' integrity checks, jobs, admin)."""
    token = _unscoped_depth.set(_unscoped_depth.get() + 1)
    try:
        yield
    finally:
        _unscoped_depth.reset(token)


@dataclass(frozen=True)
class Scope:
    """What a user may see: all towns, one town, or some cells of one town."""

    everything: bool = False
    town_id: int | None = None
    cell_ids: frozenset[int] | None = None  # None: the whole town
    household_ids: frozenset[int] = frozenset()  # single households assigned (包户) besides cells
    nothing: bool = False


NOTHING = Scope(nothing=True)


def area_model():
    """The model a Scope's ``town_id`` points to (settings.SCOPE_AREA_MODEL: the towns app's Town)."""
    return apps.get_model(settings.SCOPE_AREA_MODEL)


# The user's profile: whatever answers for the user's role and area. core does not know where it is
# kept; the app that does (towns: the Cadre) registers a provider at start-up (towns/apps.py).
# A profile has ``name``, ``role``, ``is_active``, ``town_id`` (and ``town.name``, read with it) and
# ``assigned_ids()`` -> (cell ids, household ids).
_profile_provider = None


def register_profile_provider(provider) -> None:
    """``provider(user)`` returns the authenticated user's profile or None; read once per user object."""
    global _profile_provider
    _profile_provider = provider


def profile_of(user):
    """The user's profile (for towns: their Cadre with its town), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if _profile_provider is None:
        raise ImproperlyConfigured("no profile provider registered (core.scoping.register_profile_provider)")
    return _profile_provider(user)


def scope_of(user) -> Scope:
    """The scope of a user, computed once per user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    cached = getattr(user, "_nuanxin_scope", None)
    if cached is not None:
        return cached
    profile = profile_of(user)
    if profile is None or not profile.is_active:
        scope = NOTHING
    elif profile.role in COUNTY_ROLES:
        scope = Scope(everything=True)
    elif profile.role == GRID_WORKER:
        cells, households = profile.assigned_ids()
        scope = Scope(town_id=profile.town_id, cell_ids=frozenset(cells), household_ids=frozenset(households))
    else:
        scope = Scope(town_id=profile.town_id)
    user._nuanxin_scope = scope
    return scope


class ScopedQuerySet(models.QuerySet):
    _scope_checked = False

    def _clone(self):
        clone = super()._clone()
        clone._scope_checked = self._scope_checked
        return clone

    def for_user(self, user) -> ScopedQuerySet:
        scope = scope_of(user)
        if scope.nothing:
            qs = self.none()
        elif scope.everything:
            qs = self.all()
        else:
            qs = self.filter(self.model.scope_filter(scope))
        qs._scope_checked = True
        return qs

    def _check_scope(self):
        if _guard_on.get() and not self._scope_checked and _unscoped_depth.get() == 0 and "instance" not in self._hints:
            raise ScopeError(
                f"Query on {self.model.__name__} bypassed for_user(): "
                "scope it with .for_user(user), or wrap deliberate cross-scope reads in unscoped()."
            )

    def _fetch_all(self):
        if self._result_cache is None:
            self._check_scope()
        super()._fetch_all()

    def count(self):
        self._check_scope()
        return super().count()

    def exists(self):
        self._check_scope()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._check_scope()
        return super().aggregate(*args, **kwargs)

    def iterator(self, *args, **kwargs):
        self._check_scope()
        return super().iterator(*args, **kwargs)

    def update(self, **kwargs):
        self._check_scope()
        return super().update(**kwargs)

    def delete(self):
        self._check_scope()
        return super().delete()


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass


class AreaScoped(models.Model):
    """Mixin for models whose rows belong to a town (and maybe a small cell).

    Subclasses set ``scope_town_path`` (ORM path to the town id) and optionally
    ``scope_cell_path`` (ORM path to the small cell id) and ``scope_household_path`` (ORM path to
    the household id, for grid workers who answer for single households).
    """

    scope_town_path: str = "town"
    scope_cell_path: str | None = None
    scope_household_path: str | None = None

    objects = ScopedManager()

    class Meta:
        abstract = True

    @classmethod
    def scope_filter(cls, scope: Scope) -> Q:
        town_q = Q(**{cls.scope_town_path: scope.town_id})
        if scope.cell_ids is not None and cls.scope_cell_path:
            area = Q(**{f"{cls.scope_cell_path}__in": scope.cell_ids})
            if scope.household_ids and cls.scope_household_path:
                area |= Q(**{f"{cls.scope_household_path}__in": scope.household_ids})
            return town_q & area
        return town_q


def get_for_user_or_404(model_or_qs, user, **lookup):
    """Fetch one object the user may see; anything else, another town's included, is a 404."""
    from django.http import Http404

    qs = model_or_qs.objects if hasattr(model_or_qs, "objects") else model_or_qs
    try:
        return mark_in_scope(qs.for_user(user).get(**lookup), user)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该记录") from None


def mark_in_scope(obj, user):
    """Note that ``obj`` was read (or written) through ``user``'s scope, so the services' check
    (core.services.in_scope) trusts it instead of reading it again."""
    obj._nuanxin_scoped_for = user.pk
    return obj
