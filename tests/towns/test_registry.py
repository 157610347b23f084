from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from core import idnumbers
from core.models import AuditRecord
from core.scoping import unscoped
from tests.cast import CANARY_ID
from towns import services
from towns.models import Beneficiary, GridCell

NEW_ID = idnumbers.make_number("341181", date(1945, 4, 9), 151)  # male


def create(cast, actor=None, **overrides):
    kwargs = {
        "actor": actor or cast.yeshan.cadre,
        "household": cast.yeshan.household,
        "name": "王有福",
        "id_number": NEW_ID,
        "categories": [cast.categories["elderly_alone"]],
        "phone": "13955501111",
        "registered_on": date(2023, 6, 1),
    }
    kwargs.update(overrides)
    return services.beneficiary_create(**kwargs)


def test_small_cell_without_big_parent_is_refused_by_the_database(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        GridCell.objects.create(town=cast.yeshan.town, level="small", code="X-1", name="孤立小网格")


def test_small_cell_without_big_parent_is_refused_by_the_service_in_chinese(cast):
    with pytest.raises(ValidationError) as error:
        services.gridcell_create(actor=cast.yeshan.admin, town=cast.yeshan.town, level="small", code="X-1", name="孤立小网格")
    assert error.value.message_dict["parent"] == ["小网格必须属于一个大网格"]


def test_small_cell_parent_must_be_a_big_cell_of_the_same_town(cast):
    with pytest.raises(ValidationError) as error:
        services.gridcell_create(
            actor=cast.sysadmin, town=cast.yeshan.town, level="small", code="X-2", name="跨镇小网格", parent=cast.tongcheng.big
        )
    assert "上级网格必须是本镇的大网格" in error.value.message_dict["parent"]


def test_wrong_check_digit_is_refused(cast):
    wrong = NEW_ID[:17] + ("0" if NEW_ID[17] != "0" else "1")
    with pytest.raises(ValidationError) as error:
        create(cast, id_number=wrong)
    assert "校验位不正确" in error.value.message_dict["id_number"][0]


def test_birth_date_and_gender_must_agree_with_the_id(cast):
    with pytest.raises(ValidationError) as error:
        create(cast, birth_date=date(1945, 4, 10), gender="F")
    assert "出生日期与身份证号不一致" in error.value.message_dict["birth_date"][0]
    assert "性别与身份证号不一致" in error.value.message_dict["gender"][0]


def test_registered_person_is_stored_encrypted_masked_and_audited(cast):
    person = create(cast)
    assert person.id_number_masked == NEW_ID[:6] + "**********" + NEW_ID[-2:]
    assert NEW_ID not in person.id_number_encrypted
    assert person.gender == "M" and person.birth_date == date(1945, 4, 9)
    assert person.name_initials == "wyf"
    record = AuditRecord.objects.get(action="beneficiary.create", object_id=str(person.pk))
    assert record.actor_role == "town_cadre" and record.actor_town == "冶山镇"
    assert NEW_ID not in record.payload  # the audit trail holds the masked number only


def test_duplicate_living_id_in_the_same_town_points_to_the_person(cast):
    first = create(cast)
    with pytest.raises(services.DuplicateBeneficiary) as error:
        create(cast, name="王有福", household=cast.yeshan.household)
    assert error.value.existing_id == first.pk
    assert "可能是同一人" in error.value.message_dict["id_number"][0]


def test_duplicate_in_another_town_names_no_town_and_is_audited(cast):
    with pytest.raises(ValidationError) as error:
        create(cast, id_number=CANARY_ID)
    assert not isinstance(error.value, services.DuplicateBeneficiary)
    record = AuditRecord.objects.get(action="id_check.elsewhere")
    assert record.actor_id == cast.yeshan.cadre.pk and record.after["digest"] == idnumbers.digest(CANARY_ID)
    assert error.value.message_dict["id_number"] == ["该身份证号已在其他镇（街道）登记，请联系县级管理员核实"]


def test_duplicate_living_id_is_refused_by_the_database_too(cast):
    person = cast.yeshan.person
    with pytest.raises(IntegrityError), transaction.atomic(), unscoped():
        clone = Beneficiary.objects.get(pk=person.pk)
        clone.pk = None
        clone.save()


def test_a_moved_persons_number_may_be_registered_again(cast):
    person = create(cast)
    services.beneficiary_change_status(
        actor=cast.yeshan.admin, beneficiary=person, to_status="moved", effective_on=date(2024, 1, 2), reason="随子女迁居南京"
    )
    again = create(cast, household=cast.yeshan.household)
    assert again.pk != person.pk
    with pytest.raises(services.DuplicateBeneficiary):
        services.beneficiary_change_status(
            actor=cast.yeshan.admin, beneficiary=person, to_status="active", effective_on=date(2024, 2, 1), reason="返乡"
        )


def test_status_change_needs_a_reason_and_keeps_history(cast):
    person = cast.yeshan.person
    with pytest.raises(ValidationError) as error:
        services.beneficiary_change_status(
            actor=cast.yeshan.admin, beneficiary=person, to_status="deceased", effective_on=date(2024, 1, 5), reason=" "
        )
    assert error.value.message_dict["reason"] == ["请填写变更原因"]
    services.beneficiary_change_status(
        actor=cast.yeshan.admin, beneficiary=person, to_status="deceased", effective_on=date(2024, 1, 5), reason="病故"
    )
    person.refresh_from_db()
    assert person.status == "deceased" and person.status_since == date(2024, 1, 5)
    assert [(c.from_status, c.to_status, c.reason) for c in person.status_changes.all()] == [("active", "deceased", "病故")]
    record = AuditRecord.objects.get(action="beneficiary.status", object_id=str(person.pk))
    assert record.reason == "病故" and record.before["status"] == "active"


def test_grid_worker_cannot_change_status(cast):
    with pytest.raises(PermissionDenied):
        services.beneficiary_change_status(
            actor=cast.yeshan.grid_worker,
            beneficiary=cast.yeshan.person,
            to_status="deceased",
            effective_on=date(2024, 1, 5),
            reason="病故",
        )


def test_another_towns_household_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        create(cast, household=cast.tongcheng.household)
    assert error.value.message_dict["household"] == ["户不存在或不在您的管辖范围内"]


def test_inspector_cannot_write(cast):
    with pytest.raises(PermissionDenied):
        create(cast, actor=cast.inspector)


def test_update_records_before_and_after(cast):
    person = cast.yeshan.person
    services.beneficiary_update(actor=cast.yeshan.cadre, beneficiary=person, phone="0550-7021234", notes="耳背，敲门声要大")
    record = AuditRecord.objects.get(action="beneficiary.update")
    assert record.before["phone"] == "13855501234" and record.after["phone"] == "0550-7021234"
