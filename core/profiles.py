"""The user's profile: whatever answers for the user's role and area.

core does not know where it is kept; the app that does (towns: the Cadre) registers a provider at
start-up (towns/apps.py). Roles (core.permissions), scoping (core.scoping), the actor of a service
and the audit trail all read it here.
"""

from django.core.exceptions import ImproperlyConfigured

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
        raise ImproperlyConfigured("no profile provider registered (core.profiles.register_profile_provider)")
    return _profile_provider(user)
