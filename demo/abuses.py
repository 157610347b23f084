"""The anomalies the inspectors are meant to find: paid twice, paid after death, voided and
reissued to somebody else, untargeted, over the standard, 集中录入, 亲情牌 and a payment in two towns."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from django.db.models import Count

from core import idnumbers
from demo.facts import CAMPAIGN_START, SEED, STANDARD, TZ
from demo.rows import Gen
from demo.state import BuilderState, TownState
from funds.models import (
    ConflictDeclaration,
    DeclaredRelative,
    Disbursement,
)
from towns.models import (
    Beneficiary,
    BeneficiaryStatusChange,
    Household,
)


class AbuseBuilder(BuilderState):
    """Deliberate anomalies written among the ordinary grants."""

    def build_abuses(self, town: TownState, gen: Gen, rows: list, active_targets: list, cell_worker: dict):
        """Into one town's grant rows: paid twice (冶山镇, 秦栏镇, 金集镇), after death (铜城镇, 汊涧镇), voided
        and reissued to somebody else (张铺镇), untargeted (石梁镇), over the yearly standard (永丰镇), and
        32 grants of a roster entered by one cadre in eight minutes (铜城镇)."""
        grant = partial(self._grant, town, gen, rows)
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

    def build_declarations_and_mover(self):
        """亲属申报 by a few cadres — two of them declared relatives their own hands paid (亲情牌: one the relative
        in person, one the relative's household) — and one person who moved from 铜城镇 to 冶山镇 and was paid
        in both towns (重复发放 across towns). Written after the towns, reading back what they hold."""
        w, gen = self.writer, Gen(SEED + "-declarations")
        by_name = {t.name: t for t in self.towns}
        tc, ys = by_name["铜城镇"], by_name["冶山镇"]
        declared_at = datetime(2023, 12, 18, 9, 30, tzinfo=TZ)
        declarations, relatives, declared = [], [], set()

        def stranger(relation: str, birth_year: int, gender: str) -> tuple:
            number = self._id_number(gen, date(birth_year, gen.rng.randint(1, 12), gen.rng.randint(1, 28)), gender)
            return gen.name(gender, "mid" if birth_year < 2000 else "young"), relation, number

        def declare(cadre_id: int, town: TownState, people: list, nothing: bool = False):
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
