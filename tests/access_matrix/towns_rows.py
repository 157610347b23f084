"""Access matrix rows: the sign-in pages, probes, home, and the towns app (registry, accounts, privacy, imports, zones, setup)."""

from tests.access_matrix.rows import (
    COUNTY_SEE,
    TOWN_200,
    TOWN_404,
    Row,
    everyone,
    logged_in,
    statuses,
    tongcheng_cadre,
    tongcheng_person,
)
from tests.matrix_objects import (
    end_form,
    tongcheng_assign_form,
    tongcheng_assignment,
)
from tests.towns.roster_import_objects import tongcheng_alias, tongcheng_import

TOWNS: dict = {
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
        kwargs=tongcheng_cadre,
        post_data=lambda cast: {"new_password1": "Matrix-Pass-2024!", "new_password2": "Matrix-Pass-2024!"},
    ),
    "towns:unlock": Row(
        get=logged_in(403, town_admin=405, sysadmin=405),
        post=logged_in(403, town_admin=404, sysadmin=302),
        kwargs=tongcheng_cadre,
    ),
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
    "registry:person_detail": Row(get=logged_in(404, **COUNTY_SEE), post=logged_in(405), kwargs=tongcheng_person),
    "towns:person_edit": Row(
        get=logged_in(403, **TOWN_404),
        post=logged_in(403, **TOWN_404),
        kwargs=tongcheng_person,
        post_data=lambda cast: {"name": "改名", "categories": [cast.categories["elderly_alone"].pk]},
    ),
    "towns:person_status": Row(
        get=logged_in(403, town_cadre=404, town_admin=404),
        post=logged_in(403, town_cadre=404, town_admin=404),
        kwargs=tongcheng_person,
        post_data=lambda cast: {"to_status": "deceased", "effective_on": "2024-01-05", "reason": "x"},
    ),
    "towns:person_reveal_id": Row(
        get=logged_in(403, town_admin=405, inspector=405),
        post=logged_in(403, town_admin=404, inspector=200),
        kwargs=tongcheng_person,
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
}
