"""Issue 16 "Done when", end to end: a fresh database (no demo) set up from the template files with
`setup_county`; the town admin logs in with the one-time password, changes it, and takes a roster
that spells the town's names its own way through map once → preview → import, with every fault
real offices make handled by its row and the other rows still checked in the same pass."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from core import idnumbers
from core.scoping import unscoped
from tests.towns.messy_roster import messy_roster
from towns.county_setup import layout, workbooks
from towns.models import Beneficiary, Category, GridCell, NameAlias, RosterImport

TOWN = ["341181102000", "冶山镇", "镇"]
VILLAGES = [["341181102202", "冶山社区", "社区", "冶山镇"], ["341181102203", "长兴社区", "社区", "冶山镇"]]
CELLS = [
    ["冶山镇", "06", "冶山社区第六大网格", "大网格", "冶山社区", ""],
    ["冶山镇", "06-1", "冶山社区6-1号小网格", "小网格", "冶山社区", "06"],
    ["冶山镇", "06-2", "冶山社区6-2号小网格", "小网格", "冶山社区", "06"],
    ["冶山镇", "07", "冶山社区第七大网格", "大网格", "冶山社区", ""],
    ["冶山镇", "07-1", "冶山社区7号小网格", "小网格", "冶山社区", "07"],
    ["冶山镇", "01", "长兴社区大网格", "大网格", "长兴社区", ""],
    ["冶山镇", "01-1", "长兴社区1号小网格", "小网格", "长兴社区", "01"],
]
CATEGORIES = [
    ["over_60", "60岁以上", 90, 600, "否"],
    ["tekun", "特困供养人员", 30, 1200, "否"],
    ["elderly_alone", "独居老人", 30, 600, "否"],
]
CADRES = [["ys_admin", "周建华", "镇管理员", "冶山镇", "组织委员", "0550-7021000", ""]]
NEW_PASSWORD = "Yeshan-Roster-2026!"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _from_template(kind: str, rows: dict, path):
    """The downloaded template with its example rows replaced, as a county office fills it in."""
    book = load_workbook(io.BytesIO(workbooks.template(kind)))
    for title, data in rows.items():
        sheet = book[title]
        sheet.delete_rows(2, sheet.max_row)
        for row in data:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def town_admin(db, client, tmp_path):
    """A fresh county from its own files, and its town admin logged in with a password of their own."""
    with unscoped():
        assert not Category.objects.exists() and not GridCell.objects.exists(), "a fresh database"
    files = [
        "--map",
        _from_template("map", {"镇街道": [TOWN], "村社区": VILLAGES, "网格": CELLS}, tmp_path / "map.xlsx"),
        "--categories",
        _from_template("categories", {layout.CATEGORY_SHEET: CATEGORIES}, tmp_path / "categories.xlsx"),
        "--cadres",
        _from_template("cadres", {layout.CADRE_SHEET: CADRES}, tmp_path / "cadres.xlsx"),
    ]
    passwords = tmp_path / "passwords.xlsx"
    call_command("setup_county", *files, "--yes", "--passwords-out", passwords, stdout=io.StringIO())
    sheet = load_workbook(passwords)["冶山镇"]
    assert sheet["A3"].value == "ys_admin"
    response = client.post(reverse("login"), {"username": "ys_admin", "password": sheet["E3"].value})
    assert response.status_code == 302
    response = client.post(
        reverse("password_change"),
        {"old_password": sheet["E3"].value, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, "the one-time password is changed at the first login"
    return client


def _upload(client, data, capture, name):
    with capture(execute=True):
        response = client.post(reverse("towns:import_list"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302
    with unscoped():
        return RosterImport.objects.order_by("-id").first()


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_fresh_county_takes_a_real_towns_roster_map_once_preview_import(town_admin, django_capture_on_commit_callbacks):
    client, capture = town_admin, django_capture_on_commit_callbacks
    data, expected = messy_roster()
    roster_import = _upload(client, data, capture, "冶山镇花名册.xlsx")

    # One pass: every true fault on its own row, names asked once, totals and footnotes skipped.
    errors: dict[int, list[str]] = {}
    for error in roster_import.errors:
        errors.setdefault(error["row"], []).append(error["message"])
    wanted = {n: e for n, e in expected.rows.items() if e["outcome"] == "error"}
    assert set(errors) == set(wanted), (errors, wanted)
    for number, what in wanted.items():
        assert any(what["message"] in m for m in errors[number]), (what["fault"], errors[number])
    assert roster_import.error_count == len(roster_import.errors) == 4 and roster_import.error_file
    assert [s["row"] for s in roster_import.skipped] == expected.skipped
    asked = {(e["kind"], e["name"]): e for e in roster_import.unknown_names}
    assert set(asked) == {
        ("village", "冶山村"),
        ("cell", "第6网格"),
        ("category", "60岁以上老人"),
        ("category", "五保户"),
        ("category", "重点关注对象"),
    }
    assert [s["label"] for s in asked[("village", "冶山村")]["suggestions"]] == ["冶山社区"]
    assert asked[("category", "重点关注对象")]["suggestions"] == []
    page = _text(client.get(reverse("towns:import_detail", args=[roster_import.pk])))
    assert "冶山村" in page and "13 行" in page and "下载错误清单" in page

    # Map once: the suggestions as offered, and the one name nothing resembled picked by hand.
    over_60 = Category.objects.get(code="over_60")
    picks = {f"name-{i}": str(e["suggestions"][0]["id"]) for i, e in enumerate(roster_import.unknown_names) if e["suggestions"]}
    picks[f"name-{[e['name'] for e in roster_import.unknown_names].index('重点关注对象')}"] = str(over_60.pk)
    with capture(execute=True):
        client.post(reverse("towns:import_map", args=[roster_import.pk]), picks)
    with unscoped():
        roster_import.refresh_from_db()
        assert NameAlias.objects.count() == 5
    assert roster_import.unknown_names == [] and len(roster_import.errors) == 4, "only the true errors are left"

    # The office fixes its four rows and uploads again: the preview says what will be stored.
    fixed, expected = messy_roster(faults=False)
    roster_import = _upload(client, fixed, capture, "冶山镇花名册（改）.xlsx")
    assert roster_import.status == RosterImport.Status.READY and roster_import.can_confirm, roster_import.message
    people = [n for n, e in expected.rows.items() if e["outcome"] == "new"]
    assert roster_import.to_create == len(people) == roster_import.total_rows
    page = _text(client.get(reverse("towns:import_detail", args=[roster_import.pk]), {"show": "changed"}))
    for shown in ("冶山村", "冶山社区", "15位身份证号升级为18位", "末位x改为大写X", "13800001234", "拆分为2项"):
        assert shown in page, shown

    with capture(execute=True):
        client.post(reverse("towns:import_confirm", args=[roster_import.pk]))
    with unscoped():
        roster_import.refresh_from_db()
        assert roster_import.status == RosterImport.Status.DONE, roster_import.message
        assert Beneficiary.objects.count() == len(people)
        stored = {p.name: p for p in Beneficiary.objects.prefetch_related("categories").select_related("cell")}
    by_fault = {e.get("fault"): e for e in expected.rows.values()}
    for fault in ("ID stored as a number", "lowercase x", "full-width digits", "spaces in the ID", "15-digit ID"):
        assert any(p.id_number_digest == idnumbers.digest(by_fault[fault]["id"]) for p in stored.values()), fault
    assert stored["沈大勇"].phone == "13800001234" and stored["韩明珠"].phone == "0550-7021234"
    assert stored["杨春生"].phone == "13905508866"
    assert {c.name for c in stored["朱秀兰"].categories.all()} == {"60岁以上", "特困供养人员"}
    assert {c.name for c in stored["秦老五"].categories.all()} == {"特困供养人员"}
    assert {c.name for c in stored["尤翠花"].categories.all()} == {"60岁以上"}
    assert "何平" in stored and "吕桂香" in stored and stored["施金山"].cell.name == "冶山社区7号小网格"
    sixth = [e["name"] for e in expected.rows.values() if e.get("cell") == "第6网格"]
    assert sixth and all(stored[n].cell.name == "冶山社区6-1号小网格" for n in sixth)

    # The aliases page lists what was mapped; removing one makes the next roster ask again.
    page = _text(client.get(reverse("towns:alias_list")))
    assert "重点关注对象" in page and "冶山村" in page
    with unscoped():
        alias = NameAlias.objects.get(name="重点关注对象")
    client.post(reverse("towns:alias_remove", args=[alias.pk]))
    with unscoped():
        assert not NameAlias.objects.filter(pk=alias.pk).exists()
    again, _ = messy_roster(faults=False, seed=1)
    roster_import = _upload(client, again, capture, "冶山镇花名册（二月）.xlsx")
    assert [e["name"] for e in roster_import.unknown_names] == ["重点关注对象"]
