"""Issue 16 §2, §4 on a phone without JavaScript: a town cadre uploads the roster as the office
keeps it, maps the names the town spells its own way once, and reads what will be written."""

import pytest
from playwright.sync_api import expect

from core.scoping import unscoped
from tests.browser.conftest import PHONE
from tests.cast import PASSWORD
from tests.towns.messy_roster import messy_roster, setup_yeshan_names
from towns.models import NameAlias

pytestmark = pytest.mark.browser
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def plain_phone(browser, live_server, insecure_cookies):
    """A phone-sized page with JavaScript off: the mapping step is a plain form."""
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _screen(page, element, screenshot, name):
    """One phone screen from the top of that step (the full page is 60 rows long)."""
    folder = screenshot(page, name).parent
    top = max(element.bounding_box()["y"] + page.evaluate("window.scrollY") - 8, 0)
    clip = {"x": 0, "y": top, "width": PHONE["width"], "height": PHONE["height"]}
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True, clip=clip)


def test_cadre_maps_names_once_on_a_phone_and_reads_the_preview(
    plain_phone, browser_cast, log_in, screenshot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    names = setup_yeshan_names(browser_cast)
    page = plain_phone
    log_in(page, "ys_cadre", PASSWORD)
    page.goto("/towns/imports/")
    data, _ = messy_roster(faults=False)
    page.locator("input[type=file]").set_input_files({"name": "冶山镇花名册.xlsx", "mimeType": XLSX, "buffer": data})
    page.get_by_role("button", name="上传并校验").click()

    mapping = page.get_by_test_id("name-mapping")
    expect(mapping).to_contain_text("冶山村 — 13 行")
    expect(mapping).to_contain_text("第6网格 — 10 行")
    expect(mapping).to_contain_text("没有相近的名称")
    village = mapping.get_by_label("冶山村 — 13 行", exact=False)
    expect(village).to_have_value(str(names.village.pk))  # the suggestion comes preselected
    mapping.get_by_label("重点关注对象 — 1 行", exact=False).select_option(label="60岁以上")
    expect(page.get_by_test_id("confirm-form")).to_have_count(0)  # nothing to confirm while names are open
    box = mapping.bounding_box()
    assert box["width"] <= PHONE["width"], "the mapping step fits a phone"
    _screen(page, mapping, screenshot, "import-mapping-phone")

    page.get_by_role("button", name="保存对应并重新校验").click()
    expect(page.get_by_test_id("name-mapping")).to_have_count(0)
    expect(page.get_by_test_id("confirm-form")).to_be_visible()
    with unscoped():
        assert NameAlias.objects.filter(town=browser_cast.yeshan.town).count() == 5

    page.get_by_role("link", name="只看写入值与文件不同的").click()
    preview = page.get_by_test_id("preview-rows")
    expect(preview).to_contain_text("+86 138-0000-1234 → 13800001234")
    expect(preview).to_contain_text("冶山村 → 冶山社区")
    expect(preview).to_contain_text("15位身份证号升级为18位")
    expect(preview).not_to_contain_text("与原表一致")
    _screen(page, page.get_by_test_id("import-preview"), screenshot, "import-preview-phone")

    # The town's names, on the same phone: listed with what they map to, and removable.
    page.goto("/towns/imports/names/")
    aliases = page.get_by_test_id("alias-list")
    expect(aliases).to_contain_text("冶山村")
    expect(aliases).to_contain_text("冶山社区6-1号小网格")
    assert aliases.bounding_box()["width"] <= PHONE["width"], "the names page fits a phone"
    screenshot(page, "import-aliases-phone")
    aliases.locator("tr", has_text="重点关注对象").get_by_role("button", name="删除").click()
    expect(page.get_by_test_id("alias-list")).not_to_contain_text("重点关注对象")
    with unscoped():
        assert NameAlias.objects.filter(town=browser_cast.yeshan.town).count() == 4
