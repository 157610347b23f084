"""A grid worker logs a visit on a 360-px phone: from the home page to the saved visit in three
screens, and a resubmitted form never makes a second visit or grant (issue 4 §3)."""

import re

import pytest
from playwright.sync_api import expect

from core.scoping import unscoped
from funds.models import Disbursement
from tests.browser.conftest import PHONE
from tests.cast import PASSWORD
from visits.models import FollowUp, Visit

pytestmark = pytest.mark.browser


def _saved():
    with unscoped():
        return Visit.objects.count(), Disbursement.objects.count(), FollowUp.objects.count()


def _fill(page):
    page.get_by_text("电话慰问", exact=True).click()
    page.get_by_label("慰问金（元）").fill("300")
    page.get_by_label("收缩压").fill("138")
    page.get_by_label("舒张压").fill("86")
    page.get_by_label("群众诉求").fill("屋顶漏雨需要修缮")
    page.get_by_label("情况记录").fill("老人身体尚可，家中取暖不足。")


def test_grid_worker_logs_a_visit_from_the_home_page(page, browser_cast, log_in, screenshot):
    person = browser_cast.yeshan.person
    log_in(page, "ys_grid", PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))

    # Screen 1, home: the person is due, with a "登记走访" link; screen 2: the form.
    screenshot(page, "home-phone")
    due = page.get_by_test_id("overdue").get_by_role("listitem").filter(has_text=person.name)
    due.get_by_role("link", name="登记走访").click()
    expect(page.get_by_test_id("person-header")).to_contain_text("李桂英")
    expect(page.get_by_test_id("person-header")).to_contain_text("独居老人")
    _fill(page)
    key = page.locator("input[name=idempotency_key]").input_value()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The save button stays at the bottom of the screen while the form scrolls.
    button = page.get_by_role("button", name="保存走访记录")
    box = button.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"] + 1 and box["width"] > 300
    # The whole filled form in one picture: let the sticky bar sit at the end of the form.
    page.add_style_tag(content=".visit-submit { position: static !important; }")
    screenshot(page, "visit-form-phone")

    # Screen 3: saved, on the person's page, with what was created.
    button.click()
    expect(page.get_by_role("alert")).to_contain_text("已登记走访：李桂英（发放慰问金 ¥300.00，诉求 1 条）")
    assert _saved() == (1, 1, 1)
    with unscoped():
        visit = Visit.objects.get()
    assert (visit.kind, visit.bp_systolic, visit.bp_diastolic) == ("phone", 138, 86)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The person's timeline shows the visit, the grant and the demand.
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("电话慰问")
    expect(timeline).to_contain_text("¥300.00")
    expect(timeline).to_contain_text("屋顶漏雨需要修缮")
    screenshot(page, "visit-done-phone")

    # Back to the form and submit it again: the same form, the same key, the same answer.
    page.go_back()
    expect(page.get_by_role("button", name="保存走访记录")).to_be_enabled()
    assert page.locator("input[name=idempotency_key]").input_value() == key
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_role("alert")).to_contain_text("该次走访已登记过，未重复保存：李桂英")
    assert _saved() == (1, 1, 1)

    # A network retry: the same form posted again outside htmx.
    page.go_back()
    status = page.evaluate(
        """async () => {
            const form = document.getElementById('visit-form');
            const response = await fetch(form.action, {method: 'POST', body: new FormData(form)});
            return response.status;
        }"""
    )
    assert status == 200  # followed the redirect to the person's page
    assert _saved() == (1, 1, 1)

    # Back home: the person has left the overdue list.
    page.goto("/")
    expect(page.get_by_test_id("overdue")).not_to_contain_text(person.name)


def test_errors_keep_what_was_typed_on_a_phone(page, browser_cast, log_in, screenshot):
    log_in(page, "ys_grid", PASSWORD)
    page.goto(f"/visits/new/?beneficiary={browser_cast.yeshan.person.pk}")
    _fill(page)
    page.get_by_label("收缩压").fill("300")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("收缩压：收缩压应在60–260之间")
    expect(page.locator(".invalid-feedback")).to_have_text("收缩压：收缩压应在60–260之间")
    expect(page.get_by_label("慰问金（元）")).to_have_value("300")
    expect(page.get_by_label("情况记录")).to_have_value("老人身体尚可，家中取暖不足。")
    assert _saved() == (0, 0, 0)
    page.add_style_tag(content=".visit-submit { position: static !important; }")
    screenshot(page, "visit-form-error-phone")
    page.get_by_label("收缩压").fill("150")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_role("alert")).to_contain_text("已登记走访：李桂英")
    assert _saved() == (1, 1, 1)


def test_without_javascript_search_by_initials_and_double_tap(browser, live_server, browser_cast, log_in):
    """A messaging app's browser with scripts off: plain GET search, plain POST, a double tap."""
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    try:
        log_in(page, "ys_grid", PASSWORD)
        page.goto("/visits/new/")
        page.get_by_label("姓名、拼音首字母、电话或身份证号").fill("lgy")
        page.get_by_role("button", name="查找").click()
        page.get_by_test_id("person-results").get_by_role("link").filter(has_text="李桂英").click()
        _fill(page)
        page.get_by_role("button", name="保存走访记录").dblclick()
        expect(page.get_by_role("alert")).to_contain_text("李桂英")
        assert _saved() == (1, 1, 1)
    finally:
        context.close()
