from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = "经费与审计"

    def ready(self):
        from core import db_roles
        from funds import db_grants

        db_roles.register_restrictions(db_grants.restrictions)
