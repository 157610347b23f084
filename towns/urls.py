from django.urls import path

from towns.views import accounts, zones

app_name = "towns"

urlpatterns = [
    # accounts
    path("users/<int:pk>/reset-password/", accounts.reset_password, name="reset_password"),
    path("users/", accounts.user_list, name="user_list"),
    # registry (issue 4 §2)
    # roster import (issue 4 §5)
    # responsibility zones (issue 4 §6)
    path("zones/", zones.zones, name="zones"),
    path("zones/assign/", zones.zone_assign, name="zone_assign"),
    path("zones/assignments/<int:pk>/end/", zones.zone_end, name="zone_end"),
]
