"""Django's ModelBackend, reading the user with their cadre and its town in one query.

Every page scopes its queries by the user's cadre (towns/cadres.py `cadre_of`), so reading them
together saves a query on every request (a list page stays within its budget of 5).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class CadreModelBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("cadre__town").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
