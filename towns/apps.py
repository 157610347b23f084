from django.apps import AppConfig


class TownsConfig(AppConfig):
    name = "towns"
    verbose_name = "地图与人员"

    def ready(self):
        from funds.audit import ACTION_LABELS
        from towns import auth_events, idchecks

        auth_events.connect()
        # The audit page's labels for the ID-number checks (towns/idchecks.py), kept beside them.
        ACTION_LABELS.update(idchecks.ACTION_LABELS)
