"""Money and goods: the grants of the 2024 campaign and outside it, signed rosters with real files,
and the goods stock the grants drew from."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import partial

from demo import receipt_files
from demo.facts import CIVIL_CATS, PARTY_CATS, SEED, STANDARD, TZ
from demo.rows import Gen
from demo.state import BuilderState, TownState
from funds.models import (
    Disbursement,
    GoodsStock,
    Receipt,
    StockMovement,
)


class GrantBuilder(BuilderState):
    """Grants, receipts and goods stock."""

    def build_grants(self, town: TownState, gen: Gen, visits: list) -> int:
        w, rng = self.writer, gen.rng
        rows = []
        campaign_persons = set()

        grant = partial(self._grant, town, gen, rows)
        self.goods_value = {pk: value for pk, _, value in self.goods}  # read by _grant
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
        self.build_abuses(town, gen, rows, active_targets, cell_worker)
        # The receipts draw from their own stream: the town's stays as it was before the anomalies.
        self._receipts(town, rows, random.Random(f"{SEED}-abuses-{town.code}"))
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

    def _grant(self, town, gen, rows, person, visit_id, at, kind, amount, goods, qty, source, handed_by, campaign, **more):
        """One grant row appended to ``rows``, its campaign spending counted; the row is returned to be changed later
        (voided, reissued, recorded late)."""
        rng = gen.rng
        gid = self.writer.new_id(Disbursement)
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

    def _receipts(self, town: TownState, rows: list, rng: random.Random):
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

    def _receipt_file(self, town: TownState, names: dict, pk: int, day: date, grants: list, uploaded) -> tuple[str, str]:
        """The roster page's PDF under MEDIA_ROOT; its path and SHA-256."""
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
