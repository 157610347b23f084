"""Issue 16 §1: a county set up from its own files (division map, categories, cadres), by page and shell."""

import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from core.models import AuditRecord
from core.scoping import unscoped
from towns.county_setup import layout, workbooks, writing
from towns.county_setup.plan import analyse
from towns.models import Cadre, Category, GridCell, Town, Village

ADMIN_PASSWORD = "Setup-Admin-2024!"


def _xlsx(kind: str, rows: dict[str, list]) -> bytes:
    """The app's own template with its example rows replaced by ``rows`` (sheet -> rows)."""
    book = load_workbook(io.BytesIO(workbooks.template(kind)))
    for title, data in rows.items():
        sheet = book[title]
        sheet.delete_rows(2, sheet.max_row)
        for row in data:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


TOWNS = [["341122100000", "大柳镇", "镇"], ["341122001", "滁城街道", "街道"]]  # the second: a 9-digit code
VILLAGES = [
    ["341122100201", "大柳村", "村", "341122100000"],
    ["341122100202", "新桥社区", "社区", "大柳镇"],
    ["341122001001", "琅琊社区", "社区", "滁城街道"],
]
CELLS = [
    ["341122100000", "DL-1", "大柳村大网格", "大网格", "341122100201", ""],
    ["341122100000", "DL-1-1", "大柳村1号小网格", "小网格", "大柳村", "DL-1"],
    ["341122100000", "DL-1-2", "大柳村2号小网格", "小网格", "341122100201", "DL-1"],
    ["341122100000", "XQ-1", "新桥社区大网格", "大网格", "341122100202", ""],
    ["341122100000", "XQ-1-1", "新桥社区1号小网格", "小网格", "341122100202", "XQ-1"],
    ["滁城街道", "LY-1", "琅琊社区大网格", "大网格", "341122001001", ""],
    ["滁城街道", "LY-1-1", "琅琊社区1号小网格", "小网格", "341122001001", "LY-1"],
]
CATEGORIES = [["elderly_alone", "独居老人", 30, 600, "否"], ["disabled", "残疾人", 60, "800", "是"]]
CADRES = [
    ["dl_wgy1", "王小红", "网格员", "大柳镇", "网格员", "+86 138-0000-1234", "DL-1-1、DL-1-2"],
    ["dl_admin", "李建国", "镇管理员", "341122100000", "组织委员", "", ""],
    ["cc_cadre", "赵敏", "镇村干部", "滁城街道", "社区书记", "", "LY-1-1"],
    ["zzb_li", "李科长", "组织部", "", "组织科科长", "", ""],
]


def _files(map_rows=None, categories=None, cadres=None) -> dict:
    files = {}
    if map_rows is not None:
        files["map"] = SimpleUploadedFile("区划.xlsx", _xlsx("map", map_rows))
    if categories is not None:
        files["categories"] = SimpleUploadedFile("类别.xlsx", _xlsx("categories", {layout.CATEGORY_SHEET: categories}))
    if cadres is not None:
        files["cadres"] = SimpleUploadedFile("干部.xlsx", _xlsx("cadres", {layout.CADRE_SHEET: cadres}))
    return files


def _map(towns=TOWNS, villages=VILLAGES, cells=CELLS):
    return {"镇街道": towns, "村社区": villages, "网格": cells}


@pytest.fixture
def sysadmin(db, monkeypatch, client):
    """A fresh database, no demo: the first admin from setup_admin, logged in."""
    monkeypatch.setenv("NUANXIN_ADMIN_PASSWORD", ADMIN_PASSWORD)
    call_command("setup_admin", "county_admin", stdout=io.StringIO())
    assert client.post(reverse("login"), {"username": "county_admin", "password": ADMIN_PASSWORD}).status_code == 302
    return client


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_templates_have_a_header_and_an_example_and_import_as_they_are(sysadmin):
    for kind in ("map", "categories", "cadres"):
        response = sysadmin.get(reverse("towns:county_setup_template", args=[kind]))
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content))
        for sheet in book.worksheets[:-1]:
            assert sheet.max_row >= 2 and sheet["A1"].value  # header and example row
        assert book.worksheets[-1].title == "填写说明"
    # The untouched templates are valid files: their example rows pass the checks.
    plan = analyse(
        map_file=(io.BytesIO(workbooks.template("map")), 1, "m.xlsx"),
        categories_file=(io.BytesIO(workbooks.template("categories")), 1, "c.xlsx"),
        cadres_file=(io.BytesIO(workbooks.template("cadres")), 1, "d.xlsx"),
    )
    assert plan.ok, [str(p) for p in plan.problems]


def test_fresh_county_from_files_then_rerun_with_a_rename_and_an_addition(sysadmin, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        page = sysadmin.get(reverse("towns:county_setup"))
    assert page.status_code == 200 and "下载模板" in _text(page)
    with django_assert_max_num_queries(40):
        preview = sysadmin.post(reverse("towns:county_setup"), _files(_map(), CATEGORIES, CADRES))
    body = _text(preview)
    assert "镇（街道）：新增2，更名0" in body and "网格：新增7" in body and "干部账号：新增4" in body
    assert "没有发现问题" in body and 'data-testid="setup-confirm"' in body
    with unscoped():
        assert Town.objects.count() == 0  # a preview writes nothing

    done = sysadmin.post(reverse("towns:county_setup_confirm"))
    assert done.status_code == 302 and done.url == reverse("towns:county_setup_passwords")
    with unscoped():
        assert Town.objects.get(code="341122001000").kind == "subdistrict"
        assert Village.objects.count() == 3 and GridCell.objects.filter(level="small").count() == 4
        small = GridCell.objects.get(code="DL-1-2")
        assert small.parent.code == "DL-1" and small.village.name == "大柳村"
        assert Category.objects.get(code="disabled").sensitive and Category.objects.get(code="elderly_alone").standard == 600
        worker = Cadre.objects.select_related("user", "town").get(user__username="dl_wgy1")
        assert worker.town.name == "大柳镇" and worker.phone == "13800001234" and worker.password_temporary
        assert sorted(worker.assigned_ids()[0]) == sorted(
            GridCell.objects.filter(code__in=["DL-1-1", "DL-1-2"]).values_list("pk", flat=True)
        )
        assert Cadre.objects.get(user__username="zzb_li").town is None
        run = AuditRecord.objects.get(action="county_setup.run")
        assert run.channel == "web" and AuditRecord.objects.filter(action="county_setup.cell_create").count() == 7

    # The passwords: one sheet per town, shown once, then gone.
    sheet = sysadmin.get(reverse("towns:county_setup_passwords"))
    body = _text(sheet)
    assert body.count('data-testid="passwords-town"') == 3  # 大柳镇, 滁城街道, 县级
    passwords = dict(
        re.findall(
            r"<td>([a-z_0-9]+)</td><td class=\"font-monospace\" data-testid=\"password\">([^<]+)</td>", sheet.content.decode()
        )
    )
    passwords = {user: html.unescape(p) for user, p in passwords.items()}
    assert set(passwords) == {"dl_wgy1", "dl_admin", "cc_cadre", "zzb_li"}
    assert len(set(passwords.values())) == 4 and all(len(p) >= 12 for p in passwords.values())
    again = sysadmin.get(reverse("towns:county_setup_passwords"))
    assert 'data-testid="passwords-gone"' in _text(again) and passwords["dl_wgy1"] not in again.content.decode()
    # The one-time password works once, and must be changed at the first login.
    cadre_client = sysadmin.__class__()
    assert cadre_client.post(reverse("login"), {"username": "dl_wgy1", "password": passwords["dl_wgy1"]}).status_code == 302
    forced = cadre_client.get(reverse("registry:person_list"))
    assert forced.status_code == 302 and forced.url.startswith(reverse("password_change"))

    # Rerun: a village renamed under its code, a cell added, a town missing from the file (kept).
    villages = [list(v) for v in VILLAGES]
    villages[0][1] = "大柳社区"
    cells = [*CELLS, ["341122100000", "XQ-1-2", "新桥社区2号小网格", "小网格", "341122100202", "XQ-1"]]
    cadres = [*CADRES, ["dl_wgy2", "陈晨", "网格员", "大柳镇", "网格员", "", "XQ-1-2"]]
    preview = sysadmin.post(
        reverse("towns:county_setup"), _files(_map(towns=TOWNS[:1], villages=villages, cells=cells), CATEGORIES, cadres)
    )
    body = _text(preview)
    assert "村（社区）：新增0，更名1，其他变更0，无变化2" in body
    assert "网格：新增1，更名0，其他变更0，无变化7" in body and "大柳村 → 大柳社区" in body
    assert "干部账号：新增1，更名0，其他变更0，无变化4" in body
    assert "文件中没有，保留：滁城街道（341122001000）" in body
    assert sysadmin.post(reverse("towns:county_setup_confirm")).status_code == 302
    with unscoped():
        assert Village.objects.get(code="341122100201").name == "大柳社区"
        assert Town.objects.filter(code="341122001000").exists()  # kept, never deleted
        assert GridCell.objects.count() == 8 and Cadre.objects.count() == 6
    sheet = _text(sysadmin.get(reverse("towns:county_setup_passwords")))
    assert "dl_wgy2" in sheet and "dl_wgy1" not in sheet  # only the new account gets a password


def test_a_file_with_errors_is_refused_whole_with_row_level_messages(sysadmin):
    towns = [*TOWNS, ["34112210", "坏代码镇", "镇"], ["341122102000", "乡", "乡"]]
    cells = [
        *CELLS,
        ["341122100000", "DL-9", "无村网格", "小网格", "不存在村", "DL-1"],
        ["341122100000", "DL-1-1", "重复编号", "小网格", "大柳村", "DL-1"],
        ["341122100000", "DL-8", "=1+1", "小网格", "大柳村", "DL-404"],
    ]
    cadres = [["dl_x", "某人", "队长", "大柳镇", "", "12345", "DL-1"], ["zzb_x", "某某", "组织部", "大柳镇", "", "", ""]]
    preview = sysadmin.post(
        reverse("towns:county_setup"), _files(_map(towns=towns, cells=cells), [["bad code", "x", 0, "", ""]], cadres)
    )
    body = _text(preview)
    assert 'data-testid="setup-problems"' in body and 'data-testid="setup-confirm"' not in body
    for message in (
        "“镇街道”表第4行【区划代码】：“34112210”不是12位（或9位）数字",
        "“镇街道”表第5行【类型】：“乡”不对，请填“镇”或“街道”",
        "“网格”表第9行【所属村（社区）】：本镇没有“不存在村”",
        "“网格”表第10行【网格编号】：本镇网格编号“DL-1-1”与第3行重复",
        "“网格”表第11行【网格名称】：含有公式",
        "“人群类别”表第2行【代码】",
        "“干部”表第2行【角色】：“队长”不对",
        "“干部”表第3行【所属镇（街道）】：组织部是县级角色",
    ):
        assert message in body, message
    # Nothing written, and nothing to confirm.
    assert sysadmin.post(reverse("towns:county_setup_confirm")).status_code == 302
    with unscoped():
        assert not Town.objects.exists() and not Category.objects.filter(code="bad code").exists()
        assert not Cadre.objects.filter(user__username="dl_x").exists()


def test_a_cell_with_people_absent_from_the_file_is_kept_and_cannot_move(cast):
    """cast: two towns with people in their cells; the file lists 冶山镇 without the grid worker's cell."""
    town = cast.yeshan.town
    village = cast.yeshan.village
    keep = cast.yeshan.cell  # has people
    rows = _map(
        towns=[[town.code, town.name, "镇"]],
        villages=[[village.code, village.name, "村", town.code]],
        cells=[[town.code, cast.yeshan.big.code, cast.yeshan.big.name, "大网格", village.code, ""]],
    )
    data = _xlsx("map", rows)
    plan = analyse(map_file=(io.BytesIO(data), len(data), "m.xlsx"))
    assert plan.ok, [str(p) for p in plan.problems]
    kept = plan.parts["cells"].kept
    assert any(keep.name in k and "名在册对象" in k for k in kept), kept
    writing.apply(actor=cast.sysadmin, plan=plan)
    with unscoped():
        assert GridCell.objects.filter(pk=keep.pk).exists()
        Village.objects.create(town=town, code=town.code[:9] + "299", name="另一村")
    # Moving that cell to another village would orphan its households: refused, by row.
    rows["村社区"].append([town.code[:9] + "299", "另一村", "村", town.code])
    rows["网格"].append([town.code, keep.code, keep.name, "小网格", town.code[:9] + "299", cast.yeshan.big.code])
    data = _xlsx("map", rows)
    plan = analyse(map_file=(io.BytesIO(data), len(data), "m.xlsx"))
    problems = [str(p) for p in plan.problems]
    assert f"“网格”表第3行【所属村（社区）】：“{keep.name}”已有1名在册对象，不能改层级或改到其他村（社区）" in problems, problems
    assert not plan.ok


def test_the_shell_previews_then_imports_and_writes_the_passwords_once(db, tmp_path):
    paths = {}
    for kind, data in (
        ("map", _xlsx("map", _map())),
        ("categories", _xlsx("categories", {layout.CATEGORY_SHEET: CATEGORIES})),
        ("cadres", _xlsx("cadres", {layout.CADRE_SHEET: CADRES})),
    ):
        paths[kind] = tmp_path / f"{kind}.xlsx"
        paths[kind].write_bytes(data)
    args = ["--map", paths["map"], "--categories", paths["categories"], "--cadres", paths["cadres"]]
    out = io.StringIO()
    call_command("setup_county", *args, stdout=out)
    assert "镇（街道）：新增2" in out.getvalue() and "仅检查，未导入" in out.getvalue()
    with unscoped():
        assert not Town.objects.exists()
    with pytest.raises(CommandError, match="passwords-out"):
        call_command("setup_county", *args, "--yes", stdout=io.StringIO())
    secret = tmp_path / "passwords.xlsx"
    call_command("setup_county", *args, "--yes", "--passwords-out", secret, stdout=out)
    book = load_workbook(secret)
    assert sorted(book.sheetnames) == sorted(["大柳镇", "滁城街道", "县级"])
    password = book["大柳镇"]["E3"].value
    with unscoped():
        user = Cadre.objects.get(user__username=book["大柳镇"]["A3"].value).user
        assert user.check_password(password) and user.cadre.password_temporary
        assert AuditRecord.objects.get(action="county_setup.run").channel == "shell"
    # Rerun: nothing new, so no password file is needed; the errors of a bad file come with their rows.
    out = io.StringIO()
    call_command("setup_county", *args, "--yes", stdout=out)
    assert "干部账号：新增0，更名0，其他变更0，无变化4" in out.getvalue()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_xlsx("categories", {layout.CATEGORY_SHEET: [["x", "某类", "三十", "", ""]]}))
    out = io.StringIO()
    with pytest.raises(CommandError, match="1处问题"):
        call_command("setup_county", "--categories", bad, "--yes", stdout=out)
    assert "“人群类别”表第2行【走访周期（天）】：“三十”不是正整数天数" in out.getvalue()


def test_unsafe_files_are_refused_like_rosters(sysadmin):
    fake = SimpleUploadedFile("区划.xlsx", b"not a zip at all")
    body = _text(sysadmin.post(reverse("towns:county_setup"), {"map": fake}))
    assert "文件不是有效的 Excel 工作簿" in body
    book = Workbook()
    out = io.BytesIO()
    book.save(out)
    body = _text(sysadmin.post(reverse("towns:county_setup"), {"map": SimpleUploadedFile("区划.xlsx", out.getvalue())}))
    assert "工作簿中没有名为“镇街道”的工作表" in body


def test_a_village_cannot_move_to_another_town(cast):
    village, other = cast.yeshan.village, cast.tongcheng.town
    data = _xlsx("map", _map(towns=[], villages=[[village.code, village.name, "社区", other.name]], cells=[]))
    plan = analyse(map_file=(io.BytesIO(data), len(data), "m.xlsx"))
    assert [str(p) for p in plan.problems] == [
        f"“村社区”表第2行【所属镇（街道）】：区划代码{village.code}已是冶山镇的{village.name}，不能改属其他镇（街道）"
    ]
    with pytest.raises(writing.NotApplied):
        writing.apply(actor=cast.sysadmin, plan=plan)


def test_one_time_passwords_are_strong_and_cheap_to_hash_once(settings):
    from django.contrib.auth.hashers import check_password

    from towns.passwords import CharacterClassValidator

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    passwords = {writing.one_time_password() for _ in range(200)}
    assert len(passwords) == 200 and all(len(p) == 12 for p in passwords)
    for password in passwords:
        CharacterClassValidator().validate(password)  # the site's own rule for chosen passwords
        assert not set(password) & set("0O1lI")
    encoded = writing._temporary_hash("Abc@12345678")
    # Random ~70-bit passwords: a smaller work factor, upgraded by Django at the first login.
    assert encoded.startswith(f"pbkdf2_sha256${writing.TEMPORARY_ITERATIONS}$") and check_password("Abc@12345678", encoded)
