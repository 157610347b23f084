"""The application's URLs plus the bench's bare views (bench.settings only)."""

from django.urls import path

from bench import views
from config.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("_bench/bare/", views.bare_get, name="bench_bare_get"),
    path("_bench/bare/post/", views.bare_post, name="bench_bare_post"),
    path("_bench/bare/visit/", views.bare_visit, name="bench_bare_visit"),
    *app_urlpatterns,
]
