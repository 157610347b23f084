from django.urls import path

from reports import dashboard_views, views

app_name = "reports"

urlpatterns = [
    path("bulletins/", views.bulletin_list, name="bulletin_list"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin_detail"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/town/<int:pk>/", dashboard_views.town, name="dashboard_town"),
    path("dashboard/cell/<int:pk>/", dashboard_views.cell, name="dashboard_cell"),
]
