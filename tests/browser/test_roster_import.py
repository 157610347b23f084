"""A town admin imports a roster with one bad row, sees the error, fixes the file and imports
(issue 4 §5), in Chromium at desktop width."""

from datetime import date

import pytest
from playwright.sync_api import expect

from core.scoping import unscoped
from tests.cast import PASSWORD
from tests.towns.roster_files import new_id, row, xlsx
from towns.models import Beneficiary

pytestmark = pytest.mark.browser


def _registered(names):
    with unscoped():
        return sorted(Beneficiary.objects.filter(name__in=names).values_list("name", flat=True))


def test_admin_fixes_a_bad_row_and_imports(desktop_page, browser_cast, log_in, screenshot, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    page = desktop_page
    good = new_id(date(1944, 2, 3), 11)
    wrong = new_id(date(1946, 7, 8), 13)
    wrong = wrong[:17] + ("1" if wrong[17] != "1" else "2")  # a typo in the check character
    names = ["孙玉兰", "钱守业"]
    log_in(page, "ys_admin", PASSWORD)
    page.get_by_role("link", name="导入花名册").first.click()

    page.locator("input[type=file]").set_input_files(
        {
            "name": "花名册.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": xlsx([row(names[0], good), row(names[1], wrong)]),
        }
    )
    page.get_by_role("button", name="上传并校验").click()
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("第4行")  # title row, header row, then the two people
    expect(errors).to_contain_text("校验位不正确")
    expect(page.get_by_test_id("confirm-form")).to_have_count(0)
    screenshot(page, "import-error")
    assert _registered(names) == []  # nothing written while any row is wrong

    page.get_by_role("link", name="重新上传").first.click()
    fixed = new_id(date(1946, 7, 8), 13)
    page.locator("input[type=file]").set_input_files(
        {
            "name": "花名册（已改）.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": xlsx([row(names[0], good), row(names[1], fixed)]),
        }
    )
    page.get_by_role("button", name="上传并校验").click()
    expect(page.get_by_test_id("import-counts")).to_contain_text("2 人")
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "done")
    screenshot(page, "import-done")
    assert _registered(names) == sorted(names)
