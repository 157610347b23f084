from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = "走访"

    def ready(self):
        from core import filtering
        from visits import filters

        filtering.register_area_choices("campaign", filters.campaign_choices)
