"""Access matrix rows: the funds app (audit, grants and receipts, budgets and goods, batches, inspection, roster)."""

from tests.access_matrix.rows import COUNTY_SEE, TOWN_200, TOWN_404, Row, logged_in, tongcheng_audit
from tests.funds.grant_objects import receipt_form, reissue_form, tongcheng_grant, tongcheng_grant_query, tongcheng_receipt
from tests.funds.inspection_matrix_objects import declaration_form, finding_form, tongcheng_flag, tongcheng_roster_query
from tests.funds.stock_matrix_objects import (
    batch_key,
    receive_form,
    standard_form,
    tongcheng_batch_form,
    tongcheng_budget_form,
    tongcheng_town_query,
)

FUNDS: dict = {
    "funds:audit_detail": Row(
        get=logged_in(403, inspector=200, sysadmin=200), post=logged_in(403, inspector=405, sysadmin=405), kwargs=tongcheng_audit
    ),
    "funds:audit_list": Row(get=logged_in(403, inspector=200, sysadmin=200), post=logged_in(403, inspector=405, sysadmin=405)),
    # -- grants and receipts (issue 5 §2, §5)
    # Everyone signed in reads the grants of their scope; the inspector and the county read every
    # town's but never write. Void and reissue: town cadres and admins; approval: town admins;
    # receipts: field roles. Another town's grant or receipt is a 404 to town roles.
    "funds:grant_list": Row(get=logged_in(200), post=logged_in(405)),
    "funds:grant_detail": Row(get=logged_in(404, **COUNTY_SEE), post=logged_in(405), kwargs=tongcheng_grant),
    "funds:grant_void": Row(
        get=logged_in(403, town_cadre=404, town_admin=404),
        post=logged_in(403, town_cadre=404, town_admin=404),
        kwargs=tongcheng_grant,
        post_data=lambda cast: {"reason": "矩阵测试"},
    ),
    "funds:grant_reissue": Row(
        get=logged_in(403, town_cadre=404, town_admin=404),
        post=logged_in(403, town_cadre=404, town_admin=404),
        kwargs=tongcheng_grant,
        post_data=reissue_form,
    ),
    "funds:grant_approve": Row(
        get=logged_in(403, town_admin=405),
        post=logged_in(403, town_admin=404),
        kwargs=tongcheng_grant,
        post_data=lambda cast: {"decision": "approve"},
    ),
    "funds:approval_queue": Row(get=logged_in(403, town_admin=200), post=logged_in(403, town_admin=405)),
    "funds:receipt_upload": Row(
        get=logged_in(403, **TOWN_404),
        post=logged_in(403, **TOWN_404),
        query=tongcheng_grant_query,
        post_data=receipt_form,
    ),
    "funds:receipt_file": Row(get=logged_in(404, **COUNTY_SEE), post=logged_in(405), kwargs=tongcheng_receipt),
    # -- budgets, standards and goods (issue 5 §1), batch distribution (§2)
    # Everyone signed in reads budgets and stock; another town asked for by id is a 404 to town
    # roles. Budgets: town admins (their town) and the system admin; standards: campaign editors;
    # 入库: town cadres and admins, into their own store. The batch is for grant.issue holders: a
    # batch naming another town's person or cadre is refused on the form (200), never saved.
    "funds:budgets": Row(get=logged_in(404, **COUNTY_SEE), post=logged_in(405), query=tongcheng_town_query),
    "funds:budget_set": Row(
        get=logged_in(403, town_admin=405, sysadmin=405),
        post=logged_in(403, town_admin=200, sysadmin=302),
        post_data=tongcheng_budget_form,
    ),
    "funds:standard_set": Row(
        get=logged_in(403, county_viewer=405, sysadmin=405),
        post=logged_in(403, county_viewer=302, sysadmin=302),
        post_data=standard_form,
    ),
    "funds:goods": Row(get=logged_in(404, **COUNTY_SEE), post=logged_in(405), query=tongcheng_town_query),
    "funds:stock_receive": Row(
        get=logged_in(403, town_cadre=405, town_admin=405),
        post=logged_in(403, town_cadre=302, town_admin=302),
        post_data=receive_form,
    ),
    "funds:batch": Row(get=logged_in(403, **TOWN_200), post=logged_in(403, **TOWN_200), post_data=tongcheng_batch_form),
    "funds:batch_people": Row(
        get=logged_in(403, **TOWN_200), post=logged_in(403, grid_worker=405, town_cadre=405, town_admin=405)
    ),
    "funds:batch_done": Row(
        get=logged_in(403, **TOWN_200), post=logged_in(403, grid_worker=405, town_cadre=405, town_admin=405), kwargs=batch_key
    ),
    # -- declarations, inspection flags and findings, the grant roster (issue 5 §3-5)
    # Every town role declares their own relatives; town admins see who has not. Flags: town admins
    # (their town, read-only), county viewer, inspector, system admin; findings and 重新计算 are the
    # inspector's. The roster: town cadres and admins (their town: another town in the filter shows
    # nothing), county viewer and inspector.
    "funds:declaration": Row(
        get=logged_in(403, **TOWN_200),
        post=logged_in(403, grid_worker=302, town_cadre=302, town_admin=302),
        post_data=declaration_form,
    ),
    "funds:declaration_list": Row(get=logged_in(403, town_admin=200), post=logged_in(403, town_admin=405)),
    "funds:flag_list": Row(
        get=logged_in(403, town_admin=200, **COUNTY_SEE),
        post=logged_in(403, town_admin=405, county_viewer=405, inspector=405, sysadmin=405),
    ),
    "funds:flags_run": Row(get=logged_in(403, inspector=405), post=logged_in(403, inspector=302)),
    "funds:flag_detail": Row(
        get=logged_in(403, town_admin=404, **COUNTY_SEE),
        post=logged_in(403, town_admin=404, inspector=302),
        kwargs=tongcheng_flag,
        post_data=finding_form,
    ),
    "funds:roster": Row(
        get=logged_in(403, town_cadre=200, town_admin=200, county_viewer=200, inspector=200),
        post=logged_in(403, town_cadre=405, town_admin=405, county_viewer=405, inspector=405),
        query=tongcheng_roster_query,
    ),
}
