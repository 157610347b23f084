import uuid
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.models import AuditRecord
from funds import services as fund_services
from funds.models import Disbursement
from tests.cast import at
from visits import services
from visits.models import FollowUp, Visit


@pytest.fixture
def jan10():
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


def log(cast, **overrides):
    kwargs = {
        "actor": cast.yeshan.grid_worker,
        "beneficiary": cast.yeshan.person,
        "visited_at": at(2024, 1, 9, 10),
        "idempotency_key": uuid.uuid4(),
        "campaign": cast.campaign,
        "bp_systolic": 138,
        "bp_diastolic": 86,
        "notes": "身体尚可，家中取暖不足",
    }
    kwargs.update(overrides)
    return services.visit_create(**kwargs)


def test_a_grid_worker_logs_a_visit_to_a_person_in_their_cell(cast, jan10):
    visit, created = log(cast)
    assert created
    assert visit.town == cast.yeshan.town and visit.cell == cast.yeshan.cell
    assert list(visit.visitors.all()) == [cast.yeshan.grid_worker.cadre]
    assert AuditRecord.objects.filter(action="visit.create", object_id=str(visit.pk)).count() == 1


def test_the_same_idempotency_key_answers_with_the_first_visit(cast, jan10):
    key = uuid.uuid4()
    first, created = log(cast, idempotency_key=key)
    again, created_again = log(cast, idempotency_key=key, notes="重复提交")
    assert created and not created_again
    assert again.pk == first.pk
    assert Visit.objects.count() == 1
    assert AuditRecord.objects.filter(action="visit.create").count() == 1


def test_a_replayed_key_from_another_town_reveals_nothing(cast, jan10):
    key = uuid.uuid4()
    log(cast, idempotency_key=key)
    with pytest.raises(ValidationError) as error:
        log(cast, actor=cast.tongcheng.grid_worker, beneficiary=cast.tongcheng.person, idempotency_key=key)
    assert "已提交过" in error.value.messages[0]


def test_a_person_outside_the_grid_workers_cells_is_refused(cast, jan10):
    with pytest.raises(ValidationError) as error:
        log(cast, beneficiary=cast.yeshan.person_other_cell)
    assert error.value.message_dict["beneficiary"] == ["慰问对象不存在或不在您的管辖范围内"]


def test_future_visits_and_visits_before_registration_are_refused(cast, jan10):
    with pytest.raises(ValidationError) as error:
        log(cast, visited_at=at(2024, 1, 11, 9))
    assert error.value.message_dict["visited_at"] == ["走访时间不能晚于现在"]
    with pytest.raises(ValidationError) as error:
        log(cast, visited_at=at(2023, 5, 1, 9), campaign=None)
    assert "建档日期" in error.value.message_dict["visited_at"][0]


def test_implausible_blood_pressure_is_refused_by_service_and_database(cast, jan10):
    with pytest.raises(ValidationError) as error:
        log(cast, bp_systolic=300, bp_diastolic=90)
    assert error.value.message_dict["bp_systolic"] == ["收缩压应在60–260之间"]
    with pytest.raises(ValidationError) as error:
        log(cast, bp_systolic=120, bp_diastolic=None)
    assert "同时填写" in error.value.message_dict["bp_systolic"][0]
    visit, _ = log(cast)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.filter(pk=visit.pk).update(bp_systolic=80, bp_diastolic=120)


def test_a_deceased_person_cannot_be_visited(cast, jan10):
    from towns.services import beneficiary_change_status

    beneficiary_change_status(
        actor=cast.yeshan.admin,
        beneficiary=cast.yeshan.person,
        to_status="deceased",
        effective_on=date(2024, 1, 2),
        reason="病故",
    )
    with pytest.raises(ValidationError) as error:
        log(cast)
    assert "已故" in error.value.message_dict["beneficiary"][0]


def test_a_demand_heard_on_a_visit_becomes_a_followup(cast, jan10):
    visit, _ = log(cast)
    item = services.followup_create(
        actor=cast.yeshan.grid_worker,
        kind="demand",
        title="冬季取暖困难，需要电热毯",
        beneficiary=cast.yeshan.person,
        visit=visit,
        deadline=date(2024, 1, 20),
    )
    assert item.status == FollowUp.Status.PENDING and item.campaign == cast.campaign
    assert [e.note for e in item.events.all()] == ["登记"]


def test_grant_is_recorded_once_and_voided_with_a_reason(cast, jan10):
    key = uuid.uuid4()
    grant, created = fund_services.disbursement_create(
        actor=cast.yeshan.grid_worker,
        beneficiary=cast.yeshan.person,
        kind="cash",
        amount=Decimal("300.00"),
        handed_at=at(2024, 1, 9, 10, 30),
        idempotency_key=key,
        campaign=cast.campaign,
    )
    _, created_again = fund_services.disbursement_create(
        actor=cast.yeshan.grid_worker,
        beneficiary=cast.yeshan.person,
        kind="cash",
        amount=Decimal("300.00"),
        handed_at=at(2024, 1, 9, 10, 30),
        idempotency_key=key,
    )
    assert created and not created_again and Disbursement.objects.count() == 1
    with pytest.raises(ValidationError) as error:
        fund_services.disbursement_void(actor=cast.yeshan.cadre, disbursement=grant, reason="")
    assert error.value.message_dict["reason"] == ["作废须填写原因"]
    fund_services.disbursement_void(actor=cast.yeshan.cadre, disbursement=grant, reason="金额录入错误，应为500元")
    grant.refresh_from_db()
    assert grant.status == "voided" and grant.voided_by == cast.yeshan.cadre.cadre
    record = AuditRecord.objects.get(action="disbursement.void")
    assert record.reason == "金额录入错误，应为500元" and record.before["status"] == "issued"


def test_cash_grant_needs_a_positive_amount_with_at_most_two_decimals(cast, jan10):
    for amount, message in ((Decimal("0"), "请填写大于0的金额"), (Decimal("12.345"), "金额最多保留两位小数")):
        with pytest.raises(ValidationError) as error:
            fund_services.disbursement_create(
                actor=cast.yeshan.grid_worker,
                beneficiary=cast.yeshan.person,
                kind="cash",
                amount=amount,
                handed_at=at(2024, 1, 9),
                idempotency_key=uuid.uuid4(),
            )
        assert error.value.message_dict["amount"] == [message]


def test_budget_change_needs_a_reason(cast):
    budget = fund_services.budget_set(
        actor=cast.yeshan.admin, campaign=cast.campaign, town=cast.yeshan.town, source="party_fees", amount=Decimal("20000")
    )
    with pytest.raises(ValidationError):
        fund_services.budget_set(
            actor=cast.yeshan.admin, campaign=cast.campaign, town=cast.yeshan.town, source="party_fees", amount=Decimal("25000")
        )
    fund_services.budget_set(
        actor=cast.yeshan.admin,
        campaign=cast.campaign,
        town=cast.yeshan.town,
        source="party_fees",
        amount=Decimal("25000"),
        reason="追加党费",
    )
    budget.refresh_from_db()
    assert budget.amount == Decimal("25000.00")
    with pytest.raises(ValidationError) as error:
        fund_services.budget_set(
            actor=cast.yeshan.admin, campaign=cast.campaign, town=cast.tongcheng.town, source="party_fees", amount=Decimal("1")
        )
    assert "town" in error.value.message_dict
