"""Every URL × every role, against the other town's objects.

Walks the whole URLConf: a named URL missing from MATRIX fails the run. Each URL is requested
with GET and POST as anonymous and as each role (town roles from 冶山镇, county roles), with
ids of 铜城镇 objects in the path. The status must match the matrix; 铜城镇's canary values must
appear in no response a 冶山镇 user gets; 铜城镇's row and audit counts are unchanged.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode
from uuid import uuid4

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.models import AuditRecord
from core.scoping import unscoped
from funds.models import Disbursement
from tests.cast import CANARY_ID, CANARY_NAME, CANARY_PHONE, at
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
from tests.matrix_objects import (
    end_form,
    submission_form,
    tongcheng_activity,
    tongcheng_activity_form,
    tongcheng_assign_form,
    tongcheng_assignment,
    tongcheng_bulletin_item,
    tongcheng_bulletin_submission,
    tongcheng_export_job,
    tongcheng_followup,
    tongcheng_followup_form,
    tongcheng_submission,
)
from tests.towns.roster_import_objects import tongcheng_alias, tongcheng_import
from tests.visits.target_list_objects import tongcheng_target_entry, tongcheng_target_list
from towns.models import Assignment, Beneficiary, Household
from visits.models import Activity, FollowUp, Visit

ROLES = ["anonymous", "grid_worker", "town_cadre", "town_admin", "county_viewer", "inspector", "sysadmin"]
TOWN_ROLES = {"grid_worker", "town_cadre", "town_admin"}
LOGIN = 302  # anonymous users are sent to the login page


def statuses(default: int, **per_role: int) -> dict:
    return {role: per_role.get(role, default) for role in ROLES}


def everyone(code: int) -> dict:
    return statuses(code)


def logged_in(code: int, **per_role: int) -> dict:
    return statuses(code, anonymous=LOGIN, **per_role)


@dataclass
class Row:
    get: dict
    post: dict
    kwargs: object = None  # callable(cast) -> dict of URL kwargs (the other town's objects)
    post_data: object = None  # callable(cast) -> dict
    query: object = None  # callable(cast) -> dict of query-string parameters (the other town's ids)
    extra: dict = field(default_factory=dict)


COUNTY_SEE = {"county_viewer": 200, "inspector": 200, "sysadmin": 200}
TOWN_404 = {"grid_worker": 404, "town_cadre": 404, "town_admin": 404}
TOWN_200 = {"grid_worker": 200, "town_cadre": 200, "town_admin": 200}


def _a_bulletin(cast):
    from reports.models import Bulletin

    n = Bulletin.objects.count()
    bulletin = Bulletin.objects.create(
        year=2024, number=n + 1, issue_date=date(2024, 1, 15), week_start=date(2024, 1, 8) - timedelta(weeks=n), topic="双节慰问"
    )
    return {"pk": bulletin.pk}


def _a_published_bulletin(cast):
    """A published issue: what every reader on the 送 list opens (a draft is the editor's: a 404 to them)."""
    from django.utils import timezone

    from reports.models import Bulletin

    n = Bulletin.objects.count()
    bulletin = Bulletin.objects.create(
        year=2024,
        number=n + 1,
        issue_date=date(2024, 1, 15),
        week_start=date(2024, 1, 8) - timedelta(weeks=n),
        topic="双节慰问",
        status=Bulletin.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    return {"pk": bulletin.pk}


BULLETIN_READERS = {"town_cadre": 200, "town_admin": 200, "county_viewer": 200, "inspector": 200, "sysadmin": 200}


def _tongcheng_person(cast):
    return {"pk": cast.tongcheng.person.pk}


def _tongcheng_cadre(cast):
    return {"pk": cast.tongcheng.cadre.cadre.pk}


def _tongcheng_audit(cast):
    with unscoped():
        record = AuditRecord.objects.filter(town=cast.tongcheng.town).order_by("id").first()
    return {"pk": record.pk}


def _tongcheng_person_query(cast):
    return {"beneficiary": cast.tongcheng.person.pk}


def _tongcheng_visit_form(cast):
    return {
        "beneficiary": cast.tongcheng.person.pk,
        "idempotency_key": str(uuid4()),
        "kind": "home",
        "visited_at": "2024-01-09T10:00",
        "cash_amount": "300",
        "cash_kind": "cash",
        "demands": "矩阵测试诉求",
    }


def _tongcheng_visit(cast):
    person = cast.tongcheng.person
    with unscoped():
        visit = Visit.objects.create(
            beneficiary=person,
            household_id=person.household_id,
            town_id=person.town_id,
            cell_id=person.cell_id,
            visited_at=at(2024, 1, 9),
            recorded_by=cast.tongcheng.grid_worker.cadre,
            notes=CANARY_PHONE,
            idempotency_key=uuid4(),
        )
    return {"pk": visit.pk}


MATRIX: dict[str, Row] = {
    "home": Row(get=logged_in(200, county_viewer=302, inspector=302, sysadmin=302), post=logged_in(405)),
    "healthz": Row(get=everyone(200), post=everyone(405)),
    "readyz": Row(get=everyone(200), post=everyone(405)),
    "login": Row(get=statuses(302, anonymous=200), post=statuses(302, anonymous=200)),
    "logout": Row(get=everyone(405), post=everyone(302)),
    "password_change": Row(get=logged_in(200), post=logged_in(200)),
    "password_change_done": Row(get=logged_in(302), post=logged_in(302)),
    # Another town's account: 404 for a town admin; only town admins and the system admin may reset.
    "towns:user_list": Row(get=logged_in(403, town_admin=200, sysadmin=200), post=logged_in(403, town_admin=200, sysadmin=200)),
    "towns:reset_password": Row(
        get=logged_in(403, town_admin=404, sysadmin=200),
        post=logged_in(403, town_admin=404, sysadmin=302),
        kwargs=_tongcheng_cadre,
        post_data=lambda cast: {"new_password1": "Matrix-Pass-2024!", "new_password2": "Matrix-Pass-2024!"},
    ),
    "towns:unlock": Row(
        get=logged_in(403, town_admin=405, sysadmin=405),
        post=logged_in(403, town_admin=404, sysadmin=302),
        kwargs=_tongcheng_cadre,
    ),
    "funds:audit_detail": Row(
        get=logged_in(403, inspector=200, sysadmin=200), post=logged_in(403, inspector=405, sysadmin=405), kwargs=_tongcheng_audit
    ),
    "funds:audit_list": Row(get=logged_in(403, inspector=200, sysadmin=200), post=logged_in(403, inspector=405, sysadmin=405)),
    # -- registry, home (issue 4 §1-2)
    # The search posts (a whole ID number never travels in a URL) and is redirected to its GET page.
    "registry:person_list": Row(get=logged_in(200), post=logged_in(302)),
    # Privacy pages (issue 13 §1): who viewed a person (town admins: their town's), who checked IDs.
    "towns:access_log": Row(
        get=logged_in(403, town_admin=404, inspector=200),
        post=logged_in(403, town_admin=405, inspector=405),
        query=lambda cast: {"person": cast.tongcheng.person.pk},
    ),
    "towns:id_checks": Row(get=logged_in(403, inspector=200, sysadmin=200), post=logged_in(403, inspector=405, sysadmin=405)),
    "registry:person_detail": Row(get=logged_in(404, **COUNTY_SEE), post=logged_in(405), kwargs=_tongcheng_person),
    "towns:person_edit": Row(
        get=logged_in(403, **TOWN_404),
        post=logged_in(403, **TOWN_404),
        kwargs=_tongcheng_person,
        post_data=lambda cast: {"name": "改名", "categories": [cast.categories["elderly_alone"].pk]},
    ),
    "towns:person_status": Row(
        get=logged_in(403, town_cadre=404, town_admin=404),
        post=logged_in(403, town_cadre=404, town_admin=404),
        kwargs=_tongcheng_person,
        post_data=lambda cast: {"to_status": "deceased", "effective_on": "2024-01-05", "reason": "x"},
    ),
    "towns:person_reveal_id": Row(
        get=logged_in(403, town_admin=405, inspector=405),
        post=logged_in(403, town_admin=404, inspector=200),
        kwargs=_tongcheng_person,
    ),
    "towns:household_create": Row(
        get=logged_in(403, **TOWN_200),
        post=logged_in(403, **TOWN_200),
        post_data=lambda cast: {"cell": cast.tongcheng.cell.pk, "address": "x", "head_name": "x"},
    ),
    "towns:household_detail": Row(
        get=logged_in(404, **COUNTY_SEE), post=logged_in(405), kwargs=lambda cast: {"pk": cast.tongcheng.household.pk}
    ),
    "towns:person_create": Row(
        get=logged_in(403, **TOWN_404),
        post=logged_in(403, **TOWN_404),
        kwargs=lambda cast: {"household": cast.tongcheng.household.pk},
    ),
    # -- visit log (issue 4 §3)
    # Logging is for town roles; another town's person is a 404 whether named in the query or the form.
    "visits:visit_create": Row(
        get=logged_in(403, grid_worker=404, town_cadre=404, town_admin=404),
        post=logged_in(403, grid_worker=404, town_cadre=404, town_admin=404),
        query=_tongcheng_person_query,
        post_data=_tongcheng_visit_form,
    ),
    "visits:visit_detail": Row(
        get=logged_in(404, county_viewer=200, inspector=200, sysadmin=200),
        post=logged_in(405),
        kwargs=_tongcheng_visit,
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
        query=_tongcheng_person_query,
        post_data=tongcheng_followup_form,
    ),
    "visits:followup_detail": Row(get=logged_in(404, **COUNTY_SEE), post=logged_in(405), kwargs=tongcheng_followup),
    "visits:followup_act": Row(
        get=logged_in(403, grid_worker=405, town_cadre=405, town_admin=405),
        post=logged_in(403, **TOWN_404),
        kwargs=tongcheng_followup,
        post_data=lambda cast: {"action": "accept"},
    ),
    # -- county setup from its own files (issue 16 §1): the system admin only
    "towns:county_setup": Row(get=logged_in(403, sysadmin=200), post=logged_in(403, sysadmin=200)),
    "towns:county_setup_confirm": Row(get=logged_in(403, sysadmin=405), post=logged_in(403, sysadmin=302)),
    "towns:county_setup_passwords": Row(get=logged_in(403, sysadmin=200), post=logged_in(403, sysadmin=405)),
    "towns:county_setup_template": Row(
        get=logged_in(403, sysadmin=200), post=logged_in(403, sysadmin=405), kwargs=lambda cast: {"kind": "map"}
    ),
    # -- roster import (issue 4 §5)
    # Town cadres and admins (registry.import) only; another town's import is a 404 to them.
    "towns:import_list": Row(
        get=logged_in(403, town_cadre=200, town_admin=200), post=logged_in(403, town_cadre=200, town_admin=200)
    ),
    "towns:import_template": Row(
        get=logged_in(403, town_cadre=200, town_admin=200), post=logged_in(403, town_cadre=405, town_admin=405)
    ),
    "towns:import_detail": Row(
        get=logged_in(403, town_cadre=404, town_admin=404),
        post=logged_in(403, town_cadre=405, town_admin=405),
        kwargs=tongcheng_import,
    ),
    "towns:import_confirm": Row(
        get=logged_in(403, town_cadre=405, town_admin=405),
        post=logged_in(403, town_cadre=404, town_admin=404),
        kwargs=tongcheng_import,
    ),
    "towns:import_map": Row(
        get=logged_in(403, town_cadre=405, town_admin=405),
        post=logged_in(403, town_cadre=404, town_admin=404),
        kwargs=tongcheng_import,
    ),
    "towns:import_sheet": Row(
        get=logged_in(403, town_cadre=405, town_admin=405),
        post=logged_in(403, town_cadre=404, town_admin=404),
        kwargs=tongcheng_import,
    ),
    "towns:import_retry": Row(
        get=logged_in(403, town_cadre=405, town_admin=405),
        post=logged_in(403, town_cadre=404, town_admin=404),
        kwargs=tongcheng_import,
    ),
    "towns:import_errors": Row(
        get=logged_in(403, town_cadre=404, town_admin=404),
        post=logged_in(403, town_cadre=405, town_admin=405),
        kwargs=tongcheng_import,
    ),
    # The town's own names (issue 16 §2): listed for its cadres; another town's is a 404.
    "towns:alias_list": Row(
        get=logged_in(403, town_cadre=200, town_admin=200), post=logged_in(403, town_cadre=405, town_admin=405)
    ),
    "towns:alias_remove": Row(
        get=logged_in(403, town_cadre=405, town_admin=405),
        post=logged_in(403, town_cadre=404, town_admin=404),
        kwargs=tongcheng_alias,
    ),
    # -- responsibility zones (issue 4 §6)
    # map.edit only (town admin, system admin); a town admin cannot pick or end another town's.
    "towns:zones": Row(get=logged_in(403, town_admin=200, sysadmin=200), post=logged_in(403, town_admin=405, sysadmin=405)),
    "towns:zone_assign": Row(
        get=logged_in(403, town_admin=200, sysadmin=200),
        post=logged_in(403, town_admin=200, sysadmin=302),
        post_data=tongcheng_assign_form,
    ),
    "towns:zone_end": Row(
        get=logged_in(403, town_admin=404, sysadmin=200),
        post=logged_in(403, town_admin=404, sysadmin=302),
        kwargs=tongcheng_assignment,
        post_data=end_form,
    ),
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
    # -- 挂图作战 board and figures (issue 6 §2-3)
    # Everyone signed in sees their own town's board; county roles pick any town (or the county
    # list of 县级督办 items). Another town asked for is a 404 to town roles.
    "visits:board": Row(get=logged_in(404, **COUNTY_SEE), post=logged_in(405), query=tongcheng_town_query),
    # -- the weekly bulletin (issue 7 §2, issue 12 §4): published issues are read and downloaded by every
    # town's cadres and admins, the county and inspectors (bulletin.read); grid workers are not on its 送 list.
    "reports:bulletin_list": Row(
        get=logged_in(403, **BULLETIN_READERS), post=logged_in(403, **{r: 405 for r in BULLETIN_READERS})
    ),
    "reports:bulletin_detail": Row(
        get=logged_in(403, **BULLETIN_READERS),
        post=logged_in(403, **{r: 405 for r in BULLETIN_READERS}),
        kwargs=_a_published_bulletin,
    ),
    # The editor sets where the numbering stands (下一期为第N期) and whether it restarts each year.
    "reports:bulletin_numbering": Row(
        get=logged_in(403, county_viewer=405),
        post=logged_in(403, county_viewer=302),
        post_data=lambda cast: {"next_number": "200"},
    ),
    # The editor (组织部, bulletin.edit): draft any week, edit, order, use a town's text, publish, download.
    # Towns submit their own text (bulletin.submit: town cadres and admins) and see only their own:
    # another town's submission is a 404; the county editor reads every town's.
    "reports:bulletin_draft": Row(
        get=logged_in(403, county_viewer=405),
        post=logged_in(403, county_viewer=302),
        post_data=lambda cast: {"week": "2024-01-08"},
    ),
    "reports:bulletin_edit": Row(
        get=logged_in(403, county_viewer=200), post=logged_in(403, county_viewer=200), kwargs=_a_bulletin
    ),
    "reports:bulletin_item": Row(
        get=logged_in(403, county_viewer=200),
        post=logged_in(403, county_viewer=302),
        kwargs=tongcheng_bulletin_item,
        post_data=lambda cast: {"action": "down"},
    ),
    "reports:bulletin_use_submission": Row(
        get=logged_in(403, county_viewer=405), post=logged_in(403, county_viewer=302), kwargs=tongcheng_bulletin_submission
    ),
    "reports:bulletin_publish": Row(
        get=logged_in(403, county_viewer=405), post=logged_in(403, county_viewer=302), kwargs=_a_bulletin
    ),
    "reports:bulletin_docx": Row(
        get=logged_in(403, **BULLETIN_READERS),
        post=logged_in(403, **{r: 405 for r in BULLETIN_READERS}),
        kwargs=_a_published_bulletin,
    ),
    "reports:submission_list": Row(
        get=logged_in(403, town_cadre=200, town_admin=200),
        post=logged_in(403, town_cadre=302, town_admin=302),
        post_data=submission_form,
    ),
    # 撤回: a town's own unused submission; another town's is a 404.
    "reports:submission_withdraw": Row(
        get=logged_in(403, town_cadre=405, town_admin=405),
        post=logged_in(403, town_cadre=404, town_admin=404),
        kwargs=tongcheng_submission,
    ),
    "reports:submission_detail": Row(
        get=logged_in(403, town_cadre=404, town_admin=404, county_viewer=200), post=logged_in(405), kwargs=tongcheng_submission
    ),
    # -- dashboards (issue 7 §1): county roles see every town; town cadres and admins are sent to their
    # own town's and get a 404 for another town or its cells; grid workers have their home page instead.
    "reports:dashboard": Row(get=logged_in(403, town_cadre=302, town_admin=302, **COUNTY_SEE), post=logged_in(405)),
    "reports:dashboard_town": Row(
        get=logged_in(403, town_cadre=404, town_admin=404, **COUNTY_SEE),
        post=logged_in(405),
        kwargs=lambda cast: {"pk": cast.tongcheng.town.pk},
    ),
    "reports:dashboard_cell": Row(
        get=logged_in(403, town_cadre=404, town_admin=404, **COUNTY_SEE),
        post=logged_in(405),
        kwargs=lambda cast: {"pk": cast.tongcheng.cell.pk},
    ),
    # -- spreadsheet exports (issue 7 §3): export.personal holders (town cadres and admins, county viewer, inspector);
    # the 走访台账 list is everyone's, on their scope. A job is its requester's alone: another user's is a 404, and
    # another town's id in an export's filter finds nothing (a town user's filter has no town choice).
    "visits:visit_list": Row(get=logged_in(200), post=logged_in(405), query=tongcheng_town_query),
    "reports:exports": Row(
        get=logged_in(403, town_cadre=200, town_admin=200, county_viewer=200, inspector=200),
        post=logged_in(403, town_cadre=405, town_admin=405, county_viewer=405, inspector=405),
    ),
    "reports:export_start": Row(
        get=logged_in(403, town_cadre=405, town_admin=405, county_viewer=405, inspector=405),
        post=logged_in(403, town_cadre=302, town_admin=302, county_viewer=302, inspector=302),
        query=tongcheng_town_query,
        post_data=lambda cast: {"name": "ledger"},
    ),
    "reports:export_download": Row(
        get=logged_in(403, town_cadre=404, town_admin=404, county_viewer=404, inspector=404),
        post=logged_in(403, town_cadre=405, town_admin=405, county_viewer=405, inspector=405),
        kwargs=tongcheng_export_job,
    ),
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
    "reports:export_retry": Row(
        get=logged_in(403, town_cadre=405, town_admin=405, county_viewer=405, inspector=405),
        post=logged_in(403, town_cadre=404, town_admin=404, county_viewer=404, inspector=404),
        kwargs=tongcheng_export_job,
    ),
}

# Django admin: staff only (the system admin); everyone else is sent to the admin login.
ADMIN_PREFIX = "admin:"


def all_url_names(patterns=None, namespace="") -> set[str]:
    names = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= all_url_names(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern):
            if entry.name is None and namespace.startswith(ADMIN_PREFIX):
                continue  # the admin's catch-all redirect
            if entry.name is None:
                raise AssertionError(
                    f"URL pattern {entry.pattern} has no name: every URL must be named to be in the access matrix"
                )
            names.add(namespace + entry.name)
    return names


def test_every_url_is_in_the_matrix():
    missing = sorted(name for name in all_url_names() if name not in MATRIX and not name.startswith(ADMIN_PREFIX))
    assert not missing, f"URLs missing from the access matrix: {missing}"
    stale = sorted(set(MATRIX) - all_url_names())
    assert not stale, f"matrix rows for URLs that no longer exist: {stale}"


def _other_town_counts(cast) -> dict:
    town = cast.tongcheng.town
    with unscoped():
        return {
            model.__name__: model.objects.filter(town=town).count()
            for model in (Beneficiary, Household, Visit, Activity, Disbursement, FollowUp, Assignment, AuditRecord)
        }


def _login(client, cast, role):
    client.logout()
    if role != "anonymous":
        client.force_login(cast.users_by_role()[role])


def _assert_no_canary(response, role, name):
    if role not in TOWN_ROLES and role != "anonymous":
        return  # county roles legitimately see every town
    body = response.content.decode("utf-8", errors="replace")
    for canary in (CANARY_NAME, CANARY_ID, CANARY_PHONE):
        assert canary not in body, f"{name} as {role} leaked the other town's {canary!r}"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    # Receipts written by the rows above land in a temporary folder, not the repository's media/.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def other_town_audit(cast):
    """Give 铜城镇 an audit record so audit URLs have a target."""
    from django.db import transaction

    from core import audit

    with transaction.atomic():
        audit.record(
            actor=cast.tongcheng.admin,
            action="beneficiary.update",
            obj=cast.tongcheng.person,
            before={"phone": ""},
            after={"phone": CANARY_PHONE},
        )
    return cast


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_url_statuses_by_role(client, other_town_audit, name):
    cast = other_town_audit
    row = MATRIX[name]
    url = reverse(name, kwargs=row.kwargs(cast) if row.kwargs else None)
    if row.query:
        url += "?" + urlencode(row.query(cast))
    before = _other_town_counts(cast)
    failures = []
    for role in ROLES:
        for method, expected in (("get", row.get[role]), ("post", row.post[role])):
            _login(client, cast, role)
            data = row.post_data(cast) if (method == "post" and row.post_data) else {}
            response = getattr(client, method)(url, data)
            if response.status_code != expected:
                failures.append(f"{method.upper()} {url} as {role}: {response.status_code}, expected {expected}")
            _assert_no_canary(response, role, name)
            if role in TOWN_ROLES:
                assert _other_town_counts(cast) == before, f"{method.upper()} {url} as {role} changed the other town's rows"
    assert not failures, "\n".join(failures)


def test_admin_is_for_the_system_admin_only(client, cast):
    admin_names = sorted(n for n in all_url_names() if n.startswith(ADMIN_PREFIX) and n.endswith("_changelist"))
    assert admin_names, "the admin should be mounted"
    for name in admin_names:
        url = reverse(name)
        for role in ROLES:
            _login(client, cast, role)
            response = client.get(url)
            expected = 200 if role == "sysadmin" else 302
            assert response.status_code == expected, f"GET {url} as {role}: {response.status_code}"
            if expected == 302:
                assert "/admin/login/" in response["Location"]
