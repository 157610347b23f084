from django.apps import AppConfig


class TownsConfig(AppConfig):
    name = "towns"
    verbose_name = "地图与人员"

    def ready(self):
        from core import audit_labels, filtering, scoping
        from towns import auth_events, cadre_labels, filters
        from towns.cadres import cadre_of

        auth_events.connect()
        # core scopes by a profile it cannot know: the user's Cadre is it.
        scoping.register_profile_provider(cadre_of)
        audit_labels.register_name_formatter(
            "towns.cadre", columns=cadre_labels.audit_name_columns, describe=cadre_labels.audit_name
        )
        audit_labels.register_name_formatter(
            "auth.user", columns=cadre_labels.audit_user_columns, describe=cadre_labels.audit_user_name
        )
        filtering.register_area_choices("village", filters.village_choices)
        filtering.register_area_choices("town", filters.town_choices)
