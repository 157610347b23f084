"""Inspection flags (issue 5 §4): each known abuse raises exactly its flag, naming the grants and why; a clean
campaign raises none; runs are idempotent and fixed problems clear; declarations and findings (§3, §5)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from core import idnumbers
from core.models import AuditRecord, OutboxEvent
from core.scoping import unscoped
from funds import services
from funds.inspection import run_inspection
from funds.models import ConflictDeclaration, DeclaredRelative, Disbursement, Finding, InspectionFlag
from tests.cast import at
from tests.dbroles import past_the_triggers
from tests.funds.inspection_objects import NOW, budget, clean_budgets, gift, grant, person, receipt
from towns.models import BeneficiaryStatusChange, Category

pytestmark = pytest.mark.django_db
Rule = InspectionFlag.Rule


def flags() -> list[InspectionFlag]:
    with unscoped():
        return list(InspectionFlag.objects.prefetch_related("disbursements").order_by("rule", "id"))


def raised() -> dict:
    """{rule: [flag, ...]} of the open flags."""
    out: dict = {}
    for flag in flags():
        if flag.status == InspectionFlag.Status.OPEN:
            out.setdefault(flag.rule, []).append(flag)
    return out


def grants_of(flag) -> set[int]:
    return {d.pk for d in flag.disbursements.all()}


@pytest.fixture
def clean(cast):
    """A campaign done right: budgets in place, every grant visited, signed for, on time, within the standard."""
    clean_budgets(cast)
    grants = [
        grant(cast, cast.yeshan, cast.yeshan.person),
        grant(cast, cast.yeshan, cast.yeshan.person_other_cell, by=cast.yeshan.cadre),
        grant(cast, cast.tongcheng, cast.tongcheng.person),
    ]
    return cast, grants


def test_a_clean_campaign_raises_no_flag(clean):
    counts = run_inspection(now=NOW)
    assert counts["open"] == 0, flags()
    assert flags() == []
    assert set(counts["by_rule"]) == set(Rule.values)


def test_paid_twice_in_one_campaign(clean):
    cast, (first, *_) = clean
    second = grant(cast, cast.yeshan, cast.yeshan.person, handed_at=at(2024, 1, 15), by=cast.yeshan.cadre)
    run_inspection(now=NOW)
    found = raised()
    assert set(found) == {Rule.DUPLICATE, Rule.ABOVE_STANDARD}  # ¥600 against a ¥300 standard is both
    (flag,) = found[Rule.DUPLICATE]
    assert grants_of(flag) == {first.pk, second.pk}
    assert "李桂英" in flag.summary and "领取慰问金2次" in flag.summary
    assert flag.beneficiary_id == cast.yeshan.person.pk and flag.campaign_id == cast.campaign.pk


def test_paid_in_two_towns_under_two_registrations(clean):
    cast, (first, *_) = clean
    # The same ID number registered in 铜城镇 too (moved away since, so the one-active-registration rule holds).
    number = idnumbers.decrypt(cast.yeshan.person.id_number_encrypted)
    ys_person = type(cast.yeshan.person).objects
    with unscoped():
        from tests.cast import make_person

        # One active registration per ID number: the 铜城镇 one is written while 冶山镇's is set aside, then moved away.
        ys_person.filter(pk=cast.yeshan.person.pk).update(status="moved")
        other = make_person(
            cast.tongcheng.household, name="李桂英", id_number=number, categories=[cast.categories["elderly_alone"]]
        )
        ys_person.filter(pk=other.pk).update(status="moved", status_since=date(2024, 2, 1))
        ys_person.filter(pk=cast.yeshan.person.pk).update(status="active")
        BeneficiaryStatusChange.objects.create(
            beneficiary=other, from_status="active", to_status="moved", effective_on=date(2024, 2, 1), reason="迁居冶山镇"
        )
    second = grant(cast, cast.tongcheng, other, handed_at=at(2024, 1, 10), amount="200.00")
    run_inspection(now=NOW)
    (flag,) = raised()[Rule.DUPLICATE]
    assert grants_of(flag) == {first.pk, second.pk}
    assert "在2个镇（街道）的登记下都领取了" in flag.summary and "冶山镇" in flag.summary and "铜城镇" in flag.summary


def test_above_the_standard_counts_goods_at_their_value(clean):
    cast, (first, *_) = clean
    goods = grant(cast, cast.yeshan, cast.yeshan.person, kind="goods", goods=gift("100.00"), quantity=1)
    run_inspection(now=NOW)
    found = raised()
    assert set(found) == {Rule.ABOVE_STANDARD}
    (flag,) = found[Rule.ABOVE_STANDARD]
    assert grants_of(flag) == {first.pk, goods.pk}
    assert "共领取¥400.00" in flag.summary and "¥300.00" in flag.summary
    assert flag.details["values"]["慰问标准（元）"] == "300.00"


def test_a_relative_declared_by_the_cadre_who_handed_it(clean):
    cast, (first, *_) = clean
    number = idnumbers.decrypt(cast.yeshan.person.id_number_encrypted)
    services.declaration_submit(
        actor=cast.yeshan.grid_worker,
        relatives=[{"name": "李桂英", "relation": "父母", "id_number": number}],
        nothing_to_declare=False,
    )
    run_inspection(now=NOW)
    found = raised()
    assert set(found) == {Rule.RELATIVE}
    (flag,) = found[Rule.RELATIVE]
    assert grants_of(flag) == {first.pk}
    assert "发放人冶山镇网格员" in flag.summary and "申报的父母李桂英" in flag.summary


def test_a_relatives_household_counts_too(clean):
    cast, (first, *_) = clean
    spouse = person(cast.yeshan, "王德海", categories=[])  # lives in 李桂英's household, declared by the grid worker
    services.declaration_submit(
        actor=cast.yeshan.grid_worker,
        relatives=[{"name": "王德海", "relation": "配偶父母", "id_number": idnumbers.decrypt(spouse.id_number_encrypted)}],
        nothing_to_declare=False,
    )
    run_inspection(now=NOW)
    (flag,) = raised()[Rule.RELATIVE]
    assert grants_of(flag) == {first.pk}
    assert "与其申报的配偶父母王德海同户" in flag.summary


def test_a_relative_of_another_cadre_is_not_flagged(clean):
    cast, _ = clean
    number = idnumbers.decrypt(cast.yeshan.person.id_number_encrypted)
    services.declaration_submit(
        actor=cast.yeshan.admin, relatives=[{"name": "李桂英", "relation": "父母", "id_number": number}], nothing_to_declare=False
    )
    run_inspection(now=NOW)
    assert Rule.RELATIVE not in raised()


def test_not_targeted_and_dead_on_the_day(clean):
    cast, _ = clean
    with unscoped():
        age60 = Category.objects.create(code="age60", name="60岁以上", visit_interval_days=90)
    outsider = person(cast.yeshan, "赵有福", categories=[age60])
    wrong = grant(cast, cast.yeshan, outsider)
    dead = person(cast.yeshan, "钱秀兰", categories=[cast.categories["elderly_alone"]])
    with unscoped():
        type(dead).objects.filter(pk=dead.pk).update(status="deceased", status_since=date(2024, 1, 2))
        BeneficiaryStatusChange.objects.create(
            beneficiary=dead, from_status="active", to_status="deceased", effective_on=date(2024, 1, 2), reason="病故"
        )
    after_death = grant(cast, cast.yeshan, dead, handed_at=at(2024, 1, 9), visit=False)
    run_inspection(now=NOW)
    found = raised()
    assert set(found) == {Rule.NOT_TARGETED, Rule.NO_VISIT}  # nobody visits the dead
    by_grant = {next(iter(grants_of(f))): f for f in found[Rule.NOT_TARGETED]}
    assert set(by_grant) == {wrong.pk, after_death.pk}
    assert "不在该专项活动的慰问对象范围内" in by_grant[wrong.pk].summary
    assert "已登记为“已故”" in by_grant[after_death.pk].summary


def test_no_visit_within_the_window(clean, settings):
    cast, _ = clean
    lonely = grant(cast, cast.yeshan, cast.yeshan.person, kind="transfer", amount="100.00", visit=False, campaign=None)
    run_inspection(now=NOW)
    assert set(raised()) == set()  # the campaign visit a week earlier is within ±30 days
    far = grant(
        cast,
        cast.yeshan,
        cast.yeshan.person,
        kind="transfer",
        amount="100.00",
        visit=False,
        campaign=None,
        handed_at=at(2023, 10, 1),
    )
    run_inspection(now=NOW)
    (flag,) = raised()[Rule.NO_VISIT]
    assert grants_of(flag) == {far.pk} and lonely.pk not in grants_of(flag)
    assert flag.details["thresholds"] == {"INSPECTION_NO_VISIT_DAYS": 30}
    assert "发放前后30天内没有走访记录" in flag.summary


def test_no_receipt_after_fifteen_days_for_cash_and_goods(clean, settings):
    cast, _ = clean
    unsigned = grant(cast, cast.yeshan, cast.yeshan.person_other_cell, with_receipt=False, campaign=None)
    grant(
        cast, cast.yeshan, cast.yeshan.person_other_cell, kind="transfer", amount="50.00", campaign=None
    )  # bank record suffices
    recent = grant(cast, cast.yeshan, cast.yeshan.person, with_receipt=False, campaign=None, handed_at=NOW - timedelta(days=3))
    settings.INSPECTION_RECEIPT_DAYS = 20
    run_inspection(now=NOW)
    (flag,) = raised()[Rule.NO_RECEIPT]
    assert grants_of(flag) == {unsigned.pk} and recent.pk not in grants_of(flag)
    assert flag.details["thresholds"] == {"INSPECTION_RECEIPT_DAYS": 20}
    assert "仍无签领凭证（期限20天" in flag.summary


def test_over_budget_names_the_grants_beyond_it(cast):
    budget(cast, cast.yeshan.town, amount="400.00")
    budget(cast, cast.tongcheng.town, amount="1000.00")
    first = grant(cast, cast.yeshan, cast.yeshan.person, handed_at=at(2024, 1, 5))
    second = grant(cast, cast.yeshan, cast.yeshan.person_other_cell, handed_at=at(2024, 1, 6))
    run_inspection(now=NOW)
    found = raised()
    assert set(found) == {Rule.OVER_BUDGET}
    (flag,) = found[Rule.OVER_BUDGET]
    assert flag.town_id == cast.yeshan.town.pk and grants_of(flag) == {second.pk} and first.pk not in grants_of(flag)
    assert "预算¥400.00" in flag.summary and "超出¥200.00" in flag.summary


def test_late_entry_and_reissue_to_someone_else(clean):
    cast, (first, *_) = clean
    late = grant(cast, cast.yeshan, cast.yeshan.person_other_cell, campaign=None, recorded_at=at(2024, 1, 8) + timedelta(days=10))
    with unscoped(), past_the_triggers():  # a grant voided back then, as fixture
        Disbursement.objects.filter(pk=first.pk).update(
            status="voided", void_reason="对象录入错误", voided_at=at(2024, 1, 9), voided_by=cast.yeshan.admin.cadre
        )
    newcomer = person(cast.yeshan, "吴长松", categories=[cast.categories["elderly_alone"]])
    reissued = grant(cast, cast.yeshan, newcomer, replaces_id=first.pk, handed_at=at(2024, 1, 9, 12))
    run_inspection(now=NOW)
    found = raised()
    assert set(found) == {Rule.LATE_ENTRY}
    by_key = {f.key.split("-")[0]: f for f in found[Rule.LATE_ENTRY]}
    assert grants_of(by_key["entry"]) == {late.pk}
    assert "晚于发放10天（期限7天）" in by_key["entry"].summary
    assert by_key["entry"].details["thresholds"] == {"INSPECTION_LATE_ENTRY_DAYS": 7}
    assert grants_of(by_key["reissue"]) == {first.pk, reissued.pk}
    assert "原发给李桂英" in by_key["reissue"].summary and "改发给吴长松" in by_key["reissue"].summary


def test_bulk_recording_and_one_image_for_two_people(clean, settings):
    cast, _ = clean
    settings.INSPECTION_BULK_COUNT = 3
    settings.INSPECTION_BULK_MINUTES = 5
    people = [person(cast.yeshan, f"测试{i}", categories=[cast.categories["elderly_alone"]]) for i in range(4)]
    start = at(2024, 1, 10, 9)
    batch = [
        grant(
            cast,
            cast.yeshan,
            p,
            handed_at=at(2024, 1, 9),
            recorded_by=cast.yeshan.admin,
            recorded_at=start + timedelta(minutes=i),
        )
        for i, p in enumerate(people)
    ]
    run_inspection(now=NOW)
    (flag,) = raised()[Rule.BULK_SIGNING]
    assert grants_of(flag) == {g.pk for g in batch}
    assert flag.details["thresholds"] == {"INSPECTION_BULK_COUNT": 3, "INSPECTION_BULK_MINUTES": 5}
    assert "冶山镇管理员" in flag.summary and "登记了4笔发放" in flag.summary
    # The same photo uploaded again as another person's signature.
    settings.INSPECTION_BULK_COUNT = 30
    a = grant(cast, cast.tongcheng, cast.tongcheng.person_other_cell, with_receipt=False)
    b = grant(cast, cast.tongcheng, cast.tongcheng.person, with_receipt=False, handed_at=at(2024, 1, 20))
    with unscoped():
        Disbursement.objects.filter(pk=a.pk).update(receipt=receipt(cast.tongcheng, sha="ab" * 32))
        Disbursement.objects.filter(pk=b.pk).update(receipt=receipt(cast.tongcheng, sha="ab" * 32))
    run_inspection(now=NOW)
    (image,) = [f for f in raised()[Rule.BULK_SIGNING] if f.key.startswith("image-")]
    assert grants_of(image) >= {a.pk, b.pk}
    assert "同一张签领图片" in image.summary and "孙秀兰" in image.summary


def test_one_roster_page_for_many_people_is_normal(clean):
    cast, _ = clean
    page = receipt(cast.yeshan, kind="roster_page")
    with unscoped():
        Disbursement.objects.filter(town=cast.yeshan.town).update(receipt=page)
    run_inspection(now=NOW)
    assert Rule.BULK_SIGNING not in raised()


def test_rerun_is_idempotent_and_a_fixed_problem_clears(clean):
    cast, _ = clean
    unsigned = grant(cast, cast.yeshan, cast.yeshan.person_other_cell, with_receipt=False, campaign=None)
    first = run_inspection(now=NOW)
    again = run_inspection(now=NOW + timedelta(days=1))
    assert first["new"] == 1 and again["new"] == 0 and again["cleared"] == 0
    (flag,) = flags()
    assert flag.last_seen_at == NOW + timedelta(days=1) and grants_of(flag) == {unsigned.pk}
    # The receipt comes in: the flag is no longer produced and says so; the finding history stays.
    services.finding_record(actor=cast.inspector, flag=flag, verdict="checking", notes="已通知镇里补交签领")
    with unscoped():
        Disbursement.objects.filter(pk=unsigned.pk).update(receipt=receipt(cast.yeshan))
    fixed = run_inspection(now=NOW + timedelta(days=2))
    (flag,) = flags()
    assert fixed["cleared"] == 1 and flag.status == InspectionFlag.Status.CLEARED and flag.cleared_at == NOW + timedelta(days=2)
    assert flag.findings.count() == 1
    # One audit record per run, with the counts.
    with unscoped():
        runs = list(AuditRecord.objects.filter(action="inspection.run").order_by("id"))
    assert len(runs) == 3 and runs[0].after["by_rule"]["no_receipt"] == 1 and runs[2].after["cleared"] == 1


@pytest.mark.parametrize("n", [10, 50])
def test_run_query_count_does_not_grow_with_grants(cast, n, django_assert_max_num_queries):
    clean_budgets(cast)
    for i in range(n):
        who = person(cast.yeshan, f"对象{i}", categories=[cast.categories["elderly_alone"]])
        grant(cast, cast.yeshan, who, with_receipt=i % 2 == 0, visit=i % 3 != 0, handed_at=at(2024, 1, 5) + timedelta(hours=i))
    with django_assert_max_num_queries(32):
        counts = run_inspection(now=NOW)
    assert counts["new"] > 0
    with django_assert_max_num_queries(32):
        run_inspection(now=NOW + timedelta(hours=1))


# --- declarations (§3) ------------------------------------------------------------------


def test_declaration_is_encrypted_masked_matchable_and_audited(cast):
    number = idnumbers.make_number("341181", date(1980, 2, 3), 17)
    services.declaration_submit(
        actor=cast.yeshan.cadre, relatives=[{"name": "张建国", "relation": "配偶", "id_number": number}], nothing_to_declare=False
    )
    with unscoped():
        (relative,) = DeclaredRelative.objects.all()
        record = AuditRecord.objects.get(action="declaration.submit")
    assert number not in relative.id_number_encrypted and idnumbers.decrypt(relative.id_number_encrypted) == number
    assert relative.id_number_masked == idnumbers.mask(number) and relative.id_number_digest == idnumbers.digest(number)
    assert number not in record.payload and idnumbers.mask(number) in record.payload
    # A second declaration replaces the first.
    services.declaration_submit(actor=cast.yeshan.cadre, relatives=[], nothing_to_declare=True)
    with unscoped():
        assert DeclaredRelative.objects.count() == 0 and ConflictDeclaration.objects.get().nothing_to_declare


def test_declaration_form_rejects_a_bad_id_by_row(client, cast):
    client.force_login(cast.yeshan.grid_worker)
    response = client.post(
        reverse("funds:declaration"),
        {"relatives-2-name": "张建国", "relatives-2-relation": "配偶", "relatives-2-id_number": "341181198002030171"},
    )
    assert response.status_code == 400
    assert "第2行 身份证号" in response.content.decode()
    with unscoped():
        assert not ConflictDeclaration.objects.exists()


def test_town_admin_sees_who_has_not_declared_in_their_town_only(client, cast, django_assert_max_num_queries):
    services.declaration_submit(actor=cast.yeshan.cadre, relatives=[], nothing_to_declare=True)
    client.force_login(cast.yeshan.admin)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("funds:declaration_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "冶山镇包村干部" in body and "冶山镇网格员" in body and "铜城镇" not in body
    assert response.context["missing"] == 2 and response.context["declared"] == 1
    client.force_login(cast.yeshan.cadre)
    assert client.get(reverse("funds:declaration_list")).status_code == 403


# --- the workspace (§5) -----------------------------------------------------------------


@pytest.fixture
def flagged(clean):
    cast, _ = clean
    grant(cast, cast.yeshan, cast.yeshan.person_other_cell, with_receipt=False, campaign=None)
    grant(cast, cast.tongcheng, cast.tongcheng.person_other_cell, with_receipt=False, campaign=None)
    run_inspection(now=NOW)
    with unscoped():
        return cast, InspectionFlag.objects.get(town=cast.yeshan.town), InspectionFlag.objects.get(town=cast.tongcheng.town)


def test_flags_page_filters_counts_and_query_count(client, flagged, django_assert_max_num_queries):
    cast, ys_flag, tc_flag = flagged
    client.force_login(cast.inspector)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("funds:flag_list"), {"rule": "no_receipt", "status": "open"})
    assert response.status_code == 200
    assert [f.pk for f in response.context["flags"]] == [tc_flag.pk, ys_flag.pk]
    assert dict((r, n) for r, _, n in response.context["rules"])["no_receipt"] == 2
    body = response.content.decode()
    assert "无签领" in body and "重新计算" in body
    response = client.get(reverse("funds:flag_list"), {"verdict": "confirmed"})
    assert response.context["flags"] == []
    # A town admin sees their own town's flags, read-only.
    client.force_login(cast.yeshan.admin)
    response = client.get(reverse("funds:flag_list"))
    assert [f.pk for f in response.context["flags"]] == [ys_flag.pk]
    assert "重新计算" not in response.content.decode()


def test_finding_is_recorded_by_inspectors_only_and_audited(client, flagged, django_assert_max_num_queries):
    cast, ys_flag, _ = flagged
    url = reverse("funds:flag_detail", args=[ys_flag.pk])
    for who in (cast.yeshan.admin, cast.county_viewer, cast.sysadmin):
        client.force_login(who)
        assert client.get(url).status_code == 200
        assert client.post(url, {"verdict": "confirmed", "notes": "x"}).status_code == 403
    client.force_login(cast.inspector)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    body = response.content.decode()
    assert "阈值：发放后15天内应签领" in body and "INSPECTION_RECEIPT_DAYS" not in body and "记录核查结论" in body
    assert client.post(url, {"verdict": "confirmed", "notes": ""}).status_code == 400
    response = client.post(url, {"verdict": "confirmed", "notes": "核实：签领表未交回，已责令补正"})
    assert response.status_code == 302
    with unscoped():
        finding = Finding.objects.get()
        record = AuditRecord.objects.get(action="finding.create")
    assert finding.inspector == cast.inspector.cadre and finding.verdict == "confirmed"
    assert record.town_id == cast.yeshan.town.pk and record.after["notes"].startswith("核实")
    assert "属实" in client.get(url).content.decode()


def test_recompute_button_queues_the_job_for_inspectors(client, cast, django_capture_on_commit_callbacks):
    clean_budgets(cast)
    grant(cast, cast.yeshan, cast.yeshan.person, with_receipt=False, handed_at=at(2024, 1, 2))
    client.force_login(cast.inspector)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("funds:flags_run"))
    assert response.status_code == 302
    # Queued through the outbox (core/outbox.py) and run once.
    queued = OutboxEvent.objects.get(topic="task")
    assert queued.payload["task"] == "funds.tasks.run_inspection_task" and queued.done_at is not None, queued.last_error
    with unscoped():
        assert InspectionFlag.objects.filter(rule=Rule.NO_RECEIPT).exists()
        record = AuditRecord.objects.get(action="inspection.run")
    assert record.actor_id == cast.inspector.pk and record.channel == "job"
    client.force_login(cast.yeshan.admin)
    assert client.post(reverse("funds:flags_run")).status_code == 403


def test_run_inspection_command_prints_counts(cast, capsys):
    from django.core.management import call_command

    call_command("run_inspection")
    out = capsys.readouterr().out
    assert "重复发放" in out and "集中录入、签领雷同" in out and "共 0 条" in out


def test_beat_schedule_runs_nightly_at_half_past_two():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["run-inspection"]
    assert entry["task"] == "funds.tasks.run_inspection_task"
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {30}
