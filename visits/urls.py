from django.urls import path

app_name = "visits"

urlpatterns = [
    # visit log (issue 4 §3)
    # group activities (issue 4 §4)
]
