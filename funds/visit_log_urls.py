"""The visit log's pages (issue 4 §3), under /visits/ beside the visits app's own: the log spans
visits and funds, so its views live in funds (config/urls.py mounts this before visits.urls)."""

from django.urls import path

from funds import visit_log_views

app_name = "visit_log"

urlpatterns = [
    path("new/", visit_log_views.visit_create, name="visit_create"),
    path("<int:pk>/", visit_log_views.visit_detail, name="visit_detail"),
]
