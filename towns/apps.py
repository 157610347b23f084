from django.apps import AppConfig


class TownsConfig(AppConfig):
    name = "towns"
    verbose_name = "地图与人员"
