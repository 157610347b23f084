"""Headless Chromium (Debian's /usr/bin/chromium, never `playwright install`) against a live server.

Run only these: `make test PYTEST_ARGS="-m browser"`; skip them: `-m "not browser"`.
Screenshots go to $NUANXIN_SCREENSHOTS when set (docs/screenshots for the README), else to tmp.
"""

import os
from pathlib import Path

import pytest

from tests.cast import build_cast

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--lang=zh-CN",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            "browser tests need Debian's chromium: apt-get install chromium fonts-noto-cjk (or run with -m 'not browser')"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the main thread; Django then takes the
    # test's own (synchronous) database calls for calls from async code and refuses them. Only
    # while the browser runs, so the rest of the suite keeps Django's check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def insecure_cookies(settings):
    # The live server speaks plain HTTP; production cookies are Secure-only.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def browser_cast(transactional_db, live_server, insecure_cookies):
    """The suite's cast, committed, so the live server's thread sees it."""
    return build_cast()


def _context(browser, live_server, viewport):
    return browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport)


@pytest.fixture
def page(browser, live_server, insecure_cookies):
    """A phone-sized page (360 × 740): cadres work from their phones."""
    context = _context(browser, live_server, PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser, live_server, insecure_cookies):
    context = _context(browser, live_server, {"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(tmp_path):
    """screenshot(page, "login") writes login.png to $NUANXIN_SCREENSHOTS (or a temporary folder)."""
    folder = Path(os.environ.get("NUANXIN_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def log_in():
    """log_in(page, username, password) through the real form."""

    def submit(page, username: str, password: str):
        page.goto("/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()

    return submit
