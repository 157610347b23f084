"""The role table in core/permissions.py is the one rule that views, templates and services read."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.permissions import PERMISSIONS, ROLE_LABELS, can, markdown_table, permissions_of, require
from tests.cast import PASSWORD
from towns import services

ROLES = list(ROLE_LABELS)

# Spot checks a reader of issue 3 would make, one row per permission, one column per role:
# 网格员, 镇村干部, 镇管理员, 组织部, 纪检监察, 系统管理员.
EXPECTED = {
    "visit.log": (True, True, True, False, False, False),
    "grant.void": (False, True, True, False, False, False),
    "id.reveal": (False, False, True, False, True, False),
    "dashboard.county": (False, False, False, True, True, True),
    "audit.view": (False, False, False, False, True, True),
    "user.reset_password": (False, False, True, False, False, True),
    "registry.view": (True, True, True, True, True, True),
}


def users(cast) -> dict:
    return {
        "grid_worker": cast.yeshan.grid_worker,
        "town_cadre": cast.yeshan.cadre,
        "town_admin": cast.yeshan.admin,
        "county_viewer": cast.county_viewer,
        "inspector": cast.inspector,
        "sysadmin": cast.sysadmin,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("permission", list(EXPECTED))
def test_can_per_role(cast, permission):
    by_role = users(cast)
    assert [can(by_role[role], permission) for role in ROLES] == list(EXPECTED[permission])


@pytest.mark.django_db
def test_inspector_and_county_viewer_write_nothing_in_the_field(cast):
    # The inspector reads everything and changes no registry, visit or grant.
    writes = {
        "registry.edit",
        "registry.change_status",
        "registry.import",
        "visit.log",
        "activity.log",
        "grant.issue",
        "grant.void",
        "grant.approve",
        "followup.edit",
        "budget.edit",
        "map.edit",
    }
    assert not writes & permissions_of(cast.inspector)
    assert not writes & permissions_of(cast.county_viewer)


@pytest.mark.django_db
def test_no_role_no_permission(cast):
    assert permissions_of(AnonymousUser()) == frozenset()
    assert not can(AnonymousUser(), "registry.view")
    cadre = cast.yeshan.cadre.cadre
    cadre.is_active = False
    cadre.save()
    cast.yeshan.cadre.refresh_from_db()
    assert not can(cast.yeshan.cadre, "registry.view")


def test_unknown_permission_is_an_error_not_a_no():
    with pytest.raises(KeyError):
        can(AnonymousUser(), "visit.logg")


@pytest.mark.django_db
def test_services_refuse_what_the_table_refuses(cast):
    with pytest.raises(PermissionDenied, match="无权限：重置本镇账号密码"):
        require(cast.yeshan.cadre, "user.reset_password")
    with pytest.raises(PermissionDenied):
        services.password_reset(actor=cast.yeshan.cadre, cadre=cast.yeshan.grid_worker.cadre, new_password="Nuanxin#2024-xin")
    cast.yeshan.grid_worker.refresh_from_db()
    assert cast.yeshan.grid_worker.check_password(PASSWORD)


def _views(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_permission_named_by_a_view_exists():
    named = {route: view.required_permission for route, view in _views(get_resolver()) if hasattr(view, "required_permission")}
    assert named, "no view is guarded by core.decorators.permission_required"
    assert "towns/users/" in named
    unknown = {route: permission for route, permission in named.items() if permission not in PERMISSIONS}
    assert unknown == {}


def test_every_can_flag_in_templates_is_a_permission():
    # {{ can.visit_log }} of a misspelt or removed permission would silently be False.
    used = set()
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for template in Path(directory).rglob("*.html"):
            used |= set(re.findall(r"\bcan\.(\w+)", template.read_text(encoding="utf-8")))
    assert used, "no template reads the role table"
    assert {flag for flag in used if flag.replace("_", ".", 1) not in PERMISSIONS} == set()


@pytest.mark.django_db
def test_templates_show_links_by_the_same_table(client, cast):
    client.force_login(cast.yeshan.admin)
    assert reverse("towns:user_list") in client.get(reverse("home")).content.decode()
    client.force_login(cast.yeshan.cadre)
    assert reverse("towns:user_list") not in client.get(reverse("home")).content.decode()


def test_markdown_table_has_every_role_and_permission():
    table = markdown_table().splitlines()
    assert all(label in table[0] for label in ROLE_LABELS.values())
    assert len(table) == 2 + len(PERMISSIONS)
    for name in PERMISSIONS:
        assert any(f"`{name}`" in line for line in table)


def test_roles_table_command_prints_the_table():
    out = StringIO()
    call_command("roles_table", stdout=out)
    assert out.getvalue().strip() == markdown_table()


def test_architecture_doc_shows_the_current_table():
    doc = Path(settings.BASE_DIR) / "ARCHITECTURE.md"
    if not doc.exists():
        pytest.skip("ARCHITECTURE.md not written yet")
    assert markdown_table() in doc.read_text(encoding="utf-8"), (
        "run `python manage.py roles_table` and paste it into ARCHITECTURE.md"
    )
