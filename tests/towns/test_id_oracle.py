"""Issue 13 §1: the mask of an ID number cannot be undone by asking the system.

A town cadre (who may not reveal ID numbers) sees 李桂英's masked number and birth date. About ten
numbers fit them. Whatever the roster import, the new-person form, the registry search or the
batch paste answer for one of them, they answer alike for all of them.
"""

import re
from datetime import date

import pytest
from django.urls import reverse

from core import idnumbers
from core.models import AuditRecord
from core.scoping import unscoped
from tests.cast import CANARY_ID, make_person
from tests.towns.roster_files import confirm, latest_import, row, upload, xlsx
from towns import idchecks
from towns.models import Beneficiary


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def candidates(person) -> list[str]:
    """Every valid number with the person's masked form and birth date: what a masked reader can list."""
    real = idnumbers.decrypt(person.id_number_encrypted)
    found = []
    for sequence in range(1000):
        number = idnumbers.make_number(real[:6], person.birth_date, sequence)
        if idnumbers.mask(number) == person.id_number_masked:
            found.append(number)
    assert real in found
    return found


def preview(client, rows, capture) -> tuple:
    """What the uploader is told: counts and every error (row, column, value, message)."""
    upload(client, xlsx(rows), capture=capture)
    done = latest_import()
    errors = tuple((e["row"], e["column"], e["value"], e["message"]) for e in done.errors)
    return (done.status, done.to_create, done.to_update, done.unchanged, errors)


@pytest.fixture
def ys(cast):
    return cast.yeshan


def test_one_row_per_upload_tells_no_candidate_apart(client, cast, ys, django_capture_on_commit_callbacks):
    client.force_login(ys.cadre)
    person = ys.person
    numbers = candidates(person)
    assert len(numbers) >= 8  # "about 9 candidates"
    address = person.household.address
    for variant in (
        {"phone": "13900001111", "name": person.name},  # disagrees with the record (phone)
        {"phone": "", "name": person.name},  # agrees with what the user can see
        {"phone": "", "name": "某某"},  # a wrong name (refused alike: never taken for a rename)
    ):
        answers = {
            number: preview(
                client,
                [row(variant["name"], number, phone=variant["phone"], address=address)],
                django_capture_on_commit_callbacks,
            )
            for number in numbers
        }
        assert len(set(answers.values())) == 1, answers
    # Nothing was written, and the probes are on record for the inspectors.
    with unscoped():
        assert Beneficiary.objects.filter(name="某某").count() == 0
        assert Beneficiary.objects.get(pk=person.pk).phone == person.phone


def test_nine_candidates_in_one_file_read_the_same_whichever_is_real(client, cast, ys, django_capture_on_commit_callbacks):
    client.force_login(ys.cadre)
    person = ys.person
    numbers = candidates(person)
    real = idnumbers.decrypt(person.id_number_encrypted)
    fakes = [n for n in numbers if n != real]
    address = person.household.address
    real_first = preview(
        client, [row(person.name, n, address=address) for n in [real, *fakes]], django_capture_on_commit_callbacks
    )
    real_last = preview(
        client, [row(person.name, n, address=address) for n in [*fakes, real]], django_capture_on_commit_callbacks
    )
    assert real_first == real_last
    status, to_create, to_update, unchanged, errors = real_first
    assert (to_create, to_update, unchanged) == (0, 0, 1)
    assert all("同一名在册人员" in message for _, _, _, message in errors)


def test_reimporting_the_towns_roster_still_updates_phone_and_address(client, cast, ys, django_capture_on_commit_callbacks):
    client.force_login(ys.cadre)
    person = ys.person
    real = idnumbers.decrypt(person.id_number_encrypted)
    other = ys.person_other_cell
    rows = [
        row(person.name, real, phone="13911112222", address="冶山镇长兴社区新村路9号"),
        row(
            other.name,
            idnumbers.decrypt(other.id_number_encrypted),
            phone="13933334444",
            cell="长兴社区2号小网格",
            address=other.household.address,
        ),
    ]
    assert preview(client, rows, django_capture_on_commit_callbacks)[:4] == ("ready", 0, 2, 0)
    confirm(client, latest_import(), capture=django_capture_on_commit_callbacks)
    with unscoped():
        person.refresh_from_db()
        other.refresh_from_db()
        assert person.phone == "13911112222" and person.household.address == "冶山镇长兴社区新村路9号"
        assert other.phone == "13933334444"
        assert idnumbers.decrypt(person.id_number_encrypted) == real  # the number on record never changes by import


def test_a_file_of_wrong_numbers_for_known_people_is_recorded_as_a_probe(
    client, cast, ys, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    third = make_person(ys.household, name="王德兵", id_number=idnumbers.make_number("341181", date(1948, 5, 6), 151))
    client.force_login(ys.cadre)
    rows = []
    for person in (ys.person, ys.person_other_cell, third):
        real = idnumbers.decrypt(person.id_number_encrypted)
        wrong = next(n for n in candidates(person) if n != real)
        rows.append(row(person.name, wrong, cell=person.cell.name, address=person.household.address))
    status, to_create, to_update, unchanged, errors = preview(client, rows, django_capture_on_commit_callbacks)
    assert (to_create, errors) == (0, ())  # told nothing about the numbers
    record = AuditRecord.objects.get(action=idchecks.ACTION_MISMATCH)
    assert record.after["probe"] is True and record.after["mismatched"] == 3
    for person in (ys.person, ys.person_other_cell, third):
        assert idnumbers.decrypt(person.id_number_encrypted) not in record.payload
    # The inspectors' page shows the cadre as one to look at.
    client.force_login(cast.inspector)
    client.get(reverse("towns:id_checks"))
    with django_assert_max_num_queries(8):
        page = client.get(reverse("towns:id_checks"))
    assert page.status_code == 200
    flagged = [r for r in page.context["by_user"] if r["actor_id"] == ys.cadre.pk]
    assert flagged and flagged[0]["flagged"] and flagged[0]["probes"] == 1


def test_a_town_admin_who_may_reveal_numbers_matches_by_the_whole_number(client, cast, ys, django_capture_on_commit_callbacks):
    client.force_login(ys.admin)
    person = ys.person
    real = idnumbers.decrypt(person.id_number_encrypted)
    fake = next(n for n in candidates(person) if n != real)
    address = person.household.address
    assert preview(client, [row(person.name, real, address=address)], django_capture_on_commit_callbacks)[1:4] == (0, 0, 1)
    assert preview(client, [row(person.name, fake, address=address)], django_capture_on_commit_callbacks)[1:4] == (1, 0, 0)


# --- cross-town: "registered elsewhere", rate-limited, audited ---------------------------------


def test_cross_town_number_in_the_import_names_no_town_and_is_audited(client, cast, ys, django_capture_on_commit_callbacks):
    client.force_login(ys.cadre)
    status, to_create, to_update, unchanged, errors = preview(
        client, [row("某人", CANARY_ID)], django_capture_on_commit_callbacks
    )
    assert [e[3] for e in errors] == [idchecks.ELSEWHERE]
    assert not any("铜城" in str(e) for e in errors)
    record = AuditRecord.objects.get(action=idchecks.ACTION_ELSEWHERE)
    assert record.actor_id == ys.cadre.pk and record.after == {"digest": idnumbers.digest(CANARY_ID), "where": "roster_import"}
    assert CANARY_ID not in record.payload


def test_cross_town_answers_are_limited_per_user_and_then_nothing_new_is_told(
    client, cast, ys, settings, django_capture_on_commit_callbacks
):
    settings.ID_CHECK_DAILY_LIMIT = 2
    tc = cast.tongcheng
    others = [idnumbers.make_number("341181", date(1944, 4, 4), s) for s in (301, 303, 305)]
    for n, number in enumerate(others):
        make_person(tc.household, name=f"外镇{n}", id_number=number)
    unknown = idnumbers.make_number("341181", date(1955, 5, 5), 401)
    client.force_login(ys.cadre)
    rows = [row("甲", others[0]), row("乙", others[1]), row("丙", others[2]), row("丁", unknown)]
    errors = preview(client, rows, django_capture_on_commit_callbacks)[4]
    messages = [e[3] for e in errors]
    assert messages == [idchecks.ELSEWHERE, idchecks.ELSEWHERE, idchecks.LIMITED, idchecks.LIMITED]
    # The next day's quota is not this day's; a new file today is refused alike for any new number.
    again = preview(
        client, [row("戊", idnumbers.make_number("341181", date(1956, 6, 6), 403))], django_capture_on_commit_callbacks
    )
    assert [e[3] for e in again[4]] == [idchecks.LIMITED]
    assert AuditRecord.objects.filter(action=idchecks.ACTION_ELSEWHERE).count() == 2
    assert AuditRecord.objects.filter(action=idchecks.ACTION_LIMITED).count() == 1


# --- the new-person form and the other places a number is typed --------------------------------


def test_new_person_form_answers_alike_for_every_candidate(client, cast, ys):
    client.force_login(ys.cadre)
    url = reverse("towns:person_create", kwargs={"household": ys.household.pk})
    category = cast.categories["elderly_alone"].pk
    pages = set()
    for number in candidates(ys.person):
        response = client.post(url, {"name": "李桂英", "id_number": number, "categories": [category]})
        assert response.status_code == 200
        page = response.content.decode()
        start = page.index("<main")
        pages.add(re.sub(r'(csrfmiddlewaretoken" value=")[^"]+', r"\1", page[start:]).replace(number, "NUMBER"))
    assert len(pages) == 1
    assert "可能是同一人" in pages.pop()
    with unscoped():
        assert Beneficiary.objects.filter(name="李桂英").count() == 1


def test_new_person_form_cross_town_probe(client, cast, ys):
    client.force_login(ys.cadre)
    url = reverse("towns:person_create", kwargs={"household": ys.household.pk})
    page = client.post(
        url, {"name": "某人", "id_number": CANARY_ID, "categories": [cast.categories["elderly_alone"].pk]}
    ).content.decode()
    assert idchecks.ELSEWHERE in page and "铜城镇" not in page[page.index("<main") :]
    record = AuditRecord.objects.get(action=idchecks.ACTION_ELSEWHERE)
    assert record.after == {"digest": idnumbers.digest(CANARY_ID), "where": "person_form"}


def test_registry_search_answers_alike_for_every_candidate(client, cast, ys):
    client.force_login(ys.cadre)
    found = set()
    for number in candidates(ys.person):
        response = client.post(reverse("registry:person_list"), {"q": number}, follow=True)
        found.add(tuple(p.pk for p in response.context["page"]))
        assert number not in response.redirect_chain[-1][0]
        assert "按完整身份证号查找的结果" in response.content.decode()
    assert found == {(ys.person.pk,)}


def test_a_new_person_sharing_a_mask_and_birthday_never_overwrites_someone(client, cast, ys, django_capture_on_commit_callbacks):
    """Two people of a town now and then share masked number and birth date: a cadre's roster row
    for the newcomer is refused (a town admin imports it), never applied to the person on record."""
    person = ys.person
    real = idnumbers.decrypt(person.id_number_encrypted)
    newcomer = next(n for n in candidates(person) if n != real)
    client.force_login(ys.cadre)
    status, to_create, to_update, unchanged, errors = preview(
        client, [row("张新来", newcomer, address="冶山镇长兴社区新村路3号")], django_capture_on_commit_callbacks
    )
    assert (to_create, to_update) == (0, 0)
    assert "姓名不同" in errors[0][3] and "镇管理员" in errors[0][3]
    client.force_login(ys.admin)
    status, to_create, to_update, unchanged, errors = preview(
        client, [row("张新来", newcomer, address="冶山镇长兴社区新村路3号")], django_capture_on_commit_callbacks
    )
    assert (status, to_create, errors) == ("ready", 1, ())
    confirm(client, latest_import(), capture=django_capture_on_commit_callbacks)
    with unscoped():
        assert Beneficiary.objects.get(pk=person.pk).name == person.name
        assert Beneficiary.objects.filter(name="张新来", id_number_masked=person.id_number_masked).count() == 1
