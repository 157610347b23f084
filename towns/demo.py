"""The demo county: 天长市 around the 2024 双节慰问 bulletin (天长组工信息 第118期), built deterministically.

``build(scale)`` fills an empty database with towns, villages, grid cells, households, the
registry, cadres with demo logins, the 2024年双节慰问 campaign with its standards, budgets and
goods, and the visits, grants, activities and follow-ups of the weeks around 2024-01-09.

Rows are generated in Python from one fixed seed and written with explicit ids in large
batches (COPY on PostgreSQL, executemany elsewhere) rather than per-row saves: county scale
is ~4 million rows. Explicit ids let grants and follow-ups point at visits without reading
them back, and explicit timestamps keep history in 2023/2024 where auto_now_add would stamp
the load time (which would make every grant look "entered long after the fact").
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from core import audit, idnumbers, permissions
from core.scoping import unscoped
from funds.models import (
    Budget,
    ConflictDeclaration,
    DeclaredRelative,
    Disbursement,
    GoodsItem,
    GoodsStock,
    Receipt,
    StockMovement,
)
from towns import visit_due
from towns.models import (
    Assignment,
    Beneficiary,
    BeneficiaryStatusChange,
    Cadre,
    Category,
    GridCell,
    Household,
    PartyBranch,
    Town,
    Village,
    VolunteerTeam,
)
from towns.pinyin import initials
from visits.models import Activity, Campaign, FollowUp, FollowUpEvent, GrantStandard, Visit

PASSWORD = "Demo@2024nx"
CAMPAIGN_NAME = "2024年双节慰问"
COUNTY_CODE = "341181"
SEED = "nuanxin-demo-20240109"
TZ = ZoneInfo("Asia/Shanghai")
BULLETIN_DAY = date(2024, 1, 9)
AS_OF = date(2024, 1, 31)  # the last day with data: the weeks around the bulletin
CAMPAIGN_START, CAMPAIGN_END = date(2023, 12, 20), date(2024, 2, 20)


@dataclass(frozen=True)
class Scale:
    name: str
    people: int  # beneficiaries in the county
    small_per_village: tuple[int, int]  # outside 冶山镇, whose 70/284 cells are a fact
    routine_from: date  # routine (non-campaign) visits from this day to AS_OF
    activity_factor: int = 1
    seed_figures: bool = False  # 张铺镇 / 仁和集镇 follow-up counts from the bulletin
    # A running campaign placed relative to the load day (build_running_campaign). Not at county
    # scale: the bench measures the 2024 history, and the load stays a fixed workload.
    alive: bool = True


SCALES = {
    "tiny": Scale("tiny", 320, (1, 2), date(2023, 11, 1)),
    "demo": Scale("demo", 5_000, (3, 8), date(2023, 11, 1), seed_figures=True),
    "county": Scale("county", 150_000, (22, 35), date(2023, 2, 1), activity_factor=12, alive=False),
}

# (town code, name, kind, login prefix, villages, communities, share of the demo's 5,000 people).
# 铜城镇's share gives a campaign roster near its 755; 仁和集镇 keeps 400+.
TOWNS = [
    ("003", "广陵街道", "subdistrict", "gl", 12, 9, 260),
    ("004", "千秋街道", "subdistrict", "qq", 10, 7, 220),
    ("100", "铜城镇", "town", "tc", 13, 2, 1190),
    ("101", "汊涧镇", "town", "cj", 14, 2, 290),
    ("102", "秦栏镇", "town", "ql", 11, 2, 210),
    ("103", "大通镇", "town", "dt", 8, 1, 170),
    ("104", "杨村镇", "town", "yc", 9, 1, 170),
    ("105", "石梁镇", "town", "sl", 10, 2, 190),
    ("106", "金集镇", "town", "jj", 8, 1, 170),
    ("107", "永丰镇", "town", "yf", 8, 1, 170),
    ("108", "仁和集镇", "town", "rhj", 9, 1, 430),
    ("109", "冶山镇", "town", "ys", 10, 2, 570),
    ("110", "郑集镇", "town", "zj", 8, 1, 170),
    ("111", "张铺镇", "town", "zp", 9, 1, 420),
    ("112", "新街镇", "town", "xj", 11, 2, 240),
    ("113", "万寿镇", "town", "ws", 7, 1, 130),
]
YESHAN_BIG, YESHAN_SMALL = 70, 284
RENHEJI_BRANCHES = 57
TOWN_CADRES = {"张铺镇": 20}  # "组织20余名镇干部"

# (code, name, interval days, sensitive, grant standard in the campaign or None when not targeted)
CATEGORIES = [
    ("age60", "60岁以上", 90, False, None),
    ("elderly_alone", "独居老人", 30, False, 300),
    ("serious_illness", "重症病人", 15, True, 400),
    ("disabled", "残疾人", 30, True, 300),
    ("extreme_poverty", "特困家庭", 30, True, 500),
    ("widowed_elderly", "孤寡老人", 30, False, 400),
    ("dibao", "低保家庭", 60, True, 300),
    ("poor_party_member", "困难党员", 60, False, 500),
    ("needy", "困难群众", 60, False, 300),
    ("retired_cadre", "退休老干部", 90, False, 300),
    ("left_behind_child", "留守儿童", 30, True, 200),
    ("elderly_party_member", "高龄党员", 60, False, 300),
]
STANDARD = {code: Decimal(amount) for code, _, _, _, amount in CATEGORIES if amount}
# 日常慰问标准 (元/年, Category.standard): what one person may receive outside campaigns in a year;
# the 超标准 rule checks it. Twice the campaign standard, and ¥400 for the untargeted 60岁以上.
YEARLY_STANDARD = {code: Decimal(amount or 200) * 2 for code, _, _, _, amount in CATEGORIES}
INTERVAL = {code: days for code, _, days, _, _ in CATEGORIES}
PARTY_CATS = {"poor_party_member", "elderly_party_member", "retired_cadre"}
CIVIL_CATS = {"dibao", "extreme_poverty", "widowed_elderly", "disabled"}

GOODS = [
    ("米", "袋", Decimal("60.00")),
    ("油", "桶", Decimal("80.00")),
    ("棉被", "床", Decimal("150.00")),
    ("慰问大礼包", "份", Decimal("200.00")),
]

SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨周周吴吴徐徐孙朱朱胡高何马许郭汪储储戴蒋倪葛邵姚"
    "韩冯沈谢唐曹袁鲁程丁卢魏任殷薛夏范顾钱崔陆宋秦黄赵金方施"
)


def _words(text: str) -> list[str]:
    return text.split()


GIVEN = {
    ("old", "M"): _words(
        "德海 有福 长松 国华 正明 义和 广才 家宝 春生 永贵 宝山 树林 学文 存礼 开富 玉成 金荣 立本 万年 守田 贵林 福生 兆祥 恒山 秀峰 传德 庆余 忠厚 银生 大林"
    ),
    ("old", "F"): _words(
        "桂英 秀兰 玉兰 秀英 凤英 兰英 翠兰 桂兰 玉珍 桂芳 秀珍 素英 凤兰 春英 金凤 玉梅 月英 桂香 淑珍 友兰 秀芳 爱兰 美英 巧云 宝珍 荷英 喜梅 菊英 银凤 玉英"
    ),
    ("mid", "M"): _words("建国 卫东 志强 建华 国庆 红军 海涛 永刚 立新 建军 文斌 小兵 明 勇 军 伟 刚 斌 涛 强"),
    ("mid", "F"): _words("海燕 红梅 丽 静 霞 艳 玉霞 春梅 红霞 丽娟 晓燕 桂云 秀云 凤琴 美玲 芳 娟 敏 燕 萍"),
    ("young", "M"): _words("子涵 梓轩 浩然 宇航 俊熙 一鸣 博文 子墨 皓轩 晨阳 睿泽 嘉豪 思远 天佑 宇轩"),
    ("young", "F"): _words("欣怡 雨桐 梓涵 诗琪 可馨 语嫣 若曦 佳怡 思彤 一诺 梦瑶 子萱 紫涵 雨欣 沐晴"),
}
VILLAGE_HEADS = "东西南北新老大小高龙凤金石双三五马杨王李张刘陈周吴徐孙朱胡沈蒋花桂白黄青红"
VILLAGE_TAILS = "庄湾岗集桥圩塘营洼楼店庙郢埠港墩园林"
COMMUNITY_NAMES = _words(
    "长兴 幸福 和平 新华 光明 文昌 育才 金桥 滨河 天宁 永安 胜利 春晖 安康 祥和 朝阳 惠民 兴业 龙岗 秀水 嘉禾 锦绣 团结 富民 康乐 福临"
)
GROUP_PREFIX = "前后东西南北上下大小张王李陈刘杨周吴何胡"
GROUP_TAIL = "庄郢圩岗塘湾"
ROADS = _words("幸福路 文化路 健康路 人民路 建设路 振兴路 团结路 和平路 新华路 长安路")
PHONE_PREFIXES = _words("133 135 136 137 138 139 150 151 152 155 156 158 177 180 181 187 188 189 199")


# ---------------------------------------------------------------- writing


class _Writer:
    """Streams rows with explicit ids into a table: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self):
        self.pg = connection.vendor == "postgresql"
        self.counts: Counter = Counter()
        self._next: dict = {}
        self.models: list = []

    def new_id(self, model) -> int:
        if model not in self._next:
            self._next[model] = (model._base_manager.aggregate(m=Max("pk"))["m"] or 0) + 1
            self.models.append(model)
        value = self._next[model]
        self._next[model] += 1
        return value

    def insert(self, model, columns: list[str], rows: Iterable[tuple], batch: int = 20_000) -> int:
        meta = model._meta
        by_attname = {f.attname: f for f in meta.concrete_fields}
        fields = [by_attname[c] for c in columns]
        # Columns added to the models later get their defaults, so the loader keeps working.
        now = datetime.now(TZ)
        extra = []
        for f in meta.concrete_fields:
            if f.attname in columns or f.primary_key:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                extra.append((f, lambda now=now: now))
            else:
                extra.append((f, f.get_default))
        fields += [f for f, _ in extra]
        makers = [make for _, make in extra]
        qn = connection.ops.quote_name
        column_sql = ", ".join(qn(f.column) for f in fields)
        total = 0
        chunk: list = []

        def flush():
            if not chunk:
                return
            with connection.cursor() as cursor:
                if self.pg:
                    with cursor.copy(f"COPY {qn(meta.db_table)} ({column_sql}) FROM STDIN") as copy:
                        for row in chunk:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(fields))
                    prepared = [
                        tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)) for row in chunk
                    ]
                    cursor.executemany(f"INSERT INTO {qn(meta.db_table)} ({column_sql}) VALUES ({marks})", prepared)  # noqa: S608 (model metadata, not input)
            chunk.clear()

        for row in rows:
            chunk.append((*row, *(make() for make in makers)) if makers else row)
            if len(chunk) >= batch:
                total += len(chunk)
                flush()
        total += len(chunk)
        flush()
        self.counts[meta.label] += total
        return total

    def reset_sequences(self):
        # Later inserts by the application must not collide with the explicit ids.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), self.models):
                cursor.execute(sql)


# ---------------------------------------------------------------- generated values


@dataclass(slots=True)
class _Person:
    id: int
    name: str
    gender: str
    birth: date
    cats: list
    household_id: int
    cell_id: int
    village_id: int
    party: bool
    status: str = "active"
    status_since: date | None = None
    registered_on: date | None = None


@dataclass
class _Cell:
    id: int
    village_id: int
    parent_id: int
    code: str
    grid_worker: int = 0  # cadre id


@dataclass
class _TownState:
    id: int
    code: str
    name: str
    kind: str
    prefix: str
    villages: list = field(default_factory=list)  # (id, name, kind)
    small_cells: list = field(default_factory=list)
    big_cells: int = 0
    admin: int = 0
    cadres: list = field(default_factory=list)  # town cadre ids
    grid_workers: list = field(default_factory=list)
    village_cadre: dict = field(default_factory=dict)  # village id -> town cadre id (包村干部)
    branch_of_village: dict = field(default_factory=dict)
    branches: list = field(default_factory=list)
    teams: list = field(default_factory=list)  # (id, name)
    people: list = field(default_factory=list)


class _Gen:
    """Random values from a seeded generator: names, phones, ID numbers, times."""

    def __init__(self, seed: str):
        self.rng = random.Random(seed)

    def name(self, gender: str, generation: str, surname: str | None = None) -> str:
        return (surname or self.rng.choice(SURNAMES)) + self.rng.choice(GIVEN[(generation, gender)])

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def moment(self, day: date, start_hour: int = 8, end_hour: int = 17) -> datetime:
        minutes = self.rng.randrange(start_hour * 60, end_hour * 60 + 30)
        return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=TZ)


def _split(total: int, parts: int, rng: random.Random, minimum: int = 0) -> list[int]:
    """total split into parts of at least minimum, unevenly but summing exactly."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    rest = total - minimum * parts
    raw = [rest * w / sum(weights) for w in weights]
    out = [minimum + int(r) for r in raw]
    by_fraction = sorted(range(parts), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in by_fraction[: total - sum(out)]:
        out[i] += 1
    return out


def _proportional(total: int, weights: list[int]) -> list[int]:
    raw = [total * w / sum(weights) for w in weights]
    out = [int(r) for r in raw]
    by_fraction = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in by_fraction[: total - sum(out)]:
        out[i] += 1
    return out


def _birth(gen: _Gen, age: int) -> date:
    return BULLETIN_DAY - timedelta(days=int(age * 365.25) + gen.rng.randrange(1, 364))


def _elder_age(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.35:
        return rng.randint(60, 69)
    if r < 0.73:
        return rng.randint(70, 79)
    if r < 0.95:
        return rng.randint(80, 89)
    return rng.randint(90, 99)


def _elder_categories(rng: random.Random, age: int, alone: bool) -> tuple[list, bool]:
    cats = ["age60"]
    if alone:
        cats.append("elderly_alone")
        if rng.random() < 0.25:
            cats.append("widowed_elderly")
    if rng.random() < 0.07:
        cats.append("serious_illness")
    if rng.random() < 0.08:
        cats.append("disabled")
    if rng.random() < 0.10:
        cats.append("dibao")
    if rng.random() < (0.5 if "widowed_elderly" in cats else 0.03):
        cats.append("extreme_poverty")
    party = rng.random() < 0.13
    if party:
        if rng.random() < 0.25:
            cats.append("retired_cadre")
        elif age >= 80:
            cats.append("elderly_party_member")
        if len(cats) > 2 or rng.random() < 0.35:
            cats.append("poor_party_member")
    return cats, party


def _adult_categories(rng: random.Random) -> tuple[list, bool]:
    cats = []
    for code, p in (("disabled", 0.35), ("serious_illness", 0.25), ("dibao", 0.35), ("extreme_poverty", 0.06)):
        if rng.random() < p:
            cats.append(code)
    party = rng.random() < 0.10
    if party:
        cats.append("poor_party_member")
    if not cats or rng.random() < 0.2:
        cats.append("needy")
    return cats, party


# ---------------------------------------------------------------- the builder


@dataclass
class Login:
    username: str
    role: str
    town: str
    name: str


@dataclass
class Summary:
    scale: str
    counts: dict
    logins: list
    seconds: float
    loaded: bool = True


class DemoAlreadyLoaded(Exception):
    pass


class DatabaseNotEmpty(Exception):
    pass


def is_loaded() -> bool:
    with unscoped():
        return Campaign._base_manager.filter(name=CAMPAIGN_NAME).exists()


def build(scale: str = "demo", log: Callable[[str], None] = lambda line: None) -> Summary:
    """Load the demo county into an empty database, or raise DemoAlreadyLoaded / DatabaseNotEmpty."""
    started = time.monotonic()
    spec = SCALES[scale]
    with unscoped(), transaction.atomic():
        if Campaign._base_manager.filter(name=CAMPAIGN_NAME).exists():
            raise DemoAlreadyLoaded(CAMPAIGN_NAME)
        if Town._base_manager.exists():
            raise DatabaseNotEmpty("数据库中已有镇（街道）数据，演示数据只能加载到空数据库")
        taken = set(
            get_user_model()
            ._default_manager.filter(username__in=[u for u, *_ in _login_plan()])
            .values_list("username", flat=True)
        )
        if taken:
            raise DatabaseNotEmpty(f"账号已存在：{', '.join(sorted(taken))}")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Check foreign keys per statement: a deferred check queues millions of events in memory.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # The money-table triggers accept these bulk inserts as audited by one record each (object '*'),
        # written first because the constraints now fire per statement; the load's own record follows.
        for object_type, what in (("funds.disbursement", "发放记录"), ("funds.budget", "经费预算")):
            audit.record(
                actor=None,
                action="demo.load",
                object_type=object_type,
                object_id="*",
                object_repr=f"天长市演示数据的{what}（{scale}）",
                channel="shell",
            )
        builder = _Builder(spec, log)
        logins = builder.run()
        today = timezone.localdate()
        if spec.alive and running_window(today) is not None:
            builder.build_running_campaign(today)
        builder.writer.reset_sequences()
        log("计算每人下次应访日期")
        visit_due.refresh_all()
        from visits.target_list_services import demo_approve_lists  # 慰问对象名单, decided by each town (issue 12 §2)

        demo_approve_lists(log)
        counts = {label.split(".")[-1]: n for label, n in sorted(builder.writer.counts.items())}
        audit.record(
            actor=None,
            action="demo.load",
            object_type="demo",
            object_repr=f"天长市演示数据（{scale}）",
            after={"scale": scale, "seed": SEED, "counts": counts},
            channel="shell",
        )
        if spec.alive and running_window(today) is not None:
            draft_last_week(today, log)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return Summary(scale, counts, logins, time.monotonic() - started)


def _login_plan():
    """(username, role, town name or None, title) of every account with the demo password."""
    plan = []
    for _code, name, _kind, prefix, *_ in TOWNS:
        plan.append((f"{prefix}_admin", permissions.TOWN_ADMIN, name, "党委组织委员"))
        plan.append((f"{prefix}_cadre", permissions.TOWN_CADRE, name, "包村干部"))
        plan.append((f"{prefix}_grid", permissions.GRID_WORKER, name, "网格员"))
    plan.append(("county", permissions.COUNTY_VIEWER, None, "市委组织部研究室"))
    plan.append(("inspector", permissions.INSPECTOR, None, "市纪委监委监督检查室"))
    plan.append(("sysadmin", permissions.SYSADMIN, None, "系统管理员"))
    return plan


class _Builder:
    def __init__(self, spec: Scale, log):
        self.spec = spec
        self.log = log
        self.writer = _Writer()
        self.gen = _Gen(SEED + "-map")
        self.towns: list[_TownState] = []
        self.category_ids: dict[str, int] = {}
        self.goods: list = []  # (id, name, value)
        self.campaign_id = 0
        self.spend: dict = defaultdict(Decimal)  # (town id, source) -> campaign spending
        self.goods_out: dict = defaultdict(int)  # (town id, goods item id) -> quantity handed out
        self.logins: list[Login] = []
        self.used_ids: set = set()
        self._initials: dict = {}
        self._clock = time.monotonic()

    def step(self, text: str):
        now = time.monotonic()
        self.log(f"{text}（{now - self._clock:.1f} 秒）")
        self._clock = now

    # -------------------------------------------------------- map
    def run(self) -> list[Login]:
        self.build_reference()
        self.build_map()
        self.step(
            f"地图：{len(self.towns)} 个镇（街道），{sum(len(t.villages) for t in self.towns)} 个村（社区），"
            f"{sum(t.big_cells for t in self.towns)} 个大网格，{sum(len(t.small_cells) for t in self.towns)} 个小网格"
        )
        self.build_cadres()
        self.step(f"干部：{self.writer.counts['towns.Cadre']} 名，其中演示账号 {len(self.logins)} 个")
        # Every scale keeps the demo's proportions (铜城镇's roster is the largest, 仁和集镇 400+ at demo scale).
        shares = _proportional(self.spec.people, [t[6] for t in TOWNS])
        for town, share in zip(self.towns, shares, strict=True):
            self.build_town(town, share)
        self.build_declarations_and_mover()
        self.build_budgets()
        self.build_stock()
        return self.logins

    def build_reference(self):
        w = self.writer
        rows = []
        for order, (code, name, days, sensitive, _) in enumerate(CATEGORIES, start=1):
            self.category_ids[code] = w.new_id(Category)
            rows.append((self.category_ids[code], code, name, days, sensitive, order * 10, YEARLY_STANDARD.get(code)))
        w.insert(Category, ["id", "code", "name", "visit_interval_days", "sensitive", "sort_order", "standard"], rows)
        rows = []
        for name, unit, value in GOODS:
            pk = w.new_id(GoodsItem)
            self.goods.append((pk, name, value))
            rows.append((pk, name, unit, value))
        w.insert(GoodsItem, ["id", "name", "unit", "unit_value"], rows)

        self.campaign_id = w.new_id(Campaign)
        w.insert(
            Campaign,
            ["id", "name", "starts_on", "ends_on", "description", "created_at"],
            [
                (
                    self.campaign_id,
                    CAMPAIGN_NAME,
                    CAMPAIGN_START,
                    CAMPAIGN_END,
                    "元旦春节期间走访慰问孤寡老人、低保家庭、困难党员、困难群众、退休老干部、留守儿童、独居老人、高龄党员等重点人群。",
                    datetime(2023, 12, 15, 9, 0, tzinfo=TZ),
                )
            ],
        )
        w.insert(
            Campaign.target_categories.through,
            ["campaign_id", "category_id"],
            [(self.campaign_id, self.category_ids[c]) for c in STANDARD],
        )
        w.insert(
            GrantStandard,
            ["id", "campaign_id", "category_id", "amount"],
            [(w.new_id(GrantStandard), self.campaign_id, self.category_ids[c], amount) for c, amount in STANDARD.items()],
        )

    def build_map(self):
        w, gen = self.writer, self.gen
        rng = gen.rng
        village_names = [h + t for h in VILLAGE_HEADS for t in VILLAGE_TAILS]
        rng.shuffle(village_names)
        community_names = list(COMMUNITY_NAMES)
        rng.shuffle(community_names)
        town_rows, village_rows, cell_rows, branch_rows, team_rows = [], [], [], [], []
        for code, name, kind, prefix, n_villages, n_communities, _share in TOWNS:
            town = _TownState(w.new_id(Town), f"{COUNTY_CODE}{code}000", name, kind, prefix)
            self.towns.append(town)
            town_rows.append((town.id, town.code, name, kind))
            stem = name[:-2] if kind == "subdistrict" else name[:-1]
            names = [f"{stem}社区"]
            if name == "冶山镇":
                names.append("长兴社区")  # 冶山镇长兴社区 341181109002
            while len(names) < n_communities:
                candidate = community_names.pop() + "社区"
                if candidate not in names:
                    names.append(candidate)
            for number, vname in enumerate(names, start=1):
                town.villages.append((w.new_id(Village), vname, "community", f"{town.code[:9]}{number:03d}"))
            for number in range(200 + 1, 200 + 1 + n_villages - n_communities):
                vname = village_names.pop() + "村"
                town.villages.append((w.new_id(Village), vname, "village", f"{town.code[:9]}{number:03d}"))
            for vid, vname, vkind, vcode in town.villages:
                village_rows.append((vid, town.id, vcode, vname, vkind))

            # Grid cells: 冶山镇 has exactly 70 big and 284 small; elsewhere a few small cells per village.
            if name == "冶山镇":
                big_per_village = _split(YESHAN_BIG, len(town.villages), rng, minimum=1)
                small_per_big = _split(YESHAN_SMALL, YESHAN_BIG, rng, minimum=1)
            else:
                small_counts = [rng.randint(*self.spec.small_per_village) for _ in town.villages]
                big_per_village = [max(1, round(n / 4.5)) for n in small_counts]
                small_per_big = []
                for n, b in zip(small_counts, big_per_village, strict=True):
                    small_per_big += _split(n, b, rng, minimum=1) if n >= b else [1] * b
            big_index = 0
            for (vid, vname, _vkind, _vcode), n_big in zip(town.villages, big_per_village, strict=True):
                for b in range(1, n_big + 1):
                    big_id = w.new_id(GridCell)
                    town.big_cells += 1
                    cell_rows.append((big_id, town.id, vid, "big", None, f"{code}-B{town.big_cells:03d}", f"{vname}第{b}大网格"))
                    for s in range(1, small_per_big[big_index] + 1):
                        cell = _Cell(w.new_id(GridCell), vid, big_id, f"{code}-S{len(town.small_cells) + 1:04d}")
                        town.small_cells.append(cell)
                        cell_rows.append((cell.id, town.id, vid, "small", big_id, cell.code, f"{vname}{b}-{s}号小网格"))
                    big_index += 1

            # Party branches: a 党总支 per village, the town's offices; 仁和集镇 has 57 ("发动57个党支部").
            branch_names = [(vid, f"{vname}党总支") for vid, vname, *_ in town.villages]
            branch_names += [(None, f"{name}机关党支部"), (None, f"{name}离退休干部党支部")]
            extra = 0
            while name == "仁和集镇" and len(branch_names) < RENHEJI_BRANCHES:
                vid, vname, *_ = town.villages[extra % len(town.villages)]
                branch_names.append((vid, f"{vname}第{extra // len(town.villages) + 1}网格党支部"))
                extra += 1
            for vid, bname in branch_names:
                pk = w.new_id(PartyBranch)
                town.branches.append(pk)
                if vid and vid not in town.branch_of_village:
                    town.branch_of_village[vid] = pk
                branch_rows.append((pk, town.id, vid, bname))

            teams = [(f"{name}新时代文明实践志愿服务队", rng.randint(25, 60))]
            if name == "仁和集镇":
                teams.insert(0, ("“仁爱之花”党员志愿服务队", 46))
            elif name == "铜城镇":
                teams.insert(0, ("“与你‘铜’行”党员志愿服务队", 52))
                teams.append(("铜城镇卫生院医护志愿服务队", 18))
            elif name == "张铺镇":
                teams.insert(0, ("张铺镇“双节慰问”党员志愿服务队", 50))
            for tname, members in teams:
                pk = w.new_id(VolunteerTeam)
                town.teams.append((pk, tname))
                team_rows.append((pk, town.id, tname, members))

        w.insert(Town, ["id", "code", "name", "kind"], town_rows)
        w.insert(Campaign.towns.through, ["campaign_id", "town_id"], [(self.campaign_id, t.id) for t in self.towns])
        w.insert(Village, ["id", "town_id", "code", "name", "kind"], village_rows)
        w.insert(GridCell, ["id", "town_id", "village_id", "level", "parent_id", "code", "name"], cell_rows)
        w.insert(PartyBranch, ["id", "town_id", "village_id", "name"], branch_rows)
        w.insert(VolunteerTeam, ["id", "town_id", "name", "members_count"], team_rows)

    # -------------------------------------------------------- cadres
    def build_cadres(self):
        w, gen = self.writer, _Gen(SEED + "-cadres")
        rng = gen.rng
        User = get_user_model()
        usable = make_password(PASSWORD)  # hashed once: PBKDF2 per account would take minutes
        joined = datetime(2023, 6, 1, 9, 0, tzinfo=TZ)
        user_rows, cadre_rows, assignment_rows = [], [], []
        logins = {u: (role, town, title) for u, role, town, title in _login_plan()}

        def add(town: _TownState | None, role: str, title: str, username: str) -> int:
            user_id, cadre_id = w.new_id(User), w.new_id(Cadre)
            gender = "M" if rng.random() < 0.6 else "F"
            name = gen.name(gender, "mid")
            login = username in logins
            if login:  # the same name at every scale, so docs/demo.md can list it
                own = _Gen(f"{SEED}-{username}")
                name = own.name("M" if own.rng.random() < 0.6 else "F", "mid")
            superuser = role == permissions.SYSADMIN
            # Accounts outside the login table cannot sign in: the demo publishes one password.
            password = usable if login else f"!demo-locked-{user_id}"
            user_rows.append((user_id, password, None, superuser, username, "", "", "", superuser, True, joined))
            cadre_rows.append((cadre_id, user_id, name, role, town.id if town else None, gen.phone(), title, True))
            if login:
                self.logins.append(Login(username, permissions.ROLE_LABELS[role], town.name if town else "天长市", name))
            return cadre_id

        for town in self.towns:
            p = town.prefix
            town.admin = add(town, permissions.TOWN_ADMIN, "党委组织委员", f"{p}_admin")
            n_cadres = TOWN_CADRES.get(town.name, max(3, len(town.villages)))
            for i in range(n_cadres):
                town.cadres.append(add(town, permissions.TOWN_CADRE, "包村干部", f"{p}_cadre" if i == 0 else f"{p}_c{i:03d}"))
            for i, (vid, *_rest) in enumerate(town.villages):
                town.village_cadre[vid] = town.cadres[i % len(town.cadres)]
            # A grid worker answers for up to three small cells of one big cell.
            by_parent: dict = defaultdict(list)
            for cell in town.small_cells:
                by_parent[cell.parent_id].append(cell)
            groups = []
            for cells in by_parent.values():
                for start in range(0, len(cells), 3):
                    groups.append(cells[start : start + 3])
            for i, cells in enumerate(groups):
                worker = add(town, permissions.GRID_WORKER, "网格员", f"{p}_grid" if i == 0 else f"{p}_g{i:04d}")
                town.grid_workers.append(worker)
                for cell in cells:
                    cell.grid_worker = worker
                    assignment_rows.append((w.new_id(Assignment), worker, town.id, cell.id, None, date(2023, 3, 1)))
        add(None, permissions.COUNTY_VIEWER, "市委组织部研究室", "county")
        add(None, permissions.INSPECTOR, "市纪委监委监督检查室", "inspector")
        add(None, permissions.SYSADMIN, "系统管理员", "sysadmin")
        w.insert(
            User,
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            user_rows,
        )
        w.insert(Cadre, ["id", "user_id", "name", "role", "town_id", "phone", "title", "is_active"], cadre_rows)
        w.insert(Assignment, ["id", "cadre_id", "town_id", "cell_id", "household_id", "starts_on"], assignment_rows)

    # -------------------------------------------------------- one town's people and work
    def _id_number(self, gen: _Gen, birth: date, gender: str) -> str:
        while True:
            sequence = gen.rng.randrange(500) * 2 + (1 if gender == "M" else 0)
            if (birth, sequence) not in self.used_ids:
                self.used_ids.add((birth, sequence))
                return idnumbers.make_number(COUNTY_CODE, birth, sequence)

    def _initials_of(self, name: str) -> str:
        if name not in self._initials:
            self._initials[name] = initials(name)
        return self._initials[name]

    def build_town(self, town: _TownState, share: int):
        w = self.writer
        gen = _Gen(f"{SEED}-{town.code}")
        rng = gen.rng
        quotas = _split(share, len(town.small_cells), rng)
        village = {vid: (vname, vkind) for vid, vname, vkind, _ in town.villages}
        household_rows, person_rows, category_rows, change_rows = [], [], [], []
        surplus = 0  # a couple overshoots its cell's quota: the next cell takes fewer
        for cell, quota in zip(town.small_cells, quotas, strict=True):
            vname, vkind = village[cell.village_id]
            plans = []
            placed = 0
            while placed < quota - surplus:
                hid = w.new_id(Household)
                members = self._household(gen, town, cell, hid)
                placed += len(members)
                plans.append((hid, members))
            surplus = placed - (quota - surplus)
            # About 45% of households have nobody in the registry (200,000 households for 150,000 people).
            for _ in range(max(0 if plans else 1, int(len(plans) * 0.85 + rng.random()))):
                plans.append((w.new_id(Household), []))
            for hid, members in plans:
                # The first member heads the household, or a child's grandparent does.
                head_name = members[0][2] if members else gen.name("M" if rng.random() < 0.6 else "F", "old")
                address = self._address(gen, town, vname, vkind)
                phone = next((ph for _, _, _, ph in members if ph), "") or (gen.phone() if rng.random() < 0.7 else "")
                household_rows.append(
                    (hid, town.id, cell.village_id, cell.id, address, head_name, phone, datetime(2023, 3, 1, 9, tzinfo=TZ))
                )
                for person, relation, _head, phone in members:
                    number = self._id_number(gen, person.birth, person.gender)
                    party_branch = town.branch_of_village.get(cell.village_id) if person.party else None
                    person_rows.append(
                        (
                            person.id,
                            hid,
                            town.id,
                            cell.id,
                            person.name,
                            self._initials_of(person.name),
                            person.gender,
                            person.birth,
                            idnumbers.encrypt(number),
                            idnumbers.digest(number),
                            idnumbers.mask(number),
                            phone,
                            relation,
                            person.party,
                            party_branch,
                            cell.grid_worker,
                            person.status,
                            person.status_since,
                            person.registered_on,
                            "",
                            datetime.combine(person.registered_on, datetime.min.time(), TZ),
                            datetime.combine(person.status_since, datetime.min.time(), TZ),
                        )
                    )
                    for code in person.cats:
                        category_rows.append((person.id, self.category_ids[code]))
                    if person.status != "active":
                        reason = (
                            "病故"
                            if person.status == "deceased"
                            else rng.choice(["随子女迁居南京", "迁往外地居住", "户籍迁出本市"])
                        )
                        change_rows.append(
                            (
                                w.new_id(BeneficiaryStatusChange),
                                person.id,
                                "active",
                                person.status,
                                person.status_since,
                                reason,
                                town.village_cadre[cell.village_id],
                                datetime.combine(person.status_since, datetime.min.time(), TZ) + timedelta(hours=15),
                            )
                        )
                    town.people.append(person)
        w.insert(
            Household, ["id", "town_id", "village_id", "cell_id", "address", "head_name", "phone", "created_at"], household_rows
        )
        w.insert(
            Beneficiary,
            [
                "id",
                "household_id",
                "town_id",
                "cell_id",
                "name",
                "name_initials",
                "gender",
                "birth_date",
                "id_number_encrypted",
                "id_number_digest",
                "id_number_masked",
                "phone",
                "relation_to_head",
                "is_party_member",
                "party_branch_id",
                "responsible_cadre_id",
                "status",
                "status_since",
                "registered_on",
                "notes",
                "created_at",
                "updated_at",
            ],
            person_rows,
        )
        w.insert(Beneficiary.categories.through, ["beneficiary_id", "category_id"], category_rows)
        w.insert(
            BeneficiaryStatusChange,
            ["id", "beneficiary_id", "from_status", "to_status", "effective_on", "reason", "changed_by_id", "created_at"],
            change_rows,
        )
        visits = self.build_visits(town, gen)
        grants = self.build_grants(town, gen, visits)
        followups = self.build_followups(town, gen, visits)
        activities = self.build_activities(town, gen)
        self.step(
            f"{town.name}：{len(household_rows):,} 户，{len(person_rows):,} 名慰问对象，{len(visits):,} 次走访，"
            f"{grants:,} 笔发放，{followups:,} 件诉求，{activities} 场活动"
        )
        town.people = []  # free memory before the next town

    def _household(self, gen: _Gen, town: _TownState, cell: _Cell, hid: int) -> list:
        """The registered members of a new household: [(person, relation, head name, phone)]."""
        w, rng = self.writer, gen.rng
        r = rng.random()
        members = []

        def person(gender, birth, cats, party, name=None):
            registered = gen.day(date(2021, 6, 1), date(2023, 1, 15))
            p = _Person(
                w.new_id(Beneficiary),
                name or gen.name(gender, "young" if birth.year > 2005 else ("old" if birth.year < 1966 else "mid")),
                gender,
                birth,
                cats,
                hid,
                cell.id,
                cell.village_id,
                party,
                registered_on=registered,
                status_since=registered,
            )
            s = rng.random()
            if "age60" in cats and s < 0.012:
                p.status, p.status_since = "deceased", gen.day(date(2023, 3, 1), date(2024, 1, 20))
            elif s > 0.992:
                p.status, p.status_since = "moved", gen.day(date(2023, 3, 1), date(2024, 1, 20))
            return p

        if r < 0.42 or r >= 0.90:  # an elder living alone, or a working-age adult in difficulty
            if r < 0.42:
                gender = "M" if rng.random() < 0.4 else "F"
                age = _elder_age(rng)
                cats, party = _elder_categories(rng, age, alone=True)
                birth = _birth(gen, age)
            else:
                gender = "M" if rng.random() < 0.55 else "F"
                birth = _birth(gen, rng.randint(22, 59))
                cats, party = _adult_categories(rng)
            p = person(gender, birth, cats, party)
            members.append((p, "户主", p.name, gen.phone() if rng.random() < (0.6 if r < 0.42 else 0.9) else ""))
        elif r < 0.75:  # an elderly couple, both registered
            surname = rng.choice(SURNAMES)
            age = _elder_age(rng)
            cats, party = _elder_categories(rng, age, alone=False)
            husband = person("M", _birth(gen, age), cats, party, gen.name("M", "old", surname))
            cats2, party2 = _elder_categories(rng, max(60, age - rng.randint(0, 5)), alone=False)
            wife = person("F", _birth(gen, max(60, age - rng.randint(0, 5))), cats2, party2)
            phone = gen.phone() if rng.random() < 0.7 else ""
            members += [(husband, "户主", husband.name, phone), (wife, "配偶", husband.name, "")]
        else:  # a left-behind child with a grandparent, who is registered half the time
            surname = rng.choice(SURNAMES)
            grand_gender = "F" if rng.random() < 0.6 else "M"
            grand_name = gen.name(grand_gender, "old", surname if grand_gender == "M" else None)
            grand_age = rng.randint(60, 78)
            child_gender = "M" if rng.random() < 0.52 else "F"
            cats = ["left_behind_child"] + (["disabled"] if rng.random() < 0.03 else [])
            child = person(child_gender, _birth(gen, rng.randint(3, 15)), cats, False, gen.name(child_gender, "young", surname))
            if rng.random() < 0.5:
                gcats, gparty = _elder_categories(rng, grand_age, alone=False)
                grand = person(grand_gender, _birth(gen, grand_age), gcats, gparty, grand_name)
                members.append((grand, "户主", grand_name, gen.phone() if rng.random() < 0.6 else ""))
            members.append((child, "孙子" if child_gender == "M" else "孙女", grand_name, ""))
        return members

    def _address(self, gen: _Gen, town: _TownState, vname: str, vkind: str) -> str:
        rng = gen.rng
        if vkind == "community":
            if rng.random() < 0.5:
                return f"{town.name}{vname}{rng.choice(ROADS)}{rng.randint(1, 180)}号"
            return f"{town.name}{vname}{vname[:2]}小区{rng.randint(1, 24)}栋{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
        group = rng.choice(GROUP_PREFIX) + rng.choice(GROUP_TAIL)
        return f"{town.name}{vname}{group}组{rng.randint(1, 60)}号"

    # -------------------------------------------------------- visits
    def _visitors(self, gen: _Gen, town: _TownState, person: _Person, cell_worker: dict) -> list:
        rng = gen.rng
        team = [cell_worker[person.cell_id]]
        if rng.random() < 0.5:
            team.append(town.village_cadre[person.village_id])
        if rng.random() < 0.08:
            team.append(town.admin)  # 镇级领导干部带头包村入户
        return list(dict.fromkeys(team))

    def build_visits(self, town: _TownState, gen: _Gen) -> list:
        """Returns [(visit id, person, visited_at, visitor ids, campaign?, kind)] for grants and follow-ups."""
        w, rng = self.writer, gen.rng
        cell_worker = {c.id: c.grid_worker for c in town.small_cells}
        coverage = {"冶山镇": 0.93, "铜城镇": 0.86, "仁和集镇": 0.9, "张铺镇": 0.88}.get(town.name, rng.uniform(0.7, 0.9))
        compliance = rng.uniform(0.65, 0.85)
        visits = []
        for person in town.people:
            last_day = AS_OF if person.status == "active" else person.status_since - timedelta(days=1)
            first_day = max(self.spec.routine_from, person.registered_on)
            target = any(c in STANDARD for c in person.cats)
            campaign_day = None
            if target and person.status == "active" and rng.random() < coverage:
                # Most campaign visits fall in the fortnight before the bulletin and the weeks after.
                campaign_day = min(CAMPAIGN_START + timedelta(days=int(rng.triangular(0, 42, 16))), AS_OF)
            interval = min(INTERVAL[c] for c in person.cats)
            day = first_day + timedelta(days=rng.randrange(interval))
            while day <= last_day:
                near_campaign = campaign_day is not None and abs((day - campaign_day).days) < 10
                # Targets not yet visited in the campaign stay unvisited since it began: the drill-down shows them.
                skip = target and campaign_day is None and day >= CAMPAIGN_START
                if not near_campaign and not skip and rng.random() < compliance:
                    kind = "phone" if rng.random() < 0.15 else "home"
                    visits.append(self._visit(gen, town, person, day, kind, None, cell_worker))
                day += timedelta(days=max(3, int(interval * rng.uniform(0.7, 1.3))))
            if campaign_day is not None:
                r = rng.random()
                if town.name == "铜城镇" and "age60" in person.cats and PARTY_CATS & set(person.cats) and r < 0.8:
                    kind = "study"  # 为高龄党员送学上门40余次
                elif r < (0.3 if town.name == "铜城镇" else 0.08):
                    kind = "health"
                elif r < 0.18:
                    kind = "group"
                elif r < 0.22:
                    kind = "phone"
                else:
                    kind = "home"
                visits.append(self._visit(gen, town, person, campaign_day, kind, self.campaign_id, cell_worker))
        visits.sort(key=lambda v: (v[2], v[0]))
        rows, visitor_rows = [], []
        for vid, person, at, team, campaign, kind, extra in visits:
            rows.append((vid, person.id, person.household_id, town.id, person.cell_id, campaign, kind, at, team[0], *extra))
            visitor_rows += [(vid, c) for c in team]
        w.insert(
            Visit,
            [
                "id",
                "beneficiary_id",
                "household_id",
                "town_id",
                "cell_id",
                "campaign_id",
                "kind",
                "visited_at",
                "recorded_by_id",
                "volunteers_count",
                "bp_systolic",
                "bp_diastolic",
                "notes",
                "idempotency_key",
                "created_at",
            ],
            rows,
        )
        w.insert(Visit.visitors.through, ["visit_id", "cadre_id"], visitor_rows)
        return [v[:6] for v in visits]

    def _visit(self, gen, town, person, day, kind, campaign, cell_worker):
        rng = gen.rng
        at = gen.moment(day)
        team = self._visitors(gen, town, person, cell_worker)
        volunteers = rng.randint(1, 4) if kind in ("health", "group") else 0
        systolic = diastolic = None
        if kind == "health" or (kind == "home" and "age60" in person.cats and rng.random() < 0.2):
            diastolic = rng.randint(62, 98)
            systolic = min(200, diastolic + rng.randint(35, 75))
        notes = rng.choice(VISIT_NOTES[kind])
        # Most visits are logged on the spot; a few are entered the next days (补录).
        created = at + (
            timedelta(minutes=rng.randint(1, 40))
            if rng.random() < 0.92
            else timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
        )
        vid = self.writer.new_id(Visit)
        return (vid, person, at, team, campaign, kind, (volunteers, systolic, diastolic, notes, gen.uuid(), created))

    # -------------------------------------------------------- grants
    def build_grants(self, town: _TownState, gen: _Gen, visits: list) -> int:
        w, rng = self.writer, gen.rng
        rows = []
        campaign_persons = set()

        def grant(person, visit_id, at, kind, amount, goods, qty, source, handed_by, campaign, **more):
            gid = w.new_id(Disbursement)
            proxy_name = proxy_relation = ""
            if "left_behind_child" in person.cats:
                proxy_name, proxy_relation = (
                    gen.name(rng.choice("MF"), "old", person.name[0]),
                    rng.choice(["祖父", "祖母", "监护人"]),
                )
            elif person.birth.year < 1944 and rng.random() < 0.25:
                proxy_name, proxy_relation = (
                    gen.name(rng.choice("MF"), "mid", person.name[0]),
                    rng.choice(["儿子", "女儿", "儿媳"]),
                )
            late = rng.random() < 0.005  # entered long after the fact: the inspection flag has something to find
            recorded = at + (timedelta(days=rng.randint(35, 60)) if late else timedelta(minutes=rng.randint(2, 90)))
            row = {
                "id": gid,
                "town_id": town.id,
                "cell_id": person.cell_id,
                "beneficiary_id": person.id,
                "campaign_id": campaign,
                "visit_id": visit_id,
                "kind": kind,
                "source": source,
                "amount": amount,
                "goods_item_id": goods,
                "quantity": qty,
                "proxy_name": proxy_name,
                "proxy_relation": proxy_relation,
                "handed_by_id": handed_by,
                "handed_at": at,
                "recorded_by_id": handed_by,
                "recorded_at": recorded,
                "receipt_id": None,
                "status": "issued",
                "void_reason": "",
                "voided_by_id": None,
                "voided_at": None,
                "replaces_id": None,
                "idempotency_key": gen.uuid(),
            }
            row.update(more)
            rows.append(row)
            if campaign and row["status"] == "issued":
                self.spend[(town.id, source)] += amount if amount else self.goods_value[goods] * qty
            return row

        self.goods_value = {pk: value for pk, _, value in self.goods}
        for vid, person, at, team, campaign, _kind in visits:
            if campaign:
                campaign_persons.add(person.id)
                standard = max(STANDARD[c] for c in person.cats if c in STANDARD)
                source = (
                    "party_fees"
                    if PARTY_CATS & set(person.cats)
                    else ("civil_affairs" if CIVIL_CATS & set(person.cats) else "town_finance")
                )
                handed_at = at + timedelta(minutes=rng.randint(5, 30))
                final_money = None  # the issued cash or transfer of this visit, after any void and reissue
                if rng.random() < 0.88:
                    money = grant(
                        person,
                        vid,
                        handed_at,
                        "cash" if rng.random() < 0.82 else "transfer",
                        standard,
                        None,
                        None,
                        source,
                        team[0],
                        campaign,
                    )
                    final_money = money
                    if rng.random() < 0.012:
                        # A wrong entry voided with its reason, then reissued (never edited).
                        reason = rng.choice(
                            ["金额填写错误，作废重发", "对象姓名录入错误，作废重发", "发放方式登记错误，作废重发"]
                        )
                        money.update(
                            status="voided",
                            void_reason=reason,
                            voided_by_id=town.admin,
                            voided_at=money["recorded_at"] + timedelta(hours=rng.randint(2, 48)),
                        )
                        self.spend[(town.id, source)] -= standard
                        final_money = grant(
                            person,
                            vid,
                            money["voided_at"] + timedelta(minutes=10),
                            money["kind"],
                            standard,
                            None,
                            None,
                            source,
                            team[0],
                            campaign,
                            replaces_id=money["id"],
                        )
                if rng.random() < 0.55:
                    goods_id, _, value = self.goods[rng.choice([0, 1, 1, 2, 3, 3, 3])]
                    quantity = rng.choice([1, 1, 1, 2]) if value < 100 else 1
                    if final_money is not None and value * quantity >= standard:
                        goods_id, _, value = self.goods[1]  # 油: the gift must leave room for some cash
                        quantity = 1
                    grant(person, vid, handed_at, "goods", None, goods_id, quantity, "town_finance", team[0], campaign)
                    if final_money is not None:
                        # The 慰问标准 covers cash and goods together (the 超标准 rule counts both).
                        final_money["amount"] = standard - value * quantity
                        self.spend[(town.id, final_money["source"])] -= value * quantity
            elif rng.random() < 0.19:
                goods_id, _, value = self.goods[rng.choice([0, 0, 1, 1, 3])]
                grant(person, vid, at + timedelta(minutes=10), "goods", None, goods_id, 1, "town_finance", team[0], None)
        # Bank transfers without a visit, and two deliberate anomalies for the inspectors to find.
        active_targets = [
            p for p in town.people if p.status == "active" and p.id not in campaign_persons and any(c in STANDARD for c in p.cats)
        ]
        cell_worker = {c.id: c.grid_worker for c in town.small_cells}
        for person in active_targets:
            if rng.random() < 0.12:
                standard = max(STANDARD[c] for c in person.cats if c in STANDARD)
                grant(
                    person,
                    None,
                    gen.moment(gen.day(date(2024, 1, 2), date(2024, 1, 25))),
                    "transfer",
                    standard,
                    None,
                    None,
                    "civil_affairs",
                    cell_worker[person.cell_id],
                    self.campaign_id,
                )
        issued_money = [
            r for r in rows if r["campaign_id"] and r["kind"] == "cash" and r["status"] == "issued" and not r["replaces_id"]
        ]
        if issued_money and town.name in ("冶山镇", "秦栏镇", "金集镇"):
            twice = issued_money[len(issued_money) // 2]
            person = next(p for p in town.people if p.id == twice["beneficiary_id"])
            grant(
                person,
                None,
                twice["handed_at"] + timedelta(days=6),
                "cash",
                twice["amount"],
                None,
                None,
                twice["source"],
                town.village_cadre[person.village_id],
                self.campaign_id,
            )  # paid twice in the campaign
        dead = [
            p
            for p in town.people
            if p.status == "deceased"
            and date(2023, 9, 1) < p.status_since < date(2024, 1, 20)
            and any(c in STANDARD for c in p.cats)
        ]
        if dead and town.name in ("铜城镇", "汊涧镇"):
            person = dead[0]
            day = max(person.status_since + timedelta(days=5), CAMPAIGN_START + timedelta(days=2))
            grant(
                person,
                None,
                gen.moment(day),
                "cash",
                max(STANDARD[c] for c in person.cats if c in STANDARD),
                None,
                None,
                "civil_affairs",
                cell_worker[person.cell_id],
                self.campaign_id,
            )  # handed out after death
        extra = random.Random(f"{SEED}-abuses-{town.code}")  # its own stream: the town's stays as it was
        if town.name == "张铺镇":  # voided, then "reissued" to somebody else (事后补录: 作废改发他人)
            paid = {r["beneficiary_id"] for r in rows}
            money = [
                r for r in rows if r["campaign_id"] and r["status"] == "issued" and r["kind"] == "cash" and not r["replaces_id"]
            ]
            spare = [p for p in active_targets if p.id not in paid]
            if money and spare:
                original = money[len(money) // 2]
                original.update(
                    status="voided",
                    void_reason="对象姓名录入错误，作废重发",
                    voided_by_id=town.admin,
                    voided_at=original["recorded_at"] + timedelta(hours=3),
                )
                self.spend[(town.id, original["source"])] -= original["amount"]
                grant(
                    spare[0],
                    None,
                    original["voided_at"] + timedelta(minutes=10),
                    "cash",
                    original["amount"],
                    None,
                    None,
                    original["source"],
                    original["handed_by_id"],
                    self.campaign_id,
                    replaces_id=original["id"],
                )
        if town.name == "石梁镇":  # to someone whose only category (60岁以上) the campaign does not target
            untargeted = [p for p in town.people if p.status == "active" and p.cats == ["age60"]]
            if untargeted:
                person = untargeted[len(untargeted) // 2]
                grant(
                    person,
                    None,
                    gen.moment(date(2024, 1, 12)),
                    "cash",
                    Decimal("300.00"),
                    None,
                    None,
                    "town_finance",
                    cell_worker[person.cell_id],
                    self.campaign_id,
                )
        if town.name == "永丰镇":  # 超标准 outside a campaign: ¥800 cash against 60岁以上's ¥400 a year
            untargeted = [p for p in town.people if p.status == "active" and p.cats == ["age60"]]
            if untargeted:
                person = untargeted[len(untargeted) // 3]
                grant(
                    person,
                    None,
                    gen.moment(date(2023, 12, 20)),
                    "cash",
                    Decimal("800.00"),
                    None,
                    None,
                    "town_finance",
                    cell_worker[person.cell_id],
                    None,
                )
        if town.name == "铜城镇":  # 集中录入: one cadre enters 32 grants of a roster in eight minutes
            money = sorted(
                (r for r in rows if r["campaign_id"] and r["status"] == "issued" and r["kind"] == "cash"),
                key=lambda r: (r["handed_at"], r["id"]),
            )
            batch = money[len(money) // 3 : len(money) // 3 + 32]
            if len(batch) == 32:
                start = max(r["handed_at"] for r in batch) + timedelta(hours=20)
                for i, r in enumerate(batch):
                    r.update(recorded_by_id=town.cadres[0], recorded_at=start + timedelta(seconds=15 * i))
        self._receipts(town, rows, extra)
        columns = list(rows[0]) if rows else []
        w.insert(Disbursement, columns, [tuple(r.values()) for r in rows])
        # Every goods grant took its goods out of the town's store, as disbursement_create does.
        handed = [r for r in rows if r["kind"] == "goods" and r["status"] == "issued"]
        for r in handed:
            self.goods_out[(town.id, r["goods_item_id"])] += r["quantity"]
        w.insert(
            StockMovement,
            ["id", "town_id", "goods_item_id", "kind", "quantity", "disbursement_id", "source", "recorded_by_id", "recorded_at"],
            [
                (
                    w.new_id(StockMovement),
                    town.id,
                    r["goods_item_id"],
                    "out",
                    r["quantity"],
                    r["id"],
                    "",
                    r["recorded_by_id"],
                    r["recorded_at"],
                )
                for r in handed
            ],
        )
        return len(rows)

    def build_declarations_and_mover(self):
        """亲属申报 by a few cadres — two of them declared relatives their own hands paid (亲情牌: one the relative
        in person, one the relative's household) — and one person who moved from 铜城镇 to 冶山镇 and was paid
        in both towns (重复发放 across towns). Written after the towns, reading back what they hold."""
        from django.db.models import Count

        w, gen = self.writer, _Gen(SEED + "-declarations")
        by_name = {t.name: t for t in self.towns}
        tc, ys = by_name["铜城镇"], by_name["冶山镇"]
        declared_at = datetime(2023, 12, 18, 9, 30, tzinfo=TZ)
        declarations, relatives, declared = [], [], set()

        def stranger(relation: str, birth_year: int, gender: str) -> tuple:
            number = self._id_number(gen, date(birth_year, gen.rng.randint(1, 12), gen.rng.randint(1, 28)), gender)
            return gen.name(gender, "mid" if birth_year < 2000 else "young"), relation, number

        def declare(cadre_id: int, town: _TownState, people: list, nothing: bool = False):
            if cadre_id in declared:
                return
            declared.add(cadre_id)
            pk = w.new_id(ConflictDeclaration)
            declarations.append((pk, cadre_id, town.id, declared_at, nothing))
            for name, relation, number in people:
                relatives.append(
                    (
                        w.new_id(DeclaredRelative),
                        pk,
                        name,
                        relation,
                        idnumbers.encrypt(number),
                        idnumbers.digest(number),
                        idnumbers.mask(number),
                    )
                )

        cash = Disbursement._base_manager.filter(campaign_id=self.campaign_id, status="issued", kind="cash").select_related(
            "beneficiary"
        )
        paid = (
            cash.filter(town_id=tc.id, handed_by_id=tc.grid_workers[0]).order_by("id").first()
            or cash.filter(town_id=tc.id).order_by("id").first()
        )
        if paid is not None:
            person = paid.beneficiary
            relation = "父母" if person.birth_date.year < 1975 else "兄弟姐妹"
            declare(
                paid.handed_by_id,
                tc,
                [
                    (person.name, relation, idnumbers.decrypt(person.id_number_encrypted)),
                    stranger("配偶", 1984, "F"),
                    stranger("子女", 2010, "M"),
                ],
            )
        shared = (
            Beneficiary._base_manager.filter(town_id=ys.id)
            .values("household_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values("household_id")
        )
        paid = cash.filter(town_id=ys.id, beneficiary__household_id__in=shared).order_by("id").first()
        if paid is not None:
            member = (
                Beneficiary._base_manager.filter(household_id=paid.beneficiary.household_id)
                .exclude(pk=paid.beneficiary_id)
                .order_by("id")
                .first()
            )
            declare(
                paid.handed_by_id,
                ys,
                [(member.name, "配偶父母", idnumbers.decrypt(member.id_number_encrypted)), stranger("配偶", 1982, "M")],
            )
        declare(ys.admin, ys, [], nothing=True)
        declare(tc.admin, tc, [stranger("配偶", 1979, "M"), stranger("子女", 2004, "F")])
        declare(ys.cadres[0], ys, [stranger("配偶", 1986, "F"), stranger("兄弟姐妹", 1983, "M")])
        w.insert(ConflictDeclaration, ["id", "cadre_id", "town_id", "declared_at", "nothing_to_declare"], declarations)
        w.insert(
            DeclaredRelative,
            ["id", "declaration_id", "name", "relation", "id_number_encrypted", "id_number_digest", "id_number_masked"],
            relatives,
        )

        # Paid in 铜城镇 before the move on 2024-01-15, registered in 冶山镇 the next day and paid again there.
        paid = cash.filter(town_id=tc.id, beneficiary__status="active", handed_at__lt=datetime(2024, 1, 10, tzinfo=TZ)).order_by(
            "id"
        )[10:11]
        paid = paid[0] if paid else None
        if paid is None:
            return
        mover = paid.beneficiary
        moved_on = date(2024, 1, 15)
        Beneficiary._base_manager.filter(pk=mover.pk).update(status="moved", status_since=moved_on)
        w.insert(
            BeneficiaryStatusChange,
            ["id", "beneficiary_id", "from_status", "to_status", "effective_on", "reason", "changed_by_id", "created_at"],
            [
                (
                    w.new_id(BeneficiaryStatusChange),
                    mover.pk,
                    "active",
                    "moved",
                    moved_on,
                    "随子女迁居冶山镇",
                    tc.admin,
                    datetime(2024, 1, 15, 15, tzinfo=TZ),
                )
            ],
        )
        cell = ys.small_cells[0]
        village_name = next(name for vid, name, *_ in ys.villages if vid == cell.village_id)
        household_id, person_id = w.new_id(Household), w.new_id(Beneficiary)
        registered = datetime(2024, 1, 16, 10, tzinfo=TZ)
        w.insert(
            Household,
            ["id", "town_id", "village_id", "cell_id", "address", "head_name", "phone", "created_at"],
            [
                (
                    household_id,
                    ys.id,
                    cell.village_id,
                    cell.id,
                    f"冶山镇{village_name}幸福路66号",
                    mover.name,
                    mover.phone,
                    registered,
                )
            ],
        )
        w.insert(
            Beneficiary,
            [
                "id",
                "household_id",
                "town_id",
                "cell_id",
                "name",
                "name_initials",
                "gender",
                "birth_date",
                "id_number_encrypted",
                "id_number_digest",
                "id_number_masked",
                "phone",
                "relation_to_head",
                "is_party_member",
                "responsible_cadre_id",
                "status",
                "status_since",
                "registered_on",
                "notes",
                "created_at",
                "updated_at",
            ],
            [
                (
                    person_id,
                    household_id,
                    ys.id,
                    cell.id,
                    mover.name,
                    mover.name_initials,
                    mover.gender,
                    mover.birth_date,
                    mover.id_number_encrypted,
                    mover.id_number_digest,
                    mover.id_number_masked,
                    mover.phone,
                    "户主",
                    mover.is_party_member,
                    cell.grid_worker,
                    "active",
                    registered.date(),
                    registered.date(),
                    "由铜城镇迁入",
                    registered,
                    registered,
                )
            ],
        )
        w.insert(
            Beneficiary.categories.through,
            ["beneficiary_id", "category_id"],
            [
                (person_id, c)
                for c in Beneficiary.categories.through.objects.filter(beneficiary_id=mover.pk).values_list(
                    "category_id", flat=True
                )
            ],
        )
        handed = datetime(2024, 1, 20, 10, 30, tzinfo=TZ)
        w.insert(
            Disbursement,
            [
                "id",
                "town_id",
                "cell_id",
                "beneficiary_id",
                "campaign_id",
                "kind",
                "source",
                "amount",
                "handed_by_id",
                "handed_at",
                "recorded_by_id",
                "recorded_at",
                "status",
                "idempotency_key",
            ],
            [
                (
                    w.new_id(Disbursement),
                    ys.id,
                    cell.id,
                    person_id,
                    self.campaign_id,
                    "cash",
                    paid.source,
                    paid.amount,
                    cell.grid_worker,
                    handed,
                    cell.grid_worker,
                    handed + timedelta(minutes=20),
                    "issued",
                    gen.uuid(),
                )
            ],
        )
        self.spend[(ys.id, paid.source)] += paid.amount

    def _receipts(self, town: _TownState, rows: list, rng: random.Random):
        """签领: one scanned roster page per cadre and day covers the cash and goods they handed out; a few
        days' pages never came back (无签领), and in 秦栏镇 one page's image is uploaded again for other people."""
        groups: dict = defaultdict(list)
        for r in rows:
            if r["status"] == "issued" and r["kind"] in ("cash", "goods"):
                groups[(r["handed_by_id"], r["handed_at"].astimezone(TZ).date())].append(r)
        receipt_rows = []
        names = {p.id: p.name for p in town.people}
        for (cadre, day), grants in sorted(groups.items()):
            if rng.random() < 0.015:
                continue
            pk = self.writer.new_id(Receipt)
            uploaded = max(g["handed_at"] for g in grants) + timedelta(hours=rng.randint(2, 72))
            # A real file behind every receipt (a generated roster page), stored as an upload is.
            name, sha = self._receipt_file(town, names, pk, day, grants, uploaded)
            receipt_rows.append([pk, town.id, "roster_page", name, sha, f"签领花名册{day:%m%d}.pdf", cadre, uploaded])
            for g in grants:
                g["receipt_id"] = pk
        if town.name == "秦栏镇" and len(receipt_rows) > 1:
            # The same file as another day's page (签领雷同): same path, same SHA-256.
            receipt_rows[1][3:5] = receipt_rows[0][3:5]
        self.writer.insert(
            Receipt,
            ["id", "town_id", "kind", "file", "sha256", "original_name", "uploaded_by_id", "uploaded_at"],
            [tuple(r) for r in receipt_rows],
        )

    def _receipt_file(self, town: _TownState, names: dict, pk: int, day: date, grants: list, uploaded) -> tuple[str, str]:
        """The roster page's PDF under MEDIA_ROOT; its path and SHA-256."""
        from funds import receipt_files

        goods = {g[0]: g[1] for g in self.goods}
        rows = []
        for g in grants:
            what = f"{goods[g['goods_item_id']]}×{g['quantity']}" if g["kind"] == "goods" else f"现金 ¥{g['amount']:,.2f}"
            person = names.get(g["beneficiary_id"], "")
            rows.append((person, what, g["proxy_name"] or person))
        content = receipt_files.roster_page_pdf(
            title="慰问金（品）签领花名册",
            header=f"{town.name}　发放日期：{day.year}年{day.month}月{day.day}日　共{len(grants)}人　编号{pk}",
            rows=rows,
            note="演示数据：系统生成的样张，并非真实签字",
        )
        name = f"receipts/{uploaded.astimezone(TZ):%Y/%m}/demo-{pk}.pdf"
        return name, receipt_files.store(name, content)

    # -------------------------------------------------------- follow-ups
    def build_followups(self, town: _TownState, gen: _Gen, visits: list) -> int:
        rng = gen.rng
        plan = []  # (kind, visit tuple, forced status group or None)
        if self.spec.seed_figures and town.name == "张铺镇":
            campaign_visits = [v for v in visits if v[4]]
            for i in range(283):  # 制定慰问帮扶措施280余条
                plan.append(("measure", campaign_visits[i % len(campaign_visits)], None))
            for i in range(43):  # 帮助解决群众诉求40余个
                plan.append(("demand", campaign_visits[(i * 7) % len(campaign_visits)], "solved"))
            for i in range(9):
                plan.append(("demand", campaign_visits[(i * 11 + 3) % len(campaign_visits)], "open"))
        elif self.spec.seed_figures and town.name == "仁和集镇":
            campaign_visits = [v for v in visits if v[4]]
            for i in range(24):  # 为慰问对象解决实际困难24个
                plan.append(("demand", campaign_visits[(i * 5) % len(campaign_visits)], "solved"))
            for i in range(6):
                plan.append(("demand", campaign_visits[(i * 13 + 1) % len(campaign_visits)], "open"))
            for i in range(7):  # 已收集各类意见7条
                plan.append(("suggestion", campaign_visits[(i * 17 + 2) % len(campaign_visits)], None))
            for i in range(22):  # 认领“微心愿”20余个
                plan.append(("wish", campaign_visits[(i * 3 + 1) % len(campaign_visits)], None))
        # The bulletin's towns keep its figures exactly at demo scale: no generic items on top.
        generic = not (self.spec.seed_figures and town.name in ("张铺镇", "仁和集镇"))
        for visit in visits:
            if generic and rng.random() < (0.08 if visit[4] else 0.045):
                plan.append((rng.choice(["demand", "demand", "demand", "wish", "measure", "suggestion"]), visit, None))
        followup_rows, event_rows = [], []
        for kind, visit, forced in plan:
            self._followup(gen, town, kind, visit, forced, followup_rows, event_rows)
        self.writer.insert(FollowUp, list(followup_rows[0]) if followup_rows else [], [tuple(r.values()) for r in followup_rows])
        self.writer.insert(FollowUpEvent, ["id", "followup_id", "actor_id", "at", "from_status", "to_status", "note"], event_rows)
        return len(followup_rows)

    def _followup(self, gen, town, kind, visit, forced, followup_rows, event_rows, as_of: date = AS_OF):
        w, rng = self.writer, gen.rng
        vid, person, at, team, campaign, _vkind = visit
        fid = w.new_id(FollowUp)
        raised = at.date()
        at_once = kind in ("demand", "wish") and forced != "open" and rng.random() < 0.35
        r = rng.random()
        if forced == "solved":
            status = rng.choice(["resolved", "revisited", "closed", "closed"])
        elif forced == "open":
            status = rng.choice(["pending", "in_progress", "in_progress"])
        elif at_once:
            status = "closed"
        elif kind == "measure":
            status = "in_progress" if r < 0.55 else ("resolved" if r < 0.75 else "closed")
        else:
            status = (
                "pending"
                if r < 0.1
                else "in_progress"
                if r < 0.38
                else "resolved"
                if r < 0.52
                else "revisited"
                if r < 0.62
                else "rejected"
                if r < 0.66
                else "closed"
            )
        owner_department = ""
        owner = None
        if kind == "demand" and rng.random() < 0.4:
            owner_department = rng.choice(["镇民政办", "镇卫生院", "镇社会事务办", "镇残联", "镇交通所", "镇农业农村办"])
        elif status not in ("pending", "rejected") or rng.random() < 0.5:
            owner = rng.choice([team[0], town.village_cadre[person.village_id]])
        deadline = None if at_once else raised + timedelta(days=rng.choice([7, 10, 15, 15, 30, 45]))
        title = rng.choice(FOLLOWUP_TITLES[kind])
        scope = "person"
        if kind == "suggestion":
            scope = rng.choice(["village", "village", "households"])
        urgency = rng.choice([1, 1, 1, 2, 2, 3])
        importance = rng.choice([1, 1, 2, 2, 3])
        reopened = 0
        satisfaction = ""
        # History: 登记 → 受理/交办 → 办结 → 回访 → 销号, at increasing times but never after as_of.
        moments = [at + timedelta(minutes=5)]
        handler = owner or team[0]

        def event(to_status, note, actor, days_later):
            moment = min(
                moments[-1] + timedelta(days=days_later, hours=rng.randint(1, 6)),
                datetime(as_of.year, as_of.month, as_of.day, 17, 30, tzinfo=TZ),
            )
            moment = max(moment, moments[-1] + timedelta(minutes=1))
            moments.append(moment)
            event_rows.append((w.new_id(FollowUpEvent), fid, actor, moment, events[-1] if events else "", to_status, note))
            events.append(to_status)

        events: list = []
        event_rows.append((w.new_id(FollowUpEvent), fid, team[0], moments[0], "", "pending", f"走访中登记：{title}"))
        events.append("pending")
        if at_once:
            event_rows.append(
                (w.new_id(FollowUpEvent), fid, team[0], moments[0] + timedelta(minutes=20), "pending", "resolved", "当场解决")
            )
            event_rows.append(
                (
                    w.new_id(FollowUpEvent),
                    fid,
                    team[0],
                    moments[0] + timedelta(minutes=25),
                    "resolved",
                    "closed",
                    "群众当场确认，销号",
                )
            )
            events += ["resolved", "closed"]
            moments.append(moments[0] + timedelta(minutes=25))
            satisfaction = "satisfied"
        elif status == "rejected":
            event(
                "rejected", "不予受理：不属于帮扶范围，已向群众解释政策", town.village_cadre[person.village_id], rng.randint(0, 3)
            )
        elif status != "pending":
            target = owner_department or "本人"
            event("in_progress", f"受理并交办：{target}负责办理", town.village_cadre[person.village_id], rng.randint(0, 2))
            dissatisfied = status in ("in_progress", "closed") and rng.random() < 0.05
            if status in ("resolved", "revisited", "closed") or dissatisfied:
                event("resolved", "办理完毕，已反馈群众", handler, rng.randint(2, 12))
            if status in ("revisited", "closed") or dissatisfied:
                satisfaction = "satisfied" if rng.random() < 0.8 else "mostly"
                event(
                    "revisited",
                    f"回访：群众表示{'满意' if satisfaction == 'satisfied' else '基本满意'}",
                    team[0],
                    rng.randint(1, 5),
                )
            if dissatisfied:
                event("in_progress", "回访群众不满意，复号重新办理", town.village_cadre[person.village_id], 0)
                reopened, satisfaction = 1, "dissatisfied"
                if status == "closed":
                    event("resolved", "再次办理完毕", handler, rng.randint(2, 6))
                    event("revisited", "再次回访：群众表示满意", team[0], rng.randint(1, 3))
                    satisfaction = "satisfied"
            if status == "closed":
                event("closed", "销号", town.village_cadre[person.village_id], rng.randint(0, 2))
        status = events[-1]
        followup_rows.append(
            {
                "id": fid,
                "town_id": town.id,
                "village_id": person.village_id,
                "cell_id": person.cell_id,
                "beneficiary_id": person.id,
                "visit_id": vid,
                "campaign_id": campaign,
                "kind": kind,
                "title": title,
                "description": f"{person.name}：{title}",
                "urgency": urgency,
                "importance": importance,
                "scope": scope,
                "owner_id": owner,
                "owner_department": owner_department,
                "raised_by_id": team[0],
                "raised_on": raised,
                "deadline": deadline,
                "tracked": deadline is not None and status != "rejected",
                "status": status,
                "resolved_at_once": at_once,
                "satisfaction": satisfaction,
                "reopened_count": reopened,
                "closed_on": moments[-1].astimezone(TZ).date() if status == "closed" else None,
                "rejection_reason": "不属于帮扶范围，已向群众解释政策" if status == "rejected" else "",
                "created_at": moments[0],
                "updated_at": moments[-1],
            }
        )

    # -------------------------------------------------------- activities
    def build_activities(self, town: _TownState, gen: _Gen) -> int:
        w, rng = self.writer, gen.rng
        plan = []  # (kind, title, day, reached, gifts, team index or None)
        if town.name == "张铺镇":  # 开展慰问活动22次，惠及群众700余人，发放慰问品1400余份
            reached = _split(726, 22, rng, minimum=12)
            gifts = _split(1437, 22, rng, minimum=20)
            titles = ["“寒冬送暖 善城暖冬”走访慰问", "“一路相伴，传递真情”志愿服务", "帮扶活动室集中慰问"]
            for i in range(22):
                plan.append(("group_visit", titles[i % 3], gen.day(date(2023, 12, 1), date(2024, 1, 8)), reached[i], gifts[i], 0))
        elif town.name == "仁和集镇":  # 送上“学习礼包”30余次，覆盖群众1000余人；送慰问信400余份
            reached = _split(1046, 32, rng, minimum=15)
            for i in range(32):
                plan.append(("study", "“学习礼包”送学上门", gen.day(date(2023, 12, 10), date(2024, 1, 8)), reached[i], 0, 0))
            for _ in range(4):
                plan.append(
                    (
                        "lecture",
                        "“方言熟语”宣讲党的二十大精神",
                        gen.day(date(2023, 12, 20), date(2024, 1, 8)),
                        rng.randint(40, 90),
                        0,
                        0,
                    )
                )
            plan.append(("group_visit", "“仁爱之花”送慰问信", date(2024, 1, 5), 412, 412, 0))
        elif town.name == "铜城镇":
            for _ in range(6):
                plan.append(
                    (
                        "health",
                        "“心系特殊家庭，温暖关怀人心”入户健康宣讲",
                        gen.day(date(2023, 12, 20), date(2024, 1, 8)),
                        rng.randint(30, 60),
                        0,
                        0,
                    )
                )
            for _ in range(3):
                plan.append(
                    ("study", "“老有所学”送学上门", gen.day(date(2023, 12, 20), date(2024, 1, 8)), rng.randint(10, 20), 0, 0)
                )
        generic = 0 if (self.spec.seed_figures and town.name == "张铺镇") else rng.randint(3, 8) * self.spec.activity_factor
        for _ in range(generic):
            kind = rng.choice(["group_visit", "group_visit", "lecture", "health", "volunteer"])
            plan.append(
                (
                    kind,
                    GENERIC_ACTIVITIES[kind],
                    gen.day(self.spec.routine_from, AS_OF),
                    rng.randint(8, 60),
                    rng.randint(0, 80),
                    None,
                )
            )
        by_village = defaultdict(list)
        for p in town.people:
            if p.status == "active":
                by_village[p.village_id].append(p.id)
        rows, linked = [], []
        for kind, title, day, reached, gifts, team in sorted(plan, key=lambda a: a[2]):
            pk = w.new_id(Activity)
            vid, vname, *_ = rng.choice(town.villages)
            team_id, team_name = town.teams[team if team is not None else rng.randrange(len(town.teams))]
            campaign = self.campaign_id if day >= CAMPAIGN_START else None
            rows.append(
                (
                    pk,
                    town.id,
                    vid,
                    campaign,
                    kind,
                    f"{vname}{title}",
                    day,
                    team_id,
                    team_name,
                    reached // 4 + rng.randint(3, 10),
                    reached,
                    gifts,
                    rng.choice(town.cadres),
                    f"{vname}开展{title}，惠及群众{reached}人。",
                    datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=18),
                )
            )
            # Not everyone reached is registered by name: link about half of them, from the village.
            pool = by_village.get(vid, [])
            for person_id in rng.sample(pool, min(len(pool), reached // 2)):
                linked.append((pk, person_id))
        w.insert(
            Activity,
            [
                "id",
                "town_id",
                "village_id",
                "campaign_id",
                "kind",
                "title",
                "held_on",
                "organiser_id",
                "organiser_name",
                "participants_count",
                "reached_count",
                "gifts_count",
                "recorded_by_id",
                "notes",
                "created_at",
            ],
            rows,
        )
        w.insert(Activity.beneficiaries.through, ["activity_id", "beneficiary_id"], linked)
        return len(rows)

    # -------------------------------------------------------- budgets
    def build_budgets(self):
        rng = random.Random(SEED + "-budgets")
        rows = []
        for town in self.towns:
            for source in ("town_finance", "party_fees", "civil_affairs"):
                spent = self.spend.get((town.id, source), Decimal(0))
                if not spent:
                    continue
                # 秦栏镇's civil-affairs money runs over: the over-budget flag has a case.
                factor = 0.93 if (town.name == "秦栏镇" and source == "civil_affairs") else rng.uniform(1.03, 1.25)
                if town.name == "仁和集镇" and self.spec.seed_figures:
                    factor *= 2  # 配备慰问金、慰问品等物资20余万元, half of it handed out by the bulletin
                amount = Decimal(int(float(spent) * factor / 1000 + 1) * 1000)
                rows.append(
                    (self.writer.new_id(Budget), self.campaign_id, town.id, source, amount, datetime(2023, 12, 18, 10, tzinfo=TZ))
                )
        self.writer.insert(Budget, ["id", "campaign_id", "town_id", "source", "amount", "created_at"], rows)

    # -------------------------------------------------------- goods stock
    def build_stock(self):
        """Each town received its goods before the season (one 入库 per item) and has some left:
        stock = received − handed out, never negative, the same on every load."""
        received_at = datetime.combine(self.spec.routine_from - timedelta(days=1), datetime.min.time(), tzinfo=TZ).replace(hour=9)
        stock_rows, movement_rows = [], []
        for town in self.towns:
            for goods_id, name, _value in self.goods:
                out = self.goods_out.get((town.id, goods_id), 0)
                left = 10 + out // 8
                source = "县慈善总会捐赠" if name == "棉被" else "镇财政采购"
                movement_rows.append(
                    (
                        self.writer.new_id(StockMovement),
                        town.id,
                        goods_id,
                        "in",
                        out + left,
                        None,
                        source,
                        town.admin,
                        received_at,
                    )
                )
                stock_rows.append((self.writer.new_id(GoodsStock), town.id, goods_id, left))
        self.writer.insert(
            StockMovement,
            ["id", "town_id", "goods_item_id", "kind", "quantity", "disbursement_id", "source", "recorded_by_id", "recorded_at"],
            movement_rows,
        )
        self.writer.insert(GoodsStock, ["id", "town_id", "goods_item_id", "quantity"], stock_rows)

    # -------------------------------------------------------- the running campaign (issue 12 §5)
    def build_running_campaign(self, today: date):
        """A campaign under way on the load day: started four weeks ago, people due this week and
        some overdue by days, visits and grants of the last weeks, open follow-ups with near
        deadlines (those already late are escalated as the nightly job would have done) and a few
        activities. Placed relative to ``today``, so the demo looks at work on any date; random
        choices come from the fixed seed, so two loads on the same day give the same data."""
        w = self.writer
        start, end = running_window(today)
        campaign_id = w.new_id(Campaign)
        w.insert(
            Campaign,
            ["id", "name", "starts_on", "ends_on", "description", "created_at"],
            [
                (
                    campaign_id,
                    running_campaign_name(start),
                    start,
                    end,
                    "常态化走访慰问重点人群：网格员按周期入户，镇村干部包保到户，发现诉求当场登记、限时办结。",
                    datetime.combine(start - timedelta(days=5), datetime.min.time(), TZ).replace(hour=9),
                )
            ],
        )
        w.insert(
            Campaign.target_categories.through,
            ["campaign_id", "category_id"],
            [(campaign_id, self.category_ids[c]) for c in STANDARD],
        )
        w.insert(Campaign.towns.through, ["campaign_id", "town_id"], [(campaign_id, t.id) for t in self.towns])
        w.insert(
            GrantStandard,
            ["id", "campaign_id", "category_id", "amount"],
            [(w.new_id(GrantStandard), campaign_id, self.category_ids[c], amount) for c, amount in STANDARD.items()],
        )
        people = self._people_now()
        spend: dict = defaultdict(Decimal)
        totals = Counter()
        for town in self.towns:
            totals += self._town_now(town, people.get(town.id, []), today, start, campaign_id, spend)
        rng = random.Random(f"{SEED}-now-budgets")
        budget_rows = []
        for town in self.towns:
            for source in ("town_finance", "party_fees", "civil_affairs"):
                spent = spend.get((town.id, source), Decimal(0))
                if spent:
                    # Four weeks into a nine-week campaign: about half of the budget is spent.
                    amount = Decimal(int(float(spent) * rng.uniform(1.7, 2.3) / 1000 + 1) * 1000)
                    budget_rows.append(
                        (w.new_id(Budget), campaign_id, town.id, source, amount, datetime.combine(start, datetime.min.time(), TZ))
                    )
        w.insert(Budget, ["id", "campaign_id", "town_id", "source", "amount", "created_at"], budget_rows)
        escalated = self._escalate_as_of(today)
        self.step(
            f"进行中的专项活动“{running_campaign_name(start)}”（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）："
            f"{totals['visits']:,} 次走访，{totals['grants']:,} 笔发放，{totals['followups']:,} 件诉求，"
            f"{totals['activities']} 场活动；已逾期事项按督办规则升级 {escalated:,} 件"
        )

    def _people_now(self) -> dict[int, list[_Person]]:
        """The registry as loaded (the towns' people lists are freed after each town): active people by town."""
        code_of = {pk: code for code, pk in self.category_ids.items()}
        cats = defaultdict(list)
        for person_id, category_id in Beneficiary.categories.through._default_manager.order_by("id").values_list(
            "beneficiary_id", "category_id"
        ):
            cats[person_id].append(code_of[category_id])
        by_town = defaultdict(list)
        rows = (
            Beneficiary._base_manager.filter(status="active")
            .order_by("id")
            .values_list(
                "id",
                "name",
                "gender",
                "birth_date",
                "household_id",
                "cell_id",
                "household__village_id",
                "is_party_member",
                "town_id",
            )
        )
        for pk, name, gender, birth, household, cell, village, party, town in rows:
            by_town[town].append(_Person(pk, name, gender, birth, cats[pk], household, cell, village, party))
        return by_town

    def _town_now(self, town: _TownState, people: list, today: date, start: date, campaign_id: int, spend: dict) -> Counter:
        w = self.writer
        gen = _Gen(f"{SEED}-now-{town.code}")
        rng = gen.rng
        yesterday = today - timedelta(days=1)
        since = today - timedelta(days=42)  # visits of the last six weeks
        cell_worker = {c.id: c.grid_worker for c in town.small_cells}
        login_worker = town.grid_workers[0] if town.grid_workers else None  # the town's {prefix}_grid account
        # The demo login's own people show every section of its home page: one overdue by a few
        # days, one due this week, one target the campaign has not reached yet.
        roles: dict[int, str] = {}
        shown = [p for p in people if login_worker and cell_worker.get(p.cell_id) == login_worker]
        for person, role in zip(shown, ("overdue", "due"), strict=False):
            roles[person.id] = role
        target = next((p for p in shown if p.id not in roles and any(c in STANDARD for c in p.cats)), None)
        if target is not None:
            roles[target.id] = "unreached"
        coverage = rng.uniform(0.5, 0.75)
        visits = []
        for person in people:
            interval = min(INTERVAL[c] for c in person.cats)
            is_target = any(c in STANDARD for c in person.cats)
            role = roles.get(person.id)
            campaign_day = None
            if role is None and is_target and rng.random() < coverage:
                campaign_day = gen.day(start, yesterday)
            if role == "overdue":
                last = today - timedelta(days=interval + rng.randint(2, 6))
            elif role == "due":
                last = today - timedelta(days=interval - rng.randint(1, 5))
            elif campaign_day is not None:
                last = campaign_day
            else:
                # Next due somewhere from ten days ago to the end of the person's interval.
                last = today - timedelta(days=rng.randint(1, interval + 10))
            if campaign_day is not None:
                r = rng.random()
                if town.name == "铜城镇" and PARTY_CATS & set(person.cats) and r < 0.5:
                    kind = "study"
                elif r < 0.08:
                    kind = "health"
                elif r < 0.18:
                    kind = "group"
                elif r < 0.24:
                    kind = "phone"
                else:
                    kind = "home"
                visits.append(self._visit(gen, town, person, campaign_day, kind, campaign_id, cell_worker))
            else:
                kind = "phone" if rng.random() < 0.15 else "home"
                visits.append(self._visit(gen, town, person, last, kind, None, cell_worker))
            day = last - timedelta(days=max(3, int(interval * rng.uniform(0.85, 1.1))))
            while day >= since:
                if rng.random() < 0.8:
                    visits.append(
                        self._visit(gen, town, person, day, "phone" if rng.random() < 0.15 else "home", None, cell_worker)
                    )
                day -= timedelta(days=max(3, int(interval * rng.uniform(0.85, 1.1))))
        now = timezone.now()
        fixed = []
        for vid, person, at, team, campaign, kind, extra in visits:
            volunteers, systolic, diastolic, notes, key, created = extra
            if created >= now:  # 补录 in the next days, but never later than the load
                created = at + timedelta(minutes=15)
            fixed.append((vid, person, at, team, campaign, kind, (volunteers, systolic, diastolic, notes, key, created)))
        visits = sorted(fixed, key=lambda v: (v[2], v[0]))
        rows, visitor_rows = [], []
        for vid, person, at, team, campaign, kind, extra in visits:
            rows.append((vid, person.id, person.household_id, town.id, person.cell_id, campaign, kind, at, team[0], *extra))
            visitor_rows += [(vid, c) for c in team]
        w.insert(
            Visit,
            [
                "id",
                "beneficiary_id",
                "household_id",
                "town_id",
                "cell_id",
                "campaign_id",
                "kind",
                "visited_at",
                "recorded_by_id",
                "volunteers_count",
                "bp_systolic",
                "bp_diastolic",
                "notes",
                "idempotency_key",
                "created_at",
            ],
            rows,
        )
        w.insert(Visit.visitors.through, ["visit_id", "cadre_id"], visitor_rows)
        visits = [v[:6] for v in visits]
        grants = self._grants_now(town, gen, visits, spend)
        followups = self._followups_now(town, gen, visits, today, login_worker, roles)
        activities = self._activities_now(town, gen, people, start, yesterday, campaign_id)
        return Counter(visits=len(visits), grants=grants, followups=followups, activities=activities)

    def _grants_now(self, town: _TownState, gen: _Gen, visits: list, spend: dict) -> int:
        """The standard's cash (some by bank transfer) on most campaign visits, signed for on the day's roster."""
        rng = gen.rng
        rows = []
        for vid, person, at, team, campaign, kind in visits:
            if not campaign or kind == "phone" or rng.random() >= 0.7:
                continue
            standard = max(STANDARD[c] for c in person.cats if c in STANDARD)
            source = (
                "party_fees"
                if PARTY_CATS & set(person.cats)
                else ("civil_affairs" if CIVIL_CATS & set(person.cats) else "town_finance")
            )
            proxy_name = proxy_relation = ""
            if "left_behind_child" in person.cats:  # a minor's money goes to the guardian
                proxy_name, proxy_relation = gen.name(rng.choice("MF"), "old", person.name[0]), rng.choice(["祖父", "祖母"])
            handed = at + timedelta(minutes=rng.randint(5, 30))
            rows.append(
                {
                    "id": self.writer.new_id(Disbursement),
                    "town_id": town.id,
                    "cell_id": person.cell_id,
                    "beneficiary_id": person.id,
                    "campaign_id": campaign,
                    "visit_id": vid,
                    "kind": "cash" if rng.random() < 0.85 else "transfer",
                    "source": source,
                    "amount": standard,
                    "goods_item_id": None,
                    "quantity": None,
                    "proxy_name": proxy_name,
                    "proxy_relation": proxy_relation,
                    "handed_by_id": team[0],
                    "handed_at": handed,
                    "recorded_by_id": team[0],
                    "recorded_at": handed + timedelta(minutes=rng.randint(2, 90)),
                    "receipt_id": None,
                    "status": "issued",
                    "void_reason": "",
                    "voided_by_id": None,
                    "voided_at": None,
                    "replaces_id": None,
                    "idempotency_key": gen.uuid(),
                }
            )
            spend[(town.id, source)] += standard
        self._receipts(town, rows, random.Random(f"{SEED}-now-receipts-{town.code}"))
        self.writer.insert(Disbursement, list(rows[0]) if rows else [], [tuple(r.values()) for r in rows])
        return len(rows)

    def _followups_now(self, town, gen, visits, today, login_worker, roles) -> int:
        """Items raised on the last weeks' visits; the newest still open. The demo login owns two open
        ones with near deadlines (the board shows orange, and red for ys_grid and tc_grid)."""
        rng = gen.rng
        followup_rows, event_rows = [], []
        yesterday = today - timedelta(days=1)
        recent = today - timedelta(days=5)
        own = []
        for visit in visits:
            vid, person, at, team, campaign, _kind = visit
            mine = login_worker and team[0] == login_worker and at.date() >= today - timedelta(days=21) and len(own) < 2
            if not mine and rng.random() >= (0.1 if campaign else 0.03):
                continue
            kind = "demand" if mine else rng.choice(["demand", "demand", "demand", "wish", "measure", "suggestion"])
            forced = "open" if (mine or at.date() >= recent) else None
            self._followup(gen, town, kind, visit, forced, followup_rows, event_rows, as_of=yesterday)
            if mine:
                row = followup_rows[-1]
                row["owner_id"] = login_worker
                row["owner_department"] = ""
                # ys_grid and tc_grid (the docs' logins) get one due soon and one a day late; the
                # other towns' spread over the coming nights, so no one night escalates all of them.
                if not own:
                    offset = rng.randint(1, 6)
                elif town.prefix in ("ys", "tc"):
                    offset = -1
                else:
                    offset = rng.randint(-2, 6)
                row["deadline"] = max(row["raised_on"], today + timedelta(days=offset))
                row["tracked"] = True
                own.append(row["id"])
        if followup_rows:
            self.writer.insert(FollowUp, list(followup_rows[0]), [tuple(r.values()) for r in followup_rows])
        self.writer.insert(FollowUpEvent, ["id", "followup_id", "actor_id", "at", "from_status", "to_status", "note"], event_rows)
        return len(followup_rows)

    def _activities_now(self, town, gen, people, start, last_day, campaign_id) -> int:
        """A few activities of the campaign, each linking people of its own village only."""
        w, rng = self.writer, gen.rng
        by_village = defaultdict(list)
        for p in people:
            by_village[p.village_id].append(p.id)
        rows, linked = [], []
        for _ in range(rng.randint(2, 4)):
            kind = rng.choice(["group_visit", "group_visit", "lecture", "health", "volunteer"])
            day = gen.day(start, last_day)
            pk = w.new_id(Activity)
            vid, vname, *_ = rng.choice(town.villages)
            team_id, team_name = town.teams[rng.randrange(len(town.teams))]
            reached = rng.randint(8, 60)
            title = GENERIC_ACTIVITIES[kind]
            rows.append(
                (
                    pk,
                    town.id,
                    vid,
                    campaign_id,
                    kind,
                    f"{vname}{title}",
                    day,
                    team_id,
                    team_name,
                    reached // 4 + rng.randint(3, 10),
                    reached,
                    rng.randint(0, 60),
                    rng.choice(town.cadres),
                    f"{vname}开展{title}，惠及群众{reached}人。",
                    datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=18),
                )
            )
            pool = by_village.get(vid, [])
            for person_id in rng.sample(pool, min(len(pool), reached // 2)):
                linked.append((pk, person_id))
        rows.sort(key=lambda r: (r[6], r[0]))
        w.insert(
            Activity,
            [
                "id",
                "town_id",
                "village_id",
                "campaign_id",
                "kind",
                "title",
                "held_on",
                "organiser_id",
                "organiser_name",
                "participants_count",
                "reached_count",
                "gifts_count",
                "recorded_by_id",
                "notes",
                "created_at",
            ],
            rows,
        )
        w.insert(Activity.beneficiaries.through, ["activity_id", "beneficiary_id"], linked)
        return len(rows)

    def _escalate_as_of(self, today: date) -> int:
        """What the nightly 督办 job would have done by today: every open item past its deadline sits at
        the level its lateness calls for, with the job's events on the nights it rose. Without this the
        first night's run would move every item left open since 2024 at once."""
        from visits.followup_escalation import ESCALATING_STATUSES, LEVEL_LABELS, thresholds

        limits = thresholds()
        late = list(
            FollowUp._base_manager.filter(
                status__in=ESCALATING_STATUSES, deadline__lte=today - timedelta(days=min(limits.values()))
            )
            .order_by("id")
            .only("id", "deadline", "escalation_level")
        )
        event_rows = []
        for item in late:
            for level, days in sorted(limits.items()):
                night = item.deadline + timedelta(days=days)
                if night > today or item.escalation_level >= level:
                    continue
                item.escalation_level = level
                item.escalated_at = datetime.combine(night, datetime.min.time(), TZ).replace(hour=1, minute=30)
                note = f"逾期{days}天以上，升级至{LEVEL_LABELS[level]}级督办"
                event_rows.append((self.writer.new_id(FollowUpEvent), item.id, "escalate", None, item.escalated_at, "", "", note))
        FollowUp._base_manager.bulk_update(late, ["escalation_level", "escalated_at"], batch_size=2000)
        self.writer.insert(
            FollowUpEvent, ["id", "followup_id", "kind", "actor_id", "at", "from_status", "to_status", "note"], event_rows
        )
        return len(late)


def running_window(today: date) -> tuple[date, date] | None:
    """The running campaign's dates: begun four weeks before the load day, five weeks still to go.
    None while the 2024 campaign itself would still be recent (a load dated early 2024)."""
    start = today - timedelta(days=27)
    if start <= CAMPAIGN_END + timedelta(days=30):
        return None
    return start, today + timedelta(days=34)


def running_campaign_name(start: date) -> str:
    season = {12: "冬季", 1: "冬季", 2: "冬季", 3: "春季", 4: "春季", 5: "春季", 6: "夏季", 7: "夏季", 8: "夏季"}.get(
        start.month, "秋季"
    )
    return f"{start.year}年{season}走访慰问"


def draft_last_week(today: date, log: Callable[[str], None]) -> None:
    """The Monday job's draft of last week's bulletin, as the county editor would find it."""
    from reports.services import bulletin_draft

    monday = today - timedelta(days=today.weekday() + 7)
    bulletin = bulletin_draft(week_start=monday)
    log(f"组工信息草稿：{monday:%Y-%m-%d} 起一周，{bulletin.items.count()} 条")


VISIT_NOTES = {
    "home": [
        "老人身体硬朗，家中过冬物资充足",
        "询问近期生活情况，叮嘱注意防寒保暖",
        "检查家中用电用气安全，未发现隐患",
        "老人腿脚不便，已联系家庭医生上门",
        "子女在外务工，老人独自在家，情绪稳定",
        "宣传医保、养老保险最新政策",
        "与老人拉家常，了解近期需求",
        "",
    ],
    "phone": ["电话询问近况，本人表示一切安好", "电话联系家属，了解身体状况"],
    "group": ["参加村集中慰问活动，领取慰问品", "在帮扶活动室参加集中慰问"],
    "health": ["医护人员测量血压，提供健康指导", "测量血压，提醒按时服药", "家庭医生随访，血压基本平稳"],
    "study": ["送学上门，宣讲党的二十大精神", "送去学习资料和慰问信，交流学习体会"],
}
FOLLOWUP_TITLES = {
    "demand": [
        "申请临时救助",
        "房屋漏雨需维修",
        "医保报销咨询",
        "申请居家养老服务",
        "家门口路灯损坏",
        "饮水管道老化需更换",
        "申请轮椅",
        "办理残疾证",
        "冬季取暖困难",
        "孩子就学资助咨询",
    ],
    "wish": ["想要一台收音机", "希望有人上门理发", "想要一件厚棉衣", "想要一副老花镜", "希望孩子得到学习辅导", "想要一个电暖器"],
    "suggestion": ["建议村里增设路灯", "建议修缮村头道路", "建议增加文化活动", "建议加强道路交通安全宣传", "建议开设老年食堂"],
    "measure": [
        "每月上门探望一次",
        "联系家庭医生签约服务",
        "协助申请低保复核",
        "安排志愿者结对帮扶",
        "落实临时救助",
        "代办医保报销",
    ],
}
GENERIC_ACTIVITIES = {
    "group_visit": "集中慰问活动",
    "lecture": "党的二十大精神宣讲",
    "health": "义诊和健康讲座",
    "volunteer": "志愿服务进村入户",
}
