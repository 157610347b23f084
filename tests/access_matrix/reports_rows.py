"""Access matrix rows: the reports app (bulletin, submissions, dashboards, exports)."""

from tests.access_matrix.rows import BULLETIN_READERS, COUNTY_SEE, Row, a_bulletin, a_published_bulletin, logged_in
from tests.funds.stock_matrix_objects import (
    tongcheng_town_query,
)
from tests.matrix_objects import (
    submission_form,
    tongcheng_bulletin_item,
    tongcheng_bulletin_submission,
    tongcheng_export_job,
    tongcheng_submission,
)

REPORTS: dict = {
    # -- the weekly bulletin (issue 7 §2, issue 12 §4): published issues are read and downloaded by every
    # town's cadres and admins, the county and inspectors (bulletin.read); grid workers are not on its 送 list.
    "reports:bulletin_list": Row(
        get=logged_in(403, **BULLETIN_READERS), post=logged_in(403, **{r: 405 for r in BULLETIN_READERS})
    ),
    "reports:bulletin_detail": Row(
        get=logged_in(403, **BULLETIN_READERS),
        post=logged_in(403, **{r: 405 for r in BULLETIN_READERS}),
        kwargs=a_published_bulletin,
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
        get=logged_in(403, county_viewer=200), post=logged_in(403, county_viewer=200), kwargs=a_bulletin
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
        get=logged_in(403, county_viewer=405), post=logged_in(403, county_viewer=302), kwargs=a_bulletin
    ),
    "reports:bulletin_docx": Row(
        get=logged_in(403, **BULLETIN_READERS),
        post=logged_in(403, **{r: 405 for r in BULLETIN_READERS}),
        kwargs=a_published_bulletin,
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
        get=logged_in(403, town_cadre=404, town_admin=404, county_viewer=200),
        post=logged_in(403, town_cadre=405, town_admin=405, county_viewer=405),
        kwargs=tongcheng_submission,
    ),
    # -- dashboards (issue 7 §1): county roles see every town; town cadres and admins are sent to their
    # own town's and get a 404 for another town or its cells; grid workers have their home page instead
    # (dashboard.view, checked before the method as on every page of the role table).
    "reports:dashboard": Row(
        get=logged_in(403, town_cadre=302, town_admin=302, **COUNTY_SEE), post=logged_in(405, grid_worker=403)
    ),
    "reports:dashboard_town": Row(
        get=logged_in(403, town_cadre=404, town_admin=404, **COUNTY_SEE),
        post=logged_in(405, grid_worker=403),
        kwargs=lambda cast: {"pk": cast.tongcheng.town.pk},
    ),
    "reports:dashboard_cell": Row(
        get=logged_in(403, town_cadre=404, town_admin=404, **COUNTY_SEE),
        post=logged_in(405, grid_worker=403),
        kwargs=lambda cast: {"pk": cast.tongcheng.cell.pk},
    ),
    # -- spreadsheet exports (issue 7 §3): export.personal holders (town cadres and admins, county viewer, inspector).
    # A job is its requester's alone: another user's is a 404, and another town's id in an export's filter finds
    # nothing (a town user's filter has no town choice).
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
    "reports:export_retry": Row(
        get=logged_in(403, town_cadre=405, town_admin=405, county_viewer=405, inspector=405),
        post=logged_in(403, town_cadre=404, town_admin=404, county_viewer=404, inspector=404),
        kwargs=tongcheng_export_job,
    ),
}
