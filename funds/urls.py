from django.urls import path

from funds import batch_views, budget_views, grant_views, inspection_views, stock_views, views

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
    # -- budgets, standards, goods stock and batch distribution (issue 5 §1-2)
    path("budgets/", budget_views.budgets, name="budgets"),
    path("budgets/set/", budget_views.budget_set, name="budget_set"),
    path("standards/set/", budget_views.standard_set, name="standard_set"),
    path("goods/", stock_views.goods, name="goods"),
    path("goods/receive/", stock_views.stock_receive, name="stock_receive"),
    path("grants/batch/", batch_views.batch, name="batch"),
    path("grants/batch/people/", batch_views.batch_people, name="batch_people"),
    path("grants/batch/<uuid:key>/", batch_views.batch_done, name="batch_done"),
    # -- conflict-of-interest declarations, inspection flags and findings, the grant roster (issue 5 §3-5)
    path("declaration/", inspection_views.declaration, name="declaration"),
    path("declarations/", inspection_views.declaration_list, name="declaration_list"),
    path("flags/", inspection_views.flag_list, name="flag_list"),
    path("flags/run/", inspection_views.flags_run, name="flags_run"),
    path("flags/<int:pk>/", inspection_views.flag_detail, name="flag_detail"),
    path("roster/", inspection_views.roster, name="roster"),
]
