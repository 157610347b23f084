"""load_demo: the demo county is 天长市 as the bulletin describes it, valid, idempotent and deterministic.

The tiny scale keeps the whole map (16 towns, 冶山镇's 70 big / 284 small cells) with a few
hundred people, so one load serves every test here: it is built once per module inside a
transaction that is rolled back at the end (the audit and grant tables refuse DELETE).
"""

import hashlib
from collections import Counter
from dataclasses import dataclass
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from core import idnumbers
from core.audit import verify_chain
from core.models import AuditRecord
from core.scoping import unscoped
from demo import facts, load, people
from funds.models import Disbursement
from towns.models import Assignment, Beneficiary, Cadre, GridCell, Town, Village
from towns.pinyin import initials
from visits.models import Campaign, FollowUp, Visit

TOWN_CODES = {
    "广陵街道": "341181003000",
    "千秋街道": "341181004000",
    "铜城镇": "341181100000",
    "汊涧镇": "341181101000",
    "秦栏镇": "341181102000",
    "大通镇": "341181103000",
    "杨村镇": "341181104000",
    "石梁镇": "341181105000",
    "金集镇": "341181106000",
    "永丰镇": "341181107000",
    "仁和集镇": "341181108000",
    "冶山镇": "341181109000",
    "郑集镇": "341181110000",
    "张铺镇": "341181111000",
    "新街镇": "341181112000",
    "万寿镇": "341181113000",
}


def _fingerprint() -> str:
    """What a user sees of the data, ids left out: names, ID digests, cells, visits, grants, follow-ups."""
    h = hashlib.sha256()
    with unscoped():
        # The one person registered in two towns shares a digest: the cell breaks the tie.
        for row in Beneficiary.objects.order_by("id_number_digest", "cell__code").values_list(
            "name", "id_number_digest", "birth_date", "cell__code", "household__address", "status"
        ):
            h.update(repr(row).encode())
        for model, fields in (
            (Visit, ("beneficiary__id_number_digest", "visited_at", "kind", "bp_systolic", "idempotency_key")),
            (Disbursement, ("beneficiary__id_number_digest", "handed_at", "kind", "amount", "status", "idempotency_key")),
            (FollowUp, ("beneficiary__id_number_digest", "title", "status", "deadline")),
        ):
            for row in model.objects.order_by(*fields).values_list(*fields):
                h.update(repr(row).encode())
    return h.hexdigest()


def _row_counts() -> dict:
    with unscoped():
        return {
            m._meta.label: m._base_manager.count()
            for app in ("auth", "towns", "visits", "funds")
            for m in apps.get_app_config(app).get_models()
        }


@dataclass
class Loaded:
    output: str  # what load_demo printed
    first_fingerprint: str
    second_fingerprint: str
    refusal: str  # what build said about a database that already had a town


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        # Savepoints rolled back, never DELETEs: the audit and grant tables refuse those.
        with transaction.atomic():
            with unscoped():
                Town.objects.create(code="341181109000", name="冶山镇")
            try:
                load.build("tiny")
                refusal = ""
            except load.DatabaseNotEmpty as error:
                refusal = str(error)
            transaction.set_rollback(True)
        with transaction.atomic():
            load.build("tiny")
            first = _fingerprint()
            transaction.set_rollback(True)
        out = StringIO()
        call_command("load_demo", "--scale", "tiny", stdout=out)
        yield Loaded(out.getvalue(), first, _fingerprint(), refusal)
        transaction.set_rollback(True)


def test_towns_are_the_16_of_tianchang_with_their_division_codes(loaded, db):
    with unscoped():
        assert dict(Town.objects.values_list("name", "code")) == TOWN_CODES
        assert set(Town.objects.filter(kind="subdistrict").values_list("name", flat=True)) == {"广陵街道", "千秋街道"}
        assert Village.objects.get(code="341181109002").name == "长兴社区"
        for village in Village.objects.select_related("town"):
            assert village.code[:9] == village.town.code[:9]
            number = int(village.code[9:])
            assert (1 <= number <= 199) if village.kind == "community" else (200 <= number <= 399), village


def test_yeshan_has_70_big_and_284_small_cells_each_under_a_big_cell_of_its_town(loaded, db):
    with unscoped():
        yeshan = Town.objects.get(name="冶山镇")
        assert GridCell.objects.filter(town=yeshan, level="big").count() == 70
        assert GridCell.objects.filter(town=yeshan, level="small").count() == 284
        small = GridCell.objects.filter(level="small")
        assert small.filter(parent__level="big", parent__town=F("town"), village__town=F("town")).count() == small.count()
        assert not GridCell.objects.filter(level="big", parent__isnull=False).exists()


def test_every_id_number_decrypts_parses_and_agrees_with_the_record(loaded, db):
    with unscoped():
        people = list(Beneficiary.objects.select_related("town").prefetch_related("categories"))
    assert 250 <= len(people) <= 400
    for person in people:
        number = idnumbers.decrypt(person.id_number_encrypted)
        parsed = idnumbers.parse(number)
        assert parsed.number == number and number.startswith("341181")
        assert (parsed.birth_date, parsed.gender) == (person.birth_date, person.gender)
        assert person.id_number_digest == idnumbers.digest(number)
        assert person.id_number_masked == idnumbers.mask(number)
        assert person.name_initials == initials(person.name)
        age = (facts.BULLETIN_DAY - person.birth_date).days / 365.25
        codes = {c.code for c in person.categories.all()}
        assert codes, person
        if "age60" in codes:
            assert age >= 60
        if "left_behind_child" in codes:
            assert age < 16
    # One ID number per person, except the demo's one mover: registered in 铜城镇 (moved away) and 冶山镇.
    shared = [d for d, n in Counter(p.id_number_digest for p in people).items() if n > 1]
    assert len(shared) == 1
    twice = sorted((p.town.name, p.status) for p in people if p.id_number_digest == shared[0])
    assert twice == [("冶山镇", "active"), ("铜城镇", "moved")]


def test_demo_logins_sign_in_with_the_demo_password(loaded, db, client):
    usernames = [username for username, *_ in people.login_plan()]
    assert len(usernames) == 51
    for town in ("ys", "tc"):
        assert {f"{town}_grid", f"{town}_cadre", f"{town}_admin"} <= set(usernames)
    assert {"county", "inspector", "sysadmin"} <= set(usernames)
    for username in usernames:
        # Through the real login form: axes' backend wants the request client.login() does not pass.
        response = client.post(reverse("login"), {"username": username, "password": facts.PASSWORD})
        assert response.status_code == 302 and "_auth_user_id" in client.session, username
        client.logout()
    with unscoped():
        assert Assignment.objects.filter(cadre__user__username="ys_grid", cell__level="small").exists()
        sysadmin = Cadre.objects.select_related("user").get(user__username="sysadmin")
        assert sysadmin.user.is_superuser and sysadmin.user.is_staff and sysadmin.town is None
        assert Cadre.objects.get(user__username="inspector").role == "inspector"
        assert Cadre.objects.get(user__username="tc_grid").town.name == "铜城镇"
    # Cadres outside the table cannot sign in with the published password.
    with unscoped():
        other = Cadre.objects.exclude(user__username__in=usernames).select_related("user").first()
    assert not other.user.has_usable_password() and not other.user.check_password(facts.PASSWORD)


def test_the_campaign_leaves_people_to_visit_and_grants_stay_in_their_town(loaded, db):
    with unscoped():
        campaign = Campaign.objects.get(name=facts.CAMPAIGN_NAME)
        assert campaign.towns.count() == 16
        targets = Beneficiary.objects.filter(status="active", categories__in=campaign.target_categories.all()).distinct()
        visited = targets.filter(visits__campaign=campaign).distinct().count()
        assert 0.6 * targets.count() < visited < targets.count()
        assert not Disbursement.objects.exclude(handed_by__town=F("town")).exists()
        assert (
            Disbursement.objects.filter(status="voided").exclude(void_reason="").count()
            == Disbursement.objects.filter(status="voided").count()
        )
        assert Visit.objects.filter(bp_systolic__isnull=False).exists()
        assert FollowUp.objects.values("status").distinct().count() >= 4


def test_loading_writes_one_audit_record_and_the_chain_verifies(loaded, db):
    with unscoped():
        # The load (the first two tell the money tables' capture trigger that the bulk inserts are the
        # load's: object '*'), last week's draft bulletin, then the inspection run load_demo starts so
        # the flags are there for a new user.
        records = list(AuditRecord.objects.order_by("id").values_list("action", "object_id"))
        assert [action for action, _ in records] == [
            "demo.load",
            "demo.load",
            "demo.load",
            "bulletin.draft",
            "inspection.run",
        ]
        assert [obj for action, obj in records if action == "demo.load"] == ["*", "*", ""]
    assert verify_chain().ok


def test_a_second_run_changes_nothing(loaded, db):
    before = _row_counts()
    out = StringIO()
    call_command("load_demo", "--scale", "tiny", stdout=out)
    assert "演示数据已加载" in out.getvalue()
    assert _row_counts() == before
    with pytest.raises(load.DemoAlreadyLoaded):
        load.build("tiny")


def test_two_fresh_loads_give_the_same_data(loaded):
    assert loaded.first_fingerprint == loaded.second_fingerprint


def test_refuses_a_database_that_already_has_towns(loaded):
    assert "已有镇（街道）数据" in loaded.refusal


def test_the_command_prints_the_login_table_and_refuses_reset_on_postgresql(loaded, db):
    for text in ("Demo@2024nx", "ys_grid", "tc_admin", "county", "inspector", "sysadmin", "完成"):
        assert text in loaded.output
    with pytest.raises(CommandError, match="SQLite"):
        call_command("load_demo", "--reset", stdout=StringIO())


def test_each_towns_stock_is_what_it_received_less_what_it_handed_out(loaded, db):
    from django.db.models import Sum

    from funds.models import GoodsStock, StockMovement

    with unscoped():
        moved = {}
        for row in StockMovement.objects.values("town_id", "goods_item_id", "kind").annotate(n=Sum("quantity")):
            moved[(row["town_id"], row["goods_item_id"], row["kind"])] = row["n"]
        stock = list(GoodsStock.objects.values_list("town_id", "goods_item_id", "quantity"))
        goods_grants = Disbursement.objects.filter(kind="goods", status="issued").count()
        assert StockMovement.objects.filter(kind="out", disbursement__isnull=False).count() == goods_grants > 0
    assert len(stock) == 16 * 4
    for town_id, item_id, quantity in stock:
        received = moved.get((town_id, item_id, "in"), 0)
        out = moved.get((town_id, item_id, "out"), 0)
        assert quantity == received - out and quantity > 0
