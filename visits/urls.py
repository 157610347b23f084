from django.urls import path

from visits.views import visits

app_name = "visits"

urlpatterns = [
    # visit log (issue 4 §3)
    path("new/", visits.visit_create, name="visit_create"),
    path("<int:pk>/", visits.visit_detail, name="visit_detail"),
    # group activities (issue 4 §4)
]
