"""People: cadres with their logins and 包保 assignments, then each town's households and registry
(the town's visits, grants, follow-ups and activities follow from build_town)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from core import idnumbers, permissions
from demo.facts import COUNTY_CODE, GROUP_PREFIX, GROUP_TAIL, PASSWORD, ROADS, SEED, SURNAMES, TOWN_CADRES, TOWNS, TZ
from demo.rows import Gen, adult_categories, birth_day, elder_age, elder_categories, uneven_split
from demo.state import BuilderState, Cell, Login, Person, TownState
from towns.models import (
    Assignment,
    Beneficiary,
    BeneficiaryStatusChange,
    Cadre,
    Household,
)
from towns.pinyin import initials


def login_plan():
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


class PeopleBuilder(BuilderState):
    """Cadres and accounts; each town's households and people."""

    def build_cadres(self):
        w, gen = self.writer, Gen(SEED + "-cadres")
        rng = gen.rng
        User = get_user_model()
        usable = make_password(PASSWORD)  # hashed once: PBKDF2 per account would take minutes
        joined = datetime(2023, 6, 1, 9, 0, tzinfo=TZ)
        user_rows, cadre_rows, assignment_rows = [], [], []
        logins = {u: (role, town, title) for u, role, town, title in login_plan()}

        def add(town: TownState | None, role: str, title: str, username: str) -> int:
            user_id, cadre_id = w.new_id(User), w.new_id(Cadre)
            gender = "M" if rng.random() < 0.6 else "F"
            name = gen.name(gender, "mid")
            login = username in logins
            if login:  # the same name at every scale, so docs/demo.md can list it
                own = Gen(f"{SEED}-{username}")
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

    def _id_number(self, gen: Gen, birth: date, gender: str) -> str:
        while True:
            sequence = gen.rng.randrange(500) * 2 + (1 if gender == "M" else 0)
            if (birth, sequence) not in self.used_ids:
                self.used_ids.add((birth, sequence))
                return idnumbers.make_number(COUNTY_CODE, birth, sequence)

    def _initials_of(self, name: str) -> str:
        if name not in self._initials:
            self._initials[name] = initials(name)
        return self._initials[name]

    def build_town(self, town: TownState, share: int):
        w = self.writer
        gen = Gen(f"{SEED}-{town.code}")
        rng = gen.rng
        quotas = uneven_split(share, len(town.small_cells), rng)
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

    def _household(self, gen: Gen, town: TownState, cell: Cell, hid: int) -> list:
        """The registered members of a new household: [(person, relation, head name, phone)]."""
        w, rng = self.writer, gen.rng
        r = rng.random()
        members = []

        def person(gender, birth, cats, party, name=None):
            registered = gen.day(date(2021, 6, 1), date(2023, 1, 15))
            p = Person(
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
                age = elder_age(rng)
                cats, party = elder_categories(rng, age, alone=True)
                birth = birth_day(gen, age)
            else:
                gender = "M" if rng.random() < 0.55 else "F"
                birth = birth_day(gen, rng.randint(22, 59))
                cats, party = adult_categories(rng)
            p = person(gender, birth, cats, party)
            members.append((p, "户主", p.name, gen.phone() if rng.random() < (0.6 if r < 0.42 else 0.9) else ""))
        elif r < 0.75:  # an elderly couple, both registered
            surname = rng.choice(SURNAMES)
            age = elder_age(rng)
            cats, party = elder_categories(rng, age, alone=False)
            husband = person("M", birth_day(gen, age), cats, party, gen.name("M", "old", surname))
            cats2, party2 = elder_categories(rng, max(60, age - rng.randint(0, 5)), alone=False)
            wife = person("F", birth_day(gen, max(60, age - rng.randint(0, 5))), cats2, party2)
            phone = gen.phone() if rng.random() < 0.7 else ""
            members += [(husband, "户主", husband.name, phone), (wife, "配偶", husband.name, "")]
        else:  # a left-behind child with a grandparent, who is registered half the time
            surname = rng.choice(SURNAMES)
            grand_gender = "F" if rng.random() < 0.6 else "M"
            grand_name = gen.name(grand_gender, "old", surname if grand_gender == "M" else None)
            grand_age = rng.randint(60, 78)
            child_gender = "M" if rng.random() < 0.52 else "F"
            cats = ["left_behind_child"] + (["disabled"] if rng.random() < 0.03 else [])
            child = person(
                child_gender, birth_day(gen, rng.randint(3, 15)), cats, False, gen.name(child_gender, "young", surname)
            )
            if rng.random() < 0.5:
                gcats, gparty = elder_categories(rng, grand_age, alone=False)
                grand = person(grand_gender, birth_day(gen, grand_age), gcats, gparty, grand_name)
                members.append((grand, "户主", grand_name, gen.phone() if rng.random() < 0.6 else ""))
            members.append((child, "孙子" if child_gender == "M" else "孙女", grand_name, ""))
        return members

    def _address(self, gen: Gen, town: TownState, vname: str, vkind: str) -> str:
        rng = gen.rng
        if vkind == "community":
            if rng.random() < 0.5:
                return f"{town.name}{vname}{rng.choice(ROADS)}{rng.randint(1, 180)}号"
            return f"{town.name}{vname}{vname[:2]}小区{rng.randint(1, 24)}栋{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
        group = rng.choice(GROUP_PREFIX) + rng.choice(GROUP_TAIL)
        return f"{town.name}{vname}{group}组{rng.randint(1, 60)}号"
