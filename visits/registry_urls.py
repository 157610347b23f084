"""The registry's pages that show visit state, at their /towns/people/ paths (included by config/urls.py
under towns/, as the namespace ``registry``)."""

from django.urls import path

from visits.views import registry

app_name = "registry"

urlpatterns = [
    path("people/", registry.person_list, name="person_list"),
    path("people/<int:pk>/", registry.person_detail, name="person_detail"),
]
