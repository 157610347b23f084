"""What the builder's parts share: the people, cells and towns as generated, and the state of one load."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from demo.facts import SEED, Scale
from demo.rows import Gen, Writer


@dataclass(slots=True)
class Person:
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
class Cell:
    id: int
    village_id: int
    parent_id: int
    code: str
    grid_worker: int = 0  # cadre id


@dataclass
class TownState:
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


@dataclass
class Login:
    username: str
    role: str
    town: str
    name: str


class BuilderState:
    """The load under way: its writer, the towns as built, the ids later rows point at, the money
    spent. The builder's parts (map, people, campaign, grants, abuses, follow-ups, the running
    campaign) are mixins over this state, one module each, combined in demo.load.Builder."""

    def __init__(self, spec: Scale, log):
        self.spec = spec
        self.log = log
        self.writer = Writer()
        self.gen = Gen(SEED + "-map")
        self.towns: list[TownState] = []
        self.category_ids: dict[str, int] = {}
        self.goods: list = []  # (id, name, value)
        self.goods_value: dict = {}  # goods item id -> unit value
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
