"""The weekly bulletin in a browser (issue 7 §2, issue 12 §4): a town cadre submits the town's text on a
phone; the county editor sets the series' next number, drafts the week (the town's own text first,
the towns with nothing singled out in one closing sentence), publishes, and the town reads the issue."""

from datetime import date

import pytest
from playwright.sync_api import expect

from core.scoping import unscoped
from reports.models import Bulletin, BulletinSubmission
from tests.browser.conftest import PHONE
from tests.cast import PASSWORD, at
from tests.reports.test_bulletin import _activity, _visit

pytestmark = pytest.mark.browser

# The seed bulletin's own item for 冶山镇 (天长组工信息 第118期), as the town would submit it.
SEED_HEADLINE = "“三字诀”推动走访慰问见行见效"
SEED_BODY = (
    "**高位谋划，立足“早”字做谋划。**镇党委提早谋划，召开专题会议，研究部署“进家门、访民困、送温暖”双节慰问工作，"
    "镇级领导干部带头包村入户，着力构建“镇党委领导+村两委协调+网格化落实”的工作体系。"
    "**分类施策，瞄准“实”字遍走访。**按照70个大网格、284个小网格划分开展入户大宣传大摸排“敲门行动”，"
    "确保“不漏一户，不落一人”。**强化督导，压实“严”字抓落实。**镇纪委牵头，开展春节前慰问金发放专项监督检查，"
    "禁打慰问“亲情牌”，保障党和政府的关怀落到实处。"
)


def test_a_town_submits_and_the_editor_publishes(page, desktop_page, browser_cast, log_in, screenshot):
    cast = browser_cast
    with unscoped():
        _visit(cast.yeshan, cast.yeshan.person, at(2024, 1, 9, 10))
        _activity(cast.yeshan, date(2024, 1, 10), reached=726, gifts=1437)
        _activity(cast.tongcheng, date(2024, 1, 11), reached=312, gifts=40)
        _visit(cast.tongcheng, cast.tongcheng.person, at(2024, 1, 11, 15))
        BulletinSubmission.objects.create(
            town=cast.yeshan.town,
            week_start=date(2024, 1, 8),
            headline=SEED_HEADLINE,
            body=SEED_BODY,
            submitted_by=cast.yeshan.admin,
        )

    # A town cadre submits this week's text on a phone and sees it listed as not yet used.
    log_in(page, "ys_cadre", PASSWORD)
    page.goto("/reports/bulletins/submissions/")
    page.get_by_label("标题").fill("敲门行动不漏一户")
    page.get_by_label("正文（经验做法）").fill("按照网格划分开展入户走访。")
    page.get_by_role("button", name="报送").click()
    expect(page.get_by_role("alert")).to_contain_text("已报送")
    page.goto("/reports/bulletins/submissions/")
    expect(page.get_by_text("敲门行动不漏一户")).to_be_visible()
    expect(page.get_by_text("未采用").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The county editor drafts the week of 2024-01-08 and works on it.
    ed = desktop_page
    ed.on("dialog", lambda dialog: dialog.accept())
    log_in(ed, "county_viewer", PASSWORD)
    ed.goto("/reports/bulletins/")
    ed.get_by_label("下一期期号").fill("119")  # the county's series is at 第118期
    ed.get_by_role("button", name="保存期号设置").click()
    expect(ed.get_by_role("alert")).to_contain_text("下一期为第119期")
    ed.get_by_label("所涵盖的一周").fill("2024-01-10")
    ed.get_by_role("button", name="按该周数据生成草稿").click()
    expect(ed.get_by_test_id("bulletin-editor")).to_contain_text("（暂定）")
    bulletin = Bulletin.objects.get(week_start=date(2024, 1, 8))
    expect(ed.get_by_test_id(f"item-{cast.tongcheng.town.code}")).to_contain_text("不编入")
    # The town's own text is used first; 铜城镇, with nothing singled out, waits in the closing sentence.
    first = ed.get_by_test_id("bulletin-editor").locator("[data-testid^=item-]").first
    expect(first).to_contain_text(f"□冶山镇：{SEED_HEADLINE}")
    expect(first).to_contain_text("镇（街道）报送")

    header = ed.get_by_test_id("header-form")
    header.get_by_label("印发日期").fill("2024-01-09")
    header.get_by_role("button", name="保存刊头").click()
    expect(ed.get_by_role("alert")).to_contain_text("已保存刊头")

    screenshot(ed, "bulletin-editor")
    ed.get_by_test_id("publish").click()
    expect(ed.get_by_role("alert")).to_contain_text("已发布2024年第119期")
    bulletin.refresh_from_db()
    assert (bulletin.status, bulletin.number) == ("published", 119)

    article = ed.get_by_test_id("bulletin")
    expect(article).to_contain_text("第 119 期")
    expect(article).to_contain_text("1月8日至14日，围绕“双节慰问”，全市2个镇（街道）共入户走访2户")
    expect(article).to_contain_text("此外，铜城镇本周共入户走访1户")
    expect(article).to_contain_text("2024年1月9日")
    expect(article).to_contain_text("【“双节慰问”专题】")
    expect(article).to_contain_text(f"□冶山镇：{SEED_HEADLINE}。")
    expect(article).to_contain_text("报：部领导")
    expect(article.locator("strong", has_text="高位谋划")).to_be_visible()
    screenshot(ed, "bulletin-page")

    # The town sees its text was used in 第119期, and reads the issue itself.
    page.goto("/reports/bulletins/submissions/")
    expect(page.get_by_text("已采用 · 2024年第119期")).to_be_visible()
    page.goto("/reports/bulletins/")
    page.get_by_role("link", name="第119期").click()
    expect(page.get_by_test_id("bulletin")).to_contain_text(f"□冶山镇：{SEED_HEADLINE}。")
