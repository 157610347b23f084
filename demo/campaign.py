"""The 2024 season's work outside money: routine and campaign visits, group activities, budgets."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from demo.facts import AS_OF, CAMPAIGN_START, GENERIC_ACTIVITIES, INTERVAL, PARTY_CATS, SEED, STANDARD, TZ, VISIT_NOTES
from demo.rows import Gen, uneven_split, write_activities, write_visits
from demo.state import BuilderState, Person, TownState
from funds.models import (
    Budget,
)
from visits.models import Activity, Visit


class CampaignBuilder(BuilderState):
    """Visits and activities of the weeks around the bulletin, and the budgets they drew on."""

    def _visitors(self, gen: Gen, town: TownState, person: Person, cell_worker: dict) -> list:
        rng = gen.rng
        team = [cell_worker[person.cell_id]]
        if rng.random() < 0.5:
            team.append(town.village_cadre[person.village_id])
        if rng.random() < 0.08:
            team.append(town.admin)  # 镇级领导干部带头包村入户
        return list(dict.fromkeys(team))

    def build_visits(self, town: TownState, gen: Gen) -> list:
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
        write_visits(w, town, visits)
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

    def build_activities(self, town: TownState, gen: Gen) -> int:
        w, rng = self.writer, gen.rng
        plan = []  # (kind, title, day, reached, gifts, team index or None)
        if town.name == "张铺镇":  # 开展慰问活动22次，惠及群众700余人，发放慰问品1400余份
            reached = uneven_split(726, 22, rng, minimum=12)
            gifts = uneven_split(1437, 22, rng, minimum=20)
            titles = ["“寒冬送暖 善城暖冬”走访慰问", "“一路相伴，传递真情”志愿服务", "帮扶活动室集中慰问"]
            for i in range(22):
                plan.append(("group_visit", titles[i % 3], gen.day(date(2023, 12, 1), date(2024, 1, 8)), reached[i], gifts[i], 0))
        elif town.name == "仁和集镇":  # 送上“学习礼包”30余次，覆盖群众1000余人；送慰问信400余份
            reached = uneven_split(1046, 32, rng, minimum=15)
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
        write_activities(w, rows, linked)
        return len(rows)

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
