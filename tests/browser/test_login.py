"""A town cadre logs in and out on a phone-sized Chromium window."""

import re

import pytest
from playwright.sync_api import expect

from tests.cast import PASSWORD

pytestmark = pytest.mark.browser


def test_bootstrap_and_chinese_login_page(page, browser_cast, screenshot):
    page.goto("/accounts/login/")
    expect(page).to_have_title(re.compile("登录"))
    expect(page.get_by_role("heading", name="登录暖心走访慰问系统")).to_be_visible()
    # The vendored Bootstrap is served: the navbar is bg-danger red, the button full width.
    navbar_colour = page.locator("nav.navbar").evaluate("el => getComputedStyle(el).backgroundColor")
    assert navbar_colour == "rgb(220, 53, 69)"
    button = page.get_by_role("button", name="登录").bounding_box()
    assert button["width"] > 300
    # Nothing sticks out sideways on a 360-px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "login")


def test_cadre_logs_in_sees_town_and_logs_out(page, browser_cast, log_in, screenshot):
    log_in(page, "ys_cadre", PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="您好，冶山镇包村干部")).to_be_visible()
    expect(page.locator("main")).to_contain_text("镇村干部 · 冶山镇")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "home")

    # On a phone the menu is folded behind the toggler.
    expect(page.get_by_role("button", name="退出")).to_be_hidden()
    page.get_by_role("button", name="菜单").click()
    # Wait for Bootstrap's collapse to finish: a tap while the menu is still sliding open can miss.
    expect(page.locator("#nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    expect(page.get_by_role("link", name="我的任务")).to_be_visible()
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_label("用户名")).to_be_visible()

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


def test_wrong_password_shows_chinese_error(page, browser_cast, log_in, screenshot):
    log_in(page, "ys_cadre", "Wrong-Passw0rd!")
    error = page.get_by_role("alert")
    expect(error).to_contain_text("用户名或密码不正确，请重新输入（区分大小写）。")
    expect(error).to_contain_text("再输错 4 次，该账号将被锁定 30 分钟。")
    expect(page.get_by_label("用户名")).to_have_value("ys_cadre")
    screenshot(page, "login-error")


def test_password_change_on_a_phone(page, browser_cast, log_in, screenshot):
    log_in(page, "ys_cadre", PASSWORD)
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("link", name="修改密码").click()
    page.get_by_label("原密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("Ab1!xyz")
    page.get_by_label("再次输入新密码").fill("Ab1!xyz")
    page.get_by_role("button", name="保存新密码").click()
    expect(page.locator(".invalid-feedback")).to_have_text("新密码：密码长度太短。密码必须包含至少 10 个字符。")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "password-change-error")

    page.get_by_label("原密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("Nuanxin#2024-xin")
    page.get_by_label("再次输入新密码").fill("Nuanxin#2024-xin")
    page.get_by_role("button", name="保存新密码").click()
    expect(page.get_by_role("alert")).to_have_text("密码已修改。")


def test_locked_account_page(page, browser_cast, log_in, screenshot):
    for _ in range(5):
        log_in(page, "ys_cadre", "Wrong-Passw0rd!")
    expect(page.get_by_test_id("locked-out")).to_contain_text("账号已锁定")
    log_in(page, "ys_cadre", PASSWORD)
    expect(page.get_by_test_id("locked-out")).to_contain_text("已锁定30分钟")
    screenshot(page, "locked-out")
