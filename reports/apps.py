from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "报表"

    def ready(self):
        # Imported here, not at the top: models and modules that read them load only once the app registry is ready.
        # What the dashboards do when a lower app announces a change (core/outbox.py).
        from core import outbox
        from reports import rollups

        outbox.register(outbox.CAMPAIGN_CHANGED, rollups.on_campaign_changed)
        outbox.register(outbox.TOWN_REGISTRY_CHANGED, rollups.on_town_registry_changed)
