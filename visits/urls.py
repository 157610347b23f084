from django.urls import path

from visits.views import activities, board, followups, ledger, target_lists

app_name = "visits"

urlpatterns = [
    # the visit log (issue 4 §3, new/ and <pk>/) is funds.visit_log_urls: it hands out grants
    path("ledger/", ledger.visit_list, name="visit_list"),  # 走访台账 (issue 7 §3)
    # group activities (issue 4 §4)
    path("activities/", activities.activity_list, name="activity_list"),
    path("activities/new/", activities.activity_create, name="activity_create"),
    path("activities/people/", activities.activity_people, name="activity_people"),
    path("activities/<int:pk>/", activities.activity_detail, name="activity_detail"),
    # 挂图作战 board and follow-up figures (issue 6 §2-3)
    path("board/", board.board, name="board"),
    # follow-ups: 问题清单销号 (issue 6 §1)
    path("followups/", followups.followup_list, name="followup_list"),
    path("followups/new/", followups.followup_create, name="followup_create"),
    path("followups/<int:pk>/", followups.followup_detail, name="followup_detail"),
    path("followups/<int:pk>/act/", followups.followup_act, name="followup_act"),
    # 慰问对象名单: proposed by the town, approved by the town party committee (issue 12 §2)
    path("target-lists/", target_lists.target_lists, name="target_lists"),
    path("target-lists/propose/", target_lists.target_list_propose, name="target_list_propose"),
    path("target-lists/<int:pk>/", target_lists.target_list_detail, name="target_list_detail"),
    path("target-lists/<int:pk>/add/", target_lists.target_list_add, name="target_list_add"),
    path("target-lists/<int:pk>/approve/", target_lists.target_list_approve, name="target_list_approve"),
    path("target-lists/<int:pk>/print/", target_lists.target_list_print, name="target_list_print"),
    path("target-lists/entries/<int:pk>/remove/", target_lists.target_list_remove, name="target_list_remove"),
]
