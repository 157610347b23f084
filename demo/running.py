"""The campaign under way on the load day (issue 12 §5), placed relative to that day, and the draft of last
week's bulletin."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from demo.facts import CAMPAIGN_END, CIVIL_CATS, GENERIC_ACTIVITIES, INTERVAL, PARTY_CATS, SEED, STANDARD, TZ
from demo.rows import Gen, write_activities, write_visits
from demo.state import BuilderState, Person, TownState
from funds.models import (
    Budget,
    Disbursement,
)
from reports.services import bulletin_draft
from towns.models import (
    Beneficiary,
)
from visits.models import Activity, Campaign, FollowUp, FollowUpEvent, GrantStandard


class RunningCampaignBuilder(BuilderState):
    """A campaign four weeks in on the load day: due and overdue people, recent work, open items."""

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

    def _people_now(self) -> dict[int, list[Person]]:
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
            by_town[town].append(Person(pk, name, gender, birth, cats[pk], household, cell, village, party))
        return by_town

    def _town_now(self, town: TownState, people: list, today: date, start: date, campaign_id: int, spend: dict) -> Counter:
        w = self.writer
        gen = Gen(f"{SEED}-now-{town.code}")
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
        write_visits(w, town, visits)
        visits = [v[:6] for v in visits]
        grants = self._grants_now(town, gen, visits, spend)
        followups = self._followups_now(town, gen, visits, today, login_worker, roles)
        activities = self._activities_now(town, gen, people, start, yesterday, campaign_id)
        return Counter(visits=len(visits), grants=grants, followups=followups, activities=activities)

    def _grants_now(self, town: TownState, gen: Gen, visits: list, spend: dict) -> int:
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
        write_activities(w, rows, linked)
        return len(rows)


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
    monday = today - timedelta(days=today.weekday() + 7)
    bulletin = bulletin_draft(week_start=monday)
    log(f"组工信息草稿：{monday:%Y-%m-%d} 起一周，{bulletin.items.count()} 条")
