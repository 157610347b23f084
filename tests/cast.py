"""A small fixed cast reused across the suite (like healthchecks' hc/test.py).

Two towns, 冶山镇 and 铜城镇, each with a village, a big cell, two small cells, households and
people; a grid worker, a town cadre and a town admin in each; a county viewer, an inspector
and a system admin. The 铜城镇 records carry canary values that must never reach a 冶山镇 user.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from core import idnumbers
from core.scoping import unscoped
from towns import visit_due
from towns.models import Assignment, Beneficiary, Cadre, Category, GridCell, Household, Town, Village
from towns.pinyin import initials
from visits.models import Campaign, GrantStandard

PASSWORD = "Cast-Passw0rd!"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Values of the other town that must appear in no response body, export or JSON.
CANARY_NAME = "钱金凤"
CANARY_ID = idnumbers.make_number("341181", date(1941, 3, 5), 222)
CANARY_PHONE = "13955508888"


@dataclass
class TownCast:
    town: Town
    village: Village
    big: GridCell
    cell: GridCell  # the grid worker's cell
    other_cell: GridCell  # a cell of the same town the grid worker does not answer for
    household: Household
    person: Beneficiary
    person_other_cell: Beneficiary
    grid_worker: object
    cadre: object
    admin: object


@dataclass
class Cast:
    yeshan: TownCast
    tongcheng: TownCast
    county_viewer: object
    inspector: object
    sysadmin: object
    categories: dict = field(default_factory=dict)
    campaign: Campaign | None = None

    def users_by_role(self) -> dict:
        """The logged-in users of the access matrix, all seen from 冶山镇 or the county."""
        return {
            "grid_worker": self.yeshan.grid_worker,
            "town_cadre": self.yeshan.cadre,
            "town_admin": self.yeshan.admin,
            "county_viewer": self.county_viewer,
            "inspector": self.inspector,
            "sysadmin": self.sysadmin,
        }


def make_user(username: str, *, role: str, name: str, town: Town | None, superuser: bool = False):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, is_superuser=superuser, is_staff=superuser)
    Cadre.objects.create(user=user, name=name, role=role, town=town)
    return user


def make_person(household: Household, *, name: str, id_number: str, phone: str = "", categories=(), registered=date(2023, 6, 1)):
    parsed = idnumbers.parse(id_number)
    person = Beneficiary.objects.create(
        household=household,
        town_id=household.town_id,
        cell_id=household.cell_id,
        name=name,
        name_initials=initials(name),
        gender=parsed.gender,
        birth_date=parsed.birth_date,
        id_number_encrypted=idnumbers.encrypt(parsed.number),
        id_number_digest=idnumbers.digest(parsed.number),
        id_number_masked=parsed.masked,
        phone=phone,
        status=Beneficiary.Status.ACTIVE,
        status_since=registered,
        registered_on=registered,
    )
    person.categories.set(categories)
    visit_due.refresh_one(person)
    return person


def _town(code: str, name: str, prefix: str, names: dict, categories) -> TownCast:
    town = Town.objects.create(code=code, name=name)
    village = Village.objects.create(town=town, code=code[:9] + "201", name=names["village"])
    big = GridCell.objects.create(
        town=town, village=village, level="big", code=f"{prefix}-B1", name=f"{names['village']}第一大网格"
    )
    cell = GridCell.objects.create(
        town=town, village=village, level="small", parent=big, code=f"{prefix}-S1", name=f"{names['village']}1号小网格"
    )
    other = GridCell.objects.create(
        town=town, village=village, level="small", parent=big, code=f"{prefix}-S2", name=f"{names['village']}2号小网格"
    )
    household = Household.objects.create(
        town=town, village=village, cell=cell, address=names["address"], head_name=names["person"]
    )
    household2 = Household.objects.create(
        town=town, village=village, cell=other, address=names["address"] + "附1号", head_name=names["person2"]
    )
    person = make_person(household, name=names["person"], id_number=names["id"], phone=names["phone"], categories=categories)
    person2 = make_person(household2, name=names["person2"], id_number=names["id2"], categories=categories)
    grid = make_user(f"{prefix}_grid", role="grid_worker", name=f"{name}网格员", town=town)
    Assignment.objects.create(cadre=grid.cadre, town=town, cell=cell, starts_on=date(2023, 1, 1))
    cadre = make_user(f"{prefix}_cadre", role="town_cadre", name=f"{name}包村干部", town=town)
    admin = make_user(f"{prefix}_admin", role="town_admin", name=f"{name}管理员", town=town)
    return TownCast(town, village, big, cell, other, household, person, person2, grid, cadre, admin)


def build_cast() -> Cast:
    with unscoped():
        cats = {
            "elderly_alone": Category.objects.create(code="elderly_alone", name="独居老人", visit_interval_days=30),
            "poor_party_member": Category.objects.create(code="poor_party_member", name="困难党员", visit_interval_days=60),
        }
        yeshan = _town(
            "341181109000",
            "冶山镇",
            "ys",
            {
                "village": "长兴社区",
                "address": "冶山镇长兴社区幸福路8号",
                "person": "李桂英",
                "id": idnumbers.make_number("341181", date(1942, 8, 16), 121),
                "phone": "13855501234",
                "person2": "周德海",
                "id2": idnumbers.make_number("341181", date(1950, 2, 2), 131),
            },
            [cats["elderly_alone"]],
        )
        tongcheng = _town(
            "341181100000",
            "铜城镇",
            "tc",
            {
                "village": "龙岗村",
                "address": "铜城镇龙岗村秘密组17号",
                "person": CANARY_NAME,
                "id": CANARY_ID,
                "phone": CANARY_PHONE,
                "person2": "孙秀兰",
                "id2": idnumbers.make_number("341181", date(1939, 11, 30), 242),
            },
            [cats["elderly_alone"]],
        )
        county = make_user("county_viewer", role="county_viewer", name="组织部干部", town=None)
        inspector = make_user("inspector", role="inspector", name="纪检干部", town=None)
        sysadmin = make_user("sysadmin", role="sysadmin", name="系统管理员", town=None, superuser=True)
        campaign = Campaign.objects.create(name="2024年双节慰问", starts_on=date(2023, 12, 20), ends_on=date(2024, 2, 20))
        campaign.towns.set([yeshan.town, tongcheng.town])
        campaign.target_categories.set(cats.values())
        GrantStandard.objects.create(campaign=campaign, category=cats["poor_party_member"], amount=Decimal("500.00"))
        GrantStandard.objects.create(campaign=campaign, category=cats["elderly_alone"], amount=Decimal("300.00"))
    return Cast(yeshan, tongcheng, county, inspector, sysadmin, cats, campaign)


def give_stock(town: Town, item, quantity: int):
    """Put goods in a town's store for a test (direct rows: setup, not the 入库 under test)."""
    from funds.models import GoodsStock

    with unscoped():
        stock, _ = GoodsStock.objects.get_or_create(town=town, goods_item=item)
        stock.quantity += quantity
        stock.save(update_fields=["quantity"])
    return stock


def at(year, month, day, hour=10, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
