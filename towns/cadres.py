"""The user's Cadre: their role and area, read once per user object (towns registers it as core's
profile provider, towns/apps.py)."""

from django.contrib.auth import get_user_model

from towns.models import Cadre


def cadre_of(user):
    """The user's Cadre with its town, one query per request, also cached as ``user.cadre``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if hasattr(user, "_nuanxin_cadre"):
        return user._nuanxin_cadre
    relation = get_user_model().cadre.related
    if relation.is_cached(user):  # read with the user (towns/auth_backend.py)
        user._nuanxin_cadre = relation.get_cached_value(user)
        return user._nuanxin_cadre
    cadre = Cadre._base_manager.select_related("town").filter(user_id=user.pk).first()
    user._nuanxin_cadre = cadre
    if cadre is not None:
        relation.set_cached_value(user, cadre)
    return cadre
