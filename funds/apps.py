from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = "经费与审计"
