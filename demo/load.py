"""Loading the demo county: 天长市 around the 2024 双节慰问 bulletin (天长组工信息 第118期), built deterministically.

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

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from core import audit
from core.scoping import unscoped
from demo.abuses import AbuseBuilder
from demo.campaign import CampaignBuilder
from demo.facts import CAMPAIGN_NAME, SCALES, SEED, TOWNS
from demo.followups import FollowUpBuilder
from demo.grants import GrantBuilder
from demo.map import MapBuilder
from demo.people import PeopleBuilder, login_plan
from demo.rows import proportional
from demo.running import RunningCampaignBuilder, draft_last_week, running_window
from demo.state import Login
from demo.target_lists import approve_target_lists
from towns import visit_due
from towns.models import Town
from visits.models import Campaign


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
            ._default_manager.filter(username__in=[u for u, *_ in login_plan()])
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
        builder = Builder(spec, log)
        logins = builder.run()
        today = timezone.localdate()
        if spec.alive and running_window(today) is not None:
            builder.build_running_campaign(today)
        builder.writer.reset_sequences()
        log("计算每人下次应访日期")
        visit_due.refresh_all()
        approve_target_lists(log)  # 慰问对象名单, decided by each town (issue 12 §2)
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


class Builder(MapBuilder, PeopleBuilder, CampaignBuilder, GrantBuilder, AbuseBuilder, FollowUpBuilder, RunningCampaignBuilder):
    """The whole load: each part writes its rows into the shared state (demo/state.py), in this order."""

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
        shares = proportional(self.spec.people, [t[6] for t in TOWNS])
        for town, share in zip(self.towns, shares, strict=True):
            self.build_town(town, share)
        self.build_declarations_and_mover()
        self.build_budgets()
        self.build_stock()
        return self.logins
