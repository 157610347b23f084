"""The map: categories, goods, the 2024 campaign, towns, villages, grid cells, party branches, volunteer teams."""

from __future__ import annotations

from datetime import datetime

from demo.facts import (
    CAMPAIGN_END,
    CAMPAIGN_NAME,
    CAMPAIGN_START,
    CATEGORIES,
    COMMUNITY_NAMES,
    COUNTY_CODE,
    GOODS,
    RENHEJI_BRANCHES,
    STANDARD,
    TOWNS,
    TZ,
    VILLAGE_HEADS,
    VILLAGE_TAILS,
    YEARLY_STANDARD,
    YESHAN_BIG,
    YESHAN_SMALL,
)
from demo.rows import uneven_split
from demo.state import BuilderState, Cell, TownState
from funds.models import (
    GoodsItem,
)
from towns.models import (
    Category,
    GridCell,
    PartyBranch,
    Town,
    Village,
    VolunteerTeam,
)
from visits.models import Campaign, GrantStandard


class MapBuilder(BuilderState):
    """Reference rows and the county's map."""

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
            town = TownState(w.new_id(Town), f"{COUNTY_CODE}{code}000", name, kind, prefix)
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
                big_per_village = uneven_split(YESHAN_BIG, len(town.villages), rng, minimum=1)
                small_per_big = uneven_split(YESHAN_SMALL, YESHAN_BIG, rng, minimum=1)
            else:
                small_counts = [rng.randint(*self.spec.small_per_village) for _ in town.villages]
                big_per_village = [max(1, round(n / 4.5)) for n in small_counts]
                small_per_big = []
                for n, b in zip(small_counts, big_per_village, strict=True):
                    small_per_big += uneven_split(n, b, rng, minimum=1) if n >= b else [1] * b
            big_index = 0
            for (vid, vname, _vkind, _vcode), n_big in zip(town.villages, big_per_village, strict=True):
                for b in range(1, n_big + 1):
                    big_id = w.new_id(GridCell)
                    town.big_cells += 1
                    cell_rows.append((big_id, town.id, vid, "big", None, f"{code}-B{town.big_cells:03d}", f"{vname}第{b}大网格"))
                    for s in range(1, small_per_big[big_index] + 1):
                        cell = Cell(w.new_id(GridCell), vid, big_id, f"{code}-S{len(town.small_cells) + 1:04d}")
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
