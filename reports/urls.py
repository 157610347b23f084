from django.urls import path

from reports import bulletin_views, dashboard_views, export_views, views

app_name = "reports"

urlpatterns = [
    path("bulletins/", views.bulletin_list, name="bulletin_list"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin_detail"),
    # The bulletin editor and the towns' submissions (issue 7 §2).
    path("bulletins/draft/", bulletin_views.bulletin_draft_new, name="bulletin_draft"),
    path("bulletins/numbering/", bulletin_views.bulletin_numbering, name="bulletin_numbering"),
    path("bulletins/<int:pk>/edit/", bulletin_views.bulletin_edit, name="bulletin_edit"),
    path("bulletins/<int:pk>/items/<int:item_pk>/", bulletin_views.bulletin_item, name="bulletin_item"),
    path(
        "bulletins/<int:pk>/submissions/<int:submission_pk>/use/",
        bulletin_views.bulletin_use_submission,
        name="bulletin_use_submission",
    ),
    path("bulletins/<int:pk>/publish/", bulletin_views.bulletin_publish, name="bulletin_publish"),
    path("bulletins/<int:pk>/docx/", bulletin_views.bulletin_docx_download, name="bulletin_docx"),
    path("bulletins/submissions/", bulletin_views.submission_list, name="submission_list"),
    path("bulletins/submissions/<int:pk>/", bulletin_views.submission_detail, name="submission_detail"),
    path("bulletins/submissions/<int:pk>/withdraw/", bulletin_views.submission_withdraw, name="submission_withdraw"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/town/<int:pk>/", dashboard_views.town, name="dashboard_town"),
    path("dashboard/cell/<int:pk>/", dashboard_views.cell, name="dashboard_cell"),
    # spreadsheet exports (issue 7 §3)
    path("exports/", export_views.exports, name="exports"),
    path("exports/new/", export_views.export_start, name="export_start"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("exports/<int:pk>/retry/", export_views.export_retry, name="export_retry"),
]
