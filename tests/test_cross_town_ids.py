"""Posting another town's ids into any field a service takes is refused, and nothing is written."""

import uuid
from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from core.models import AuditRecord
from funds import services as fund_services
from tests.cast import at
from towns import services as town_services
from visits import services as visit_services
from visits.models import Campaign


@pytest.fixture
def tongcheng_only_campaign(cast):
    campaign = Campaign.objects.create(name="铜城镇专项慰问", starts_on=date(2024, 1, 1), ends_on=date(2024, 1, 31))
    campaign.towns.set([cast.tongcheng.town])
    return campaign


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda c, k: town_services.household_create(actor=c.yeshan.cadre, cell=c.tongcheng.cell, address="x", head_name="x"),
            "cell",
        ),
        (
            lambda c, k: town_services.assignment_create(
                actor=c.yeshan.admin, cadre=c.tongcheng.grid_worker.cadre, cell=c.yeshan.cell
            ),
            "cadre",
        ),
        (
            lambda c, k: town_services.beneficiary_update(
                actor=c.yeshan.cadre, beneficiary=c.yeshan.person, responsible_cadre=c.tongcheng.cadre.cadre
            ),
            "responsible_cadre",
        ),
        (
            lambda c, k: visit_services.visit_create(
                actor=c.yeshan.cadre, beneficiary=c.tongcheng.person, visited_at=at(2024, 1, 9), idempotency_key=uuid.uuid4()
            ),
            "beneficiary",
        ),
        (
            lambda c, k: visit_services.visit_create(
                actor=c.yeshan.cadre,
                beneficiary=c.yeshan.person,
                visited_at=at(2024, 1, 9),
                idempotency_key=uuid.uuid4(),
                campaign=k,
            ),
            "campaign",
        ),
        (
            lambda c, k: visit_services.visit_create(
                actor=c.yeshan.cadre,
                beneficiary=c.yeshan.person,
                visited_at=at(2024, 1, 9),
                idempotency_key=uuid.uuid4(),
                visitors=[c.tongcheng.cadre.cadre],
            ),
            "visitors",
        ),
        (
            lambda c, k: visit_services.followup_create(
                actor=c.yeshan.cadre, kind="demand", title="x", beneficiary=c.yeshan.person, owner=c.tongcheng.cadre.cadre
            ),
            "owner",
        ),
        (
            lambda c, k: fund_services.disbursement_create(
                actor=c.yeshan.cadre,
                beneficiary=c.yeshan.person,
                kind="cash",
                amount=100,
                handed_at=at(2024, 1, 9),
                idempotency_key=uuid.uuid4(),
                handed_by=c.tongcheng.cadre.cadre,
            ),
            "handed_by",
        ),
        (
            lambda c, k: fund_services.budget_set(actor=c.yeshan.admin, campaign=k, town=c.yeshan.town, source="other", amount=1),
            "campaign",
        ),
        (
            lambda c, k: town_services.password_reset(
                actor=c.yeshan.admin, cadre=c.tongcheng.cadre.cadre, new_password="Whatever-2024!"
            ),
            "cadre",
        ),
    ],
)
def test_other_towns_ids_are_refused(cast, tongcheng_only_campaign, call, field):
    audit_count = AuditRecord.objects.count()
    with time_machine.travel(at(2024, 1, 10), tick=False), pytest.raises(ValidationError) as error:
        call(cast, tongcheng_only_campaign)
    assert field in error.value.message_dict
    assert "不在您的管辖范围内" in error.value.message_dict[field][0]
    assert AuditRecord.objects.count() == audit_count
