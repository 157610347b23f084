"""Access matrix rows: the visits app (visit log and ledger, activities, follow-ups and the board, target lists)."""

from tests.access_matrix.rows import (
    COUNTY_SEE,
    TOWN_404,
    Row,
    logged_in,
    tongcheng_person_query,
    tongcheng_visit,
    tongcheng_visit_form,
)
from tests.funds.stock_matrix_objects import (
    tongcheng_town_query,
)
from tests.matrix_objects import (
    tongcheng_activity,
    tongcheng_activity_form,
    tongcheng_followup,
    tongcheng_followup_form,
)
from tests.visits.target_list_objects import tongcheng_target_entry, tongcheng_target_list

VISITS: dict = {
    # -- visit log (issue 4 §3)
    # Logging is for town roles; another town's person is a 404 whether named in the query or the form.
    "visit_log:visit_create": Row(
        get=logged_in(403, grid_worker=404, town_cadre=404, town_admin=404),
        post=logged_in(403, grid_worker=404, town_cadre=404, town_admin=404),
        query=tongcheng_person_query,
        post_data=tongcheng_visit_form,
    ),
    "visit_log:visit_detail": Row(
        get=logged_in(404, county_viewer=200, inspector=200, sysadmin=200),
        post=logged_in(405),
        kwargs=tongcheng_visit,
    ),
    # -- group activities (issue 4 §4)
    # Everyone signed in sees their scope's activities; town cadres and admins log them. Another
    # town's village and person in the form are refused on the form (200), never saved.
    "visits:activity_list": Row(get=logged_in(200), post=logged_in(405)),
    "visits:activity_create": Row(
        get=logged_in(403, town_cadre=200, town_admin=200),
        post=logged_in(403, town_cadre=200, town_admin=200),
        post_data=tongcheng_activity_form,
    ),
    "visits:activity_people": Row(
        get=logged_in(403, town_cadre=200, town_admin=200), post=logged_in(403, town_cadre=405, town_admin=405)
    ),
    "visits:activity_detail": Row(
        get=logged_in(404, county_viewer=200, inspector=200, sysadmin=200), post=logged_in(405), kwargs=tongcheng_activity
    ),
    # -- follow-ups (issue 6 §1)
    # Everyone signed in reads the items of their scope; field roles raise and work them. Another
    # town's item or person is a 404 to town roles; the read-only county roles get 403 on writes.
    "visits:followup_list": Row(get=logged_in(200), post=logged_in(405)),
    "visits:followup_create": Row(
        get=logged_in(403, **TOWN_404),
        post=logged_in(403, **TOWN_404),
        query=tongcheng_person_query,
        post_data=tongcheng_followup_form,
    ),
    "visits:followup_detail": Row(get=logged_in(404, **COUNTY_SEE), post=logged_in(405), kwargs=tongcheng_followup),
    "visits:followup_act": Row(
        get=logged_in(403, grid_worker=405, town_cadre=405, town_admin=405),
        post=logged_in(403, **TOWN_404),
        kwargs=tongcheng_followup,
        post_data=lambda cast: {"action": "accept"},
    ),
    # -- 挂图作战 board and figures (issue 6 §2-3)
    # Everyone signed in sees their own town's board; county roles pick any town (or the county
    # list of 县级督办 items). Another town asked for is a 404 to town roles.
    "visits:board": Row(get=logged_in(404, **COUNTY_SEE), post=logged_in(405), query=tongcheng_town_query),
    # -- the 走访台账 list is everyone's, on their scope (its export: reports_rows).
    "visits:visit_list": Row(get=logged_in(200), post=logged_in(405), query=tongcheng_town_query),
    # -- 慰问对象名单 (issue 12 §2): town cadres and admins see their own town's, county roles every
    # town's; only the town admin proposes, edits and records the committee's decision. Another
    # town's list or entry is a 404 to town roles.
    "visits:target_lists": Row(
        get=logged_in(403, town_cadre=200, town_admin=200, **COUNTY_SEE),
        post=logged_in(403, town_cadre=405, town_admin=405, county_viewer=405, inspector=405, sysadmin=405),
    ),
    "visits:target_list_propose": Row(
        get=logged_in(403, town_admin=405),
        post=logged_in(403, town_admin=302),
        post_data=lambda cast: {"campaign": cast.campaign.pk},
    ),
    "visits:target_list_detail": Row(
        get=logged_in(403, town_cadre=404, town_admin=404, **COUNTY_SEE),
        post=logged_in(403, town_cadre=405, town_admin=405, county_viewer=405, inspector=405, sysadmin=405),
        kwargs=tongcheng_target_list,
    ),
    "visits:target_list_add": Row(
        get=logged_in(403, town_admin=405),
        post=logged_in(403, town_admin=404),
        kwargs=tongcheng_target_list,
        post_data=lambda cast: {"beneficiary": cast.yeshan.person.pk, "reason": "矩阵测试"},
    ),
    "visits:target_list_approve": Row(
        get=logged_in(403, town_admin=405),
        post=logged_in(403, town_admin=404),
        kwargs=tongcheng_target_list,
        post_data=lambda cast: {"decided_on": "2023-12-15", "decided_by": "矩阵测试会议"},
    ),
    "visits:target_list_print": Row(
        get=logged_in(403, town_cadre=404, town_admin=404, **COUNTY_SEE),
        post=logged_in(403, town_cadre=405, town_admin=405, county_viewer=405, inspector=405, sysadmin=405),
        kwargs=tongcheng_target_list,
    ),
    "visits:target_list_remove": Row(
        get=logged_in(403, town_admin=404),
        post=logged_in(403, town_admin=404),
        kwargs=tongcheng_target_entry,
        post_data=lambda cast: {"reason": "矩阵测试"},
    ),
}
