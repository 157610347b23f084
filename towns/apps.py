from django.apps import AppConfig


class TownsConfig(AppConfig):
    name = "towns"
    verbose_name = "地图与人员"

    def ready(self):
        from towns import auth_events

        auth_events.connect()
