"""Every URL × every role, against the other town's objects.

Walks the whole URLConf: a named URL missing from MATRIX fails the run. The rows are kept per
app (towns_rows, visits_rows, funds_rows, reports_rows). Each URL is requested
with GET and POST as anonymous and as each role (town roles from 冶山镇, county roles), with
ids of 铜城镇 objects in the path. The status must match the matrix; 铜城镇's canary values must
appear in no response a 冶山镇 user gets; 铜城镇's row and audit counts are unchanged.
"""

from urllib.parse import urlencode

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.models import AuditRecord
from core.scoping import unscoped
from funds.models import Disbursement
from tests.access_matrix.funds_rows import FUNDS
from tests.access_matrix.reports_rows import REPORTS
from tests.access_matrix.rows import ROLES, TOWN_ROLES, Row
from tests.access_matrix.towns_rows import TOWNS
from tests.access_matrix.visits_rows import VISITS
from tests.cast import CANARY_ID, CANARY_NAME, CANARY_PHONE
from towns.models import Assignment, Beneficiary, Household
from visits.models import Activity, FollowUp, Visit


def _merged(*parts: dict) -> dict[str, Row]:
    merged = {}
    for part in parts:
        assert not set(merged) & set(part), f"a URL in two row files: {sorted(set(merged) & set(part))}"
        merged |= part
    return merged


MATRIX = _merged(TOWNS, VISITS, FUNDS, REPORTS)

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
