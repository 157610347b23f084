from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("bulletins/", views.bulletin_list, name="bulletin_list"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin_detail"),
]
