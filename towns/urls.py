from django.urls import path

from towns import views

app_name = "towns"

urlpatterns = [
    path("users/<int:pk>/reset-password/", views.reset_password, name="reset_password"),
    path("users/", views.user_list, name="user_list"),
]
