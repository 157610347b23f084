from django.urls import path

from funds import grant_views, views

app_name = "funds"

urlpatterns = [
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/<int:pk>/", views.audit_detail, name="audit_detail"),
    # -- grants and receipts (issue 5 §2, §5)
    path("grants/", grant_views.grant_list, name="grant_list"),
    path("grants/approvals/", grant_views.approval_queue, name="approval_queue"),
    path("grants/<int:pk>/", grant_views.grant_detail, name="grant_detail"),
    path("grants/<int:pk>/void/", grant_views.grant_void, name="grant_void"),
    path("grants/<int:pk>/reissue/", grant_views.grant_reissue, name="grant_reissue"),
    path("grants/<int:pk>/approve/", grant_views.grant_approve, name="grant_approve"),
    path("receipts/upload/", grant_views.receipt_upload, name="receipt_upload"),
    path("receipts/<int:pk>/file", grant_views.receipt_file, name="receipt_file"),
]
