from django.urls import path

from visits.views import activities, board, followups, ledger, visits

app_name = "visits"

urlpatterns = [
    # visit log (issue 4 §3)
    path("new/", visits.visit_create, name="visit_create"),
    path("<int:pk>/", visits.visit_detail, name="visit_detail"),
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
]
