from django.urls import path

from towns.views import accounts, aliases, privacy, registry, zones
from towns.views import county_setup as setup_views
from towns.views import imports as import_views

app_name = "towns"

urlpatterns = [
    # accounts
    path("users/<int:pk>/reset-password/", accounts.reset_password, name="reset_password"),
    path("users/<int:pk>/unlock/", accounts.unlock, name="unlock"),
    path("users/", accounts.user_list, name="user_list"),
    # registry (issue 4 §2; the list and the person page are visits/registry_urls.py)
    path("people/<int:pk>/edit/", registry.person_edit, name="person_edit"),
    path("people/<int:pk>/status/", registry.person_status, name="person_status"),
    path("people/<int:pk>/reveal-id/", registry.person_reveal_id, name="person_reveal_id"),
    path("households/new/", registry.household_create, name="household_create"),
    path("households/<int:pk>/", registry.household_detail, name="household_detail"),
    path("households/<int:household>/people/new/", registry.person_create, name="person_create"),
    # privacy (issue 13 §1): who viewed whom, who checked ID numbers outside their town
    path("access-log/", privacy.access_log, name="access_log"),
    path("id-checks/", privacy.id_checks, name="id_checks"),
    # roster import (issue 4 §5)
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/template.xlsx", import_views.import_template, name="import_template"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", import_views.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/names/", import_views.import_map, name="import_map"),
    path("imports/<int:pk>/sheet/", import_views.import_sheet, name="import_sheet"),
    path("imports/<int:pk>/retry/", import_views.import_retry, name="import_retry"),
    path("imports/<int:pk>/errors.xlsx", import_views.import_errors, name="import_errors"),
    path("imports/names/", aliases.alias_list, name="alias_list"),
    path("imports/names/<int:pk>/remove/", aliases.alias_remove, name="alias_remove"),
    # county setup from its own files (issue 16 §1)
    path("setup/", setup_views.setup, name="county_setup"),
    path("setup/confirm/", setup_views.setup_confirm, name="county_setup_confirm"),
    path("setup/passwords/", setup_views.setup_passwords, name="county_setup_passwords"),
    path("setup/templates/<str:kind>.xlsx", setup_views.setup_template, name="county_setup_template"),
    # responsibility zones (issue 4 §6)
    path("zones/", zones.zones, name="zones"),
    path("zones/assign/", zones.zone_assign, name="zone_assign"),
    path("zones/assignments/<int:pk>/end/", zones.zone_end, name="zone_end"),
]
