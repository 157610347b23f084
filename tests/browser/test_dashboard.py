"""The county viewer opens the dashboard and drills down county → town → big cell → small cell →
a household nobody has visited yet → that person's page (不漏一户，不落一人). A town cadre reads
their own town's dashboard on a phone."""

import uuid
from datetime import date

import pytest
from playwright.sync_api import expect

from core import idnumbers
from core.scoping import unscoped
from reports.rollups import refresh_campaign
from tests.cast import PASSWORD, at, make_person
from tests.funds.grant_objects import make_grant
from towns.models import GridCell, Household
from visits.services import visit_create

pytestmark = pytest.mark.browser

SURNAMES = "张王李赵刘陈杨黄吴周徐孙马朱胡郭何林罗高"
GIVEN = ["桂兰", "德明", "秀英", "玉珍", "家宝", "长福", "凤英", "国华", "金花", "志刚"]


def _more_of_the_town(tc, campaign, category, *, cells: int, people: int, visited: float, seq: int) -> int:
    """A few more small cells with households and people, some visited under the campaign, so the
    tables and charts have something to show."""
    with unscoped():
        for c in range(cells):
            cell = GridCell.objects.create(
                town=tc.town,
                village=tc.village,
                level="small",
                parent=tc.big,
                code=f"{tc.big.code}-X{c}",
                name=f"{tc.village.name}{c + 3}号小网格",
            )
            for p in range(people):
                seq += 1
                name = SURNAMES[seq % len(SURNAMES)] + GIVEN[seq % len(GIVEN)]
                household = Household.objects.create(
                    town=tc.town, village=tc.village, cell=cell, address=f"{tc.village.name}{c + 3}组{p + 1}号", head_name=name
                )
                person = make_person(
                    household,
                    name=name,
                    categories=[category],
                    id_number=idnumbers.make_number("341181", date(1940 + seq % 30, 1 + seq % 12, 1 + seq % 27), 100 + seq),
                )
                if p < people * visited:
                    day = 21 + (seq * 7) % 40
                    when = at(2023, 12, day) if day <= 31 else at(2024, 1, day - 31)
                    visit_create(
                        actor=tc.cadre, beneficiary=person, visited_at=when, idempotency_key=uuid.uuid4(), campaign=campaign
                    )
                    if p % 2 == 0:
                        make_grant(tc, person=person, campaign=campaign, amount="300.00", handed_at=when)
    return seq


@pytest.fixture
def county_scene(browser_cast):
    cast = browser_cast
    c, category = cast.campaign, cast.categories["elderly_alone"]
    seq = _more_of_the_town(cast.yeshan, c, category, cells=4, people=5, visited=0.8, seq=0)
    _more_of_the_town(cast.tongcheng, c, category, cells=3, people=4, visited=0.5, seq=seq)
    visit_create(
        actor=cast.yeshan.cadre,
        beneficiary=cast.yeshan.person,
        visited_at=at(2024, 1, 5),
        idempotency_key=uuid.uuid4(),
        campaign=c,
    )
    refresh_campaign(c.pk)
    return cast


def test_county_viewer_drills_down_to_an_unvisited_person(desktop_page, county_scene, log_in, screenshot):
    page, ys = desktop_page, county_scene.yeshan
    log_in(page, "county_viewer", PASSWORD)
    # County roles land on the dashboard: one row per town, the chart drawn from the same figures.
    expect(page.get_by_role("heading", name="全县看板 · 2024年双节慰问")).to_be_visible()
    table = page.get_by_test_id("town-table")
    expect(table.locator('tr[data-name="冶山镇"]')).to_be_visible()
    expect(table.locator('tr[data-name="铜城镇"]')).to_be_visible()
    expect(page.get_by_test_id("refreshed-at")).to_contain_text("数据更新于")
    expect(page.locator('[data-chart="chart-coverage"] canvas')).to_be_visible()
    expect(page.locator('[data-chart="chart-trend"] canvas')).to_be_visible()
    screenshot(page, "dashboard-county")

    table.get_by_role("link", name="冶山镇").click()
    expect(page.get_by_role("heading", name="冶山镇看板 · 2024年双节慰问")).to_be_visible()
    page.get_by_test_id("cell-table").get_by_role("link", name=ys.big.name).click()
    expect(page.get_by_role("heading", name=f"冶山镇 · {ys.big.name} · 2024年双节慰问")).to_be_visible()
    page.get_by_test_id("cell-table").get_by_role("link", name=ys.other_cell.name).click()

    # 周德海 of the second small cell has never been visited under the campaign.
    household = page.get_by_test_id("unvisited-household").filter(has_text=ys.person_other_cell.name)
    expect(household).to_contain_text(ys.person_other_cell.household.address)
    household.get_by_role("link", name=ys.person_other_cell.name).click()
    expect(page).to_have_url(f"{page.url.split('/towns/')[0]}/towns/people/{ys.person_other_cell.pk}/")
    expect(page.get_by_role("heading", name=ys.person_other_cell.name)).to_be_visible()


def test_town_cadre_reads_the_town_dashboard_on_a_phone(page, county_scene, log_in, screenshot):
    log_in(page, "ys_cadre", PASSWORD)
    page.goto("/reports/dashboard/")
    expect(page.get_by_role("heading", name="冶山镇看板 · 2024年双节慰问")).to_be_visible()
    expect(page.get_by_test_id("cadre-table")).to_contain_text("冶山镇包村干部")
    expect(page.locator('[data-chart="chart-coverage"] canvas')).to_be_visible()
    expect(page.get_by_test_id("summary")).to_be_visible()
    # The tables scroll inside their box; the page itself does not scroll sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "dashboard-town-phone")
