"""A demand from the doorstep to 销号 on a 360-px phone (issue 6): a cadre records it on a visit,
it shows on the 挂图作战 board and on the person's timeline; a colleague resolves it and the
return visit closes it."""

import pytest
from playwright.sync_api import expect

from core.scoping import unscoped
from tests.browser.conftest import PHONE
from tests.cast import PASSWORD
from visits.models import FollowUp

pytestmark = pytest.mark.browser

DEMAND = "院墙倒塌需要重砌"


def _demand():
    with unscoped():
        return FollowUp.objects.select_related("owner").get(title=DEMAND)


def _record_demand_on_a_visit(page, person):
    page.goto(f"/visits/new/?beneficiary={person.pk}")
    expect(page.get_by_test_id("person-header")).to_contain_text(person.name)
    page.get_by_label("群众诉求").fill(DEMAND)
    page.get_by_label("情况记录").fill("老人反映院墙倒塌，出入不安全。")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_role("alert")).to_contain_text("诉求 1 条")


def test_a_demand_recorded_on_a_visit_reaches_the_board_and_the_timeline(page, browser_cast, log_in, screenshot):
    person = browser_cast.yeshan.person
    log_in(page, "ys_cadre", PASSWORD)
    _record_demand_on_a_visit(page, person)

    # The person's timeline shows the demand straight after saving.
    expect(page.get_by_test_id("timeline")).to_contain_text(DEMAND)
    item = _demand()
    assert (item.kind, item.status, item.beneficiary_id, item.town_id) == ("demand", "pending", person.pk, person.town_id)

    # The town's board lists it among the open items, on a phone without sideways scrolling.
    page.goto("/visits/board/")
    card = page.get_by_test_id("board-item").filter(has_text=DEMAND)
    expect(card).to_have_count(1)
    expect(card).to_contain_text(person.name)
    expect(card).to_contain_text("待受理")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "board-phone")

    # 铜城镇's cadre does not see it.
    page.context.clear_cookies()
    log_in(page, "tc_cadre", PASSWORD)
    page.goto("/visits/board/")
    expect(page.get_by_test_id("board-item").filter(has_text=DEMAND)).to_have_count(0)

    # A colleague, the town admin, opens it from the board, takes it on and resolves it.
    page.context.clear_cookies()
    log_in(page, "ys_admin", PASSWORD)
    page.goto("/visits/board/")
    page.get_by_test_id("board-item").filter(has_text=DEMAND).click()
    expect(page.get_by_role("heading", name=DEMAND)).to_be_visible()
    page.get_by_role("button", name="受理").click()
    expect(page.get_by_test_id("status")).to_have_text("办理中")
    expect(page.get_by_test_id("owner")).to_contain_text("冶山镇管理员")
    page.get_by_placeholder("办理结果（可选）").fill("已联系施工队重砌院墙")
    page.get_by_role("button", name="办结").click()
    expect(page.get_by_test_id("status")).to_have_text("已办结")
    # 已办结 waits for the return visit: no longer open work on the board.
    page.goto("/visits/board/")
    expect(page.get_by_test_id("board-item").filter(has_text=DEMAND)).to_have_count(0)

    # The return visit: the cadre who recorded it hears the person is satisfied, and closes it (销号).
    page.context.clear_cookies()
    log_in(page, "ys_cadre", PASSWORD)
    page.goto(f"/visits/followups/{item.pk}/")
    page.get_by_label("满意", exact=True).check()
    page.get_by_placeholder("回访情况").fill("院墙已重砌，老人很满意")
    page.get_by_role("button", name="记录回访").click()
    expect(page.get_by_test_id("status")).to_have_text("已回访")
    page.get_by_role("button", name="销号").click()
    expect(page.get_by_test_id("status")).to_have_text("已销号")
    screenshot(page, "followup-closed-phone")
    item = _demand()
    assert (item.status, item.satisfaction, item.owner.name) == ("closed", "satisfied", "冶山镇管理员")
    assert item.closed_on is not None and item.resolved_on is not None

    # The board's figures count it: one raised, one closed, one demand solved, all satisfied.
    page.goto("/visits/board/")
    row = page.get_by_test_id("figures").get_by_role("row").filter(has_text="冶山镇管理员")
    expect(row).to_contain_text("100%")
