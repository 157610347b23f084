from django.urls import path

from reports import export_views, views

app_name = "reports"

urlpatterns = [
    path("bulletins/", views.bulletin_list, name="bulletin_list"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin_detail"),
    # spreadsheet exports (issue 7 §3)
    path("exports/", export_views.exports, name="exports"),
    path("exports/new/", export_views.export_start, name="export_start"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
]
