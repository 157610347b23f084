"""Words for their reader (issue 12 §3): the audit log reads for an inspector, no developer text on
user pages, one date style, rule names that say what they find, cadres told apart, a quiet console."""

import ast
import logging
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.urls import reverse

from core.audit_labels import ACTION_LABELS, has_label
from core.scoping import unscoped
from funds import services as funds_services
from tests.cast import make_user
from towns.cadre_labels import cadre_label, with_place
from towns.dates import cn_date, cn_datetime
from towns.models import Assignment, Cadre

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("funds", "towns", "visits", "reports", "demo", "config")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _sources():
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _strings(node) -> list[str]:
    """Every action code an expression can give: literals, both arms of a conditional."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _actions_in_source() -> dict[str, str]:
    """action code -> where: `action="…"` keywords, `"action": "…"` dict entries (record_many),
    and `action = "…"` assignments feeding them (bulletin draft/redraft)."""
    found: dict[str, str] = {}
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            values = []
            if isinstance(node, ast.keyword) and node.arg == "action":
                values = _strings(node.value)
            elif isinstance(node, ast.Dict):
                values = [s for k, v in zip(node.keys, node.values) if _strings(k) == ["action"] for s in _strings(v)]
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "action" for t in node.targets):
                values = _strings(node.value)
            for value in values:
                if re.fullmatch(r"[a-z_]+\.[a-z_]+", value):
                    found.setdefault(value, f"{path.relative_to(ROOT)}:{node.lineno if hasattr(node, 'lineno') else '?'}")
    return found


def test_every_action_the_code_writes_has_a_chinese_label():
    actions = _actions_in_source()
    # The scan must see the services it guards (a scan that finds nothing would pass for nothing).
    assert {"disbursement.create", "followup.revisit", "bulletin.redraft", "followup.escalate", "demo.load"} <= set(actions)
    missing = {a: where for a, where in actions.items() if not has_label(a)}
    assert not missing, f"actions without a label in core/audit_labels.py ACTION_LABELS: {missing}"


def test_the_database_triggers_and_the_admin_write_labelled_actions_too():
    trigger_sql = (ROOT / "funds/migrations/0002_audit_triggers.py").read_text()
    entities = set(re.findall(r"EXECUTE FUNCTION nuanxin_audit_write\('([a-z_]+)'", trigger_sql)) or {"disbursement", "budget"}
    for entity in entities:
        for op in ("insert", "update", "delete"):
            assert has_label(f"{entity}.db_{op}"), f"{entity}.db_{op}"
    # The admin writes "<model>.create|update|delete" for every model it edits (core/admin_base.py).
    from core.admin_base import AuditedAdmin

    audited = [model for model, model_admin in admin.site._registry.items() if isinstance(model_admin, AuditedAdmin)]
    assert audited
    for model in audited:
        for verb in ("create", "update", "delete"):
            assert has_label(f"{model._meta.model_name}.{verb}"), f"{model._meta.label}: give it a Chinese verbose_name"


def test_labels_are_chinese_and_an_unknown_action_has_none():
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in ACTION_LABELS.values())
    assert not has_label("bulletin.teleport") and not has_label("nothing")


# --- the audit log as an inspector reads it ---------------------------------------------------


def test_the_audit_log_shows_labels_names_and_local_time_to_the_second(client, cast, django_assert_max_num_queries):
    from visits import followup_services as fs
    from visits.models import FollowUp

    ys = cast.yeshan
    handed = datetime(2024, 1, 8, 10, 0, tzinfo=SHANGHAI)
    grant, _ = funds_services.disbursement_create(
        actor=ys.cadre,
        beneficiary=ys.person,
        campaign=cast.campaign,
        kind="cash",
        amount=Decimal("300"),
        handed_at=handed,
        handed_by=ys.cadre.cadre,
        idempotency_key="6f1c1d2e-0000-4000-8000-000000000001",
    )
    item = fs.followup_raise(actor=ys.admin, kind="demand", beneficiary=ys.person, title="屋顶漏雨需要修缮")
    fs.followup_accept(actor=ys.admin, followup=item)
    fs.followup_resolve(actor=ys.admin, followup=item, note="已修缮")
    fs.followup_revisit(actor=ys.admin, followup=item, satisfaction=FollowUp.Satisfaction.DISSATISFIED, note="仍漏雨")

    client.force_login(cast.inspector)
    client.get(reverse("funds:audit_list"))  # warm the session
    # The names of every id on the page (people, cadres, towns, cells, campaigns) cost one query.
    with django_assert_max_num_queries(10):
        response = client.get(reverse("funds:audit_list"))
    body = response.content.decode().split('data-testid="audit-records"')[1]
    # Actions and values by their labels, never their codes.
    for label in ("登记发放", "诉求办结", "诉求复号（回访不满意）", "现金", "无需审批", "不满意", "已发放"):
        assert label in body, label
    for code in ("disbursement.create", "followup.revisit", ">cash<", "not_required", "dissatisfied", ">issued<"):
        assert code not in body, code
    # People and places by name: the person, the cadre who handed it (with village and post), the town.
    assert "李桂英" in body and "冶山镇包村干部（冶山镇·镇村干部）" in body and "冶山镇" in body
    assert f">编号 {ys.person.pk}<" not in body
    # Local time to the second, no microseconds, no UTC offset.
    assert "2024-01-08 10:00:00" in body  # the grant's handed_at, shown in Asia/Shanghai
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", body) and "+00:00" not in body
    assert re.search(r"<td class=\"text-nowrap\">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</td>", body)

    # The grant's own history (what town admins see) reads the same way.
    client.force_login(ys.admin)
    history = client.get(reverse("funds:grant_detail", args=[grant.pk]))
    text = history.content.decode()
    assert "登记发放" in text and "现金" in text and "disbursement.create" not in text


def test_the_detail_page_shows_no_microseconds_and_no_codes(client, cast):
    from visits import followup_services as fs

    item = fs.followup_raise(actor=cast.yeshan.admin, kind="demand", beneficiary=cast.yeshan.person, title="申请轮椅")
    fs.followup_accept(actor=cast.yeshan.admin, followup=item, owner=cast.yeshan.grid_worker.cadre)
    from core.models import AuditRecord

    with unscoped():
        record = AuditRecord.objects.filter(action="followup.accept").get()
    client.force_login(cast.inspector)
    body = client.get(reverse("funds:audit_detail", args=[record.pk])).content.decode()
    assert "受理诉求" in body and "followup.accept" not in body.split("签名内容")[0]
    assert "冶山镇网格员（冶山镇·长兴社区·网格员）" in body  # the new owner, by name, town, village and post
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+（北京时间）", body)


# --- no developer text on user pages ------------------------------------------------------------

SETTING_NAME = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]{2,}\b")


def _visible(html: str) -> str:
    html = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
    return html


def _main_pages(cast, flag_pk):
    pages = [
        reverse("home"),
        reverse("registry:person_list"),
        reverse("registry:person_detail", args=[cast.yeshan.person.pk]),
        reverse("visits:visit_list"),
        reverse("visits:followup_list"),
        reverse("visits:board"),
        reverse("visits:activity_list"),
        reverse("funds:grant_list"),
        reverse("funds:budgets"),
        reverse("funds:flag_list"),
        reverse("funds:flag_detail", args=[flag_pk]),
        reverse("funds:grant_detail", args=[_first_grant_pk()]),
        reverse("funds:approval_queue"),
        reverse("funds:declaration_list"),
        reverse("towns:import_list"),
        reverse("funds:audit_list"),
        reverse("funds:roster"),
        reverse("reports:bulletin_list"),
        reverse("reports:dashboard"),
        reverse("reports:exports"),
        reverse("towns:zones"),
        reverse("towns:user_list"),
        reverse("password_change"),
    ]
    return pages


def _first_grant_pk() -> int:
    from funds.models import Disbursement

    with unscoped():
        return Disbursement.objects.order_by("id").values_list("pk", flat=True).first()


@pytest.fixture
def bulk_flag(cast, settings):
    """A 集中录入 flag in 冶山镇: 4 grants recorded within minutes, over a threshold of 3 in 5 minutes."""
    from funds.inspection import run_inspection
    from funds.models import InspectionFlag

    settings.INSPECTION_BULK_COUNT = 3
    settings.INSPECTION_BULK_MINUTES = 5
    ys = cast.yeshan
    for i in range(4):
        funds_services.disbursement_create(
            actor=ys.cadre,
            beneficiary=ys.person if i % 2 else ys.person_other_cell,
            campaign=cast.campaign,
            kind="cash",
            amount=Decimal("100"),
            handed_at=datetime(2024, 1, 8, 9, i, tzinfo=SHANGHAI),
            handed_by=ys.cadre.cadre,
            idempotency_key=f"6f1c1d2e-0000-4000-8000-00000000010{i}",
        )
    run_inspection()
    with unscoped():
        return InspectionFlag.objects.get(rule=InspectionFlag.Rule.BULK_SIGNING)


def test_no_page_shows_commands_or_setting_names_to_any_role(client, cast, bulk_flag):
    seen = 0
    for role, user in cast.users_by_role().items():
        client.force_login(user)
        for url in _main_pages(cast, bulk_flag.pk):
            response = client.get(url, follow=True)
            if response.status_code != 200:
                continue  # a page this role may not open: the access matrix covers it
            seen += 1
            html = _visible(response.content.decode())
            assert "manage.py" not in html, (role, url)
            names = SETTING_NAME.findall(html)
            assert not names, (role, url, names)
            # The grid worker's footer has no database talk ("演示模式（SQLite）…").
            assert "SQLite" not in html and "演示模式" not in html, (role, url)
    assert seen > 40


def test_the_flag_page_says_what_the_rule_found_and_its_threshold_in_words(client, cast, bulk_flag):
    assert bulk_flag.title == "集中录入"
    client.force_login(cast.inspector)
    body = client.get(reverse("funds:flag_detail", args=[bulk_flag.pk])).content.decode()
    assert "集中录入" in body and "集中代签" not in body
    assert "阈值：5分钟内3笔" in body and "INSPECTION_BULK" not in body
    assert "事后照名单补录" in body  # what it usually means, for the inspector to check
    # Stored text: the date style of text, always with the year (it is read in later years too).
    assert re.search(r"在\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d至", bulk_flag.summary), bulk_flag.summary


def test_the_demo_notice_is_plain_and_only_where_it_matters(client, cast, monkeypatch):
    """As on the SQLite demo (no database triggers): inspectors read what it means on the audit page;
    a grid worker's pages say nothing about databases or audit protection."""
    from core import context_processors

    real = context_processors.nuanxin
    monkeypatch.setattr(
        context_processors, "nuanxin", lambda request: {**real(request), "audit_protected_by_database": False, "demo_mode": True}
    )
    from django.template import engines

    engine = engines["django"].engine  # its processors are imported once: swap ours in that tuple
    processors = tuple(context_processors.nuanxin if p is real else p for p in engine.template_context_processors)
    monkeypatch.setattr(engine, "template_context_processors", processors)
    client.force_login(cast.inspector)
    body = client.get(reverse("funds:audit_list")).content.decode()
    assert "verify_audit" not in body and "manage.py" not in body and "SQLite" not in body
    assert "当前为演示系统：绕过系统直接改动数据库的操作不会自动留痕" in body
    client.force_login(cast.yeshan.grid_worker)
    for url in (reverse("home"), reverse("registry:person_list"), reverse("visits:followup_list")):
        html = client.get(url).content.decode()
        assert "SQLite" not in html and "审计" not in html and "防篡改" not in html, url
        assert "演示系统，人员和数据均为虚构" in html


# --- one date style -----------------------------------------------------------------------------


def test_dates_in_text_have_no_zero_padding_and_the_year_unless_this_year():
    today = date(2026, 12, 3)
    assert cn_date(date(2024, 1, 8), today=today) == "2024年1月8日"
    assert cn_date(date(2026, 1, 8), today=today) == "1月8日"
    assert cn_date(date(2026, 1, 8), today=today, full=True) == "2026年1月8日"
    assert cn_date(None) == ""
    moment = datetime(2024, 1, 8, 2, 5, tzinfo=ZoneInfo("UTC"))
    assert cn_datetime(moment, today=today) == "2024年1月8日 10:05"  # local time


def test_templates_and_messages_use_the_one_date_helper():
    """Text dates go through |cn_date / |cn_datetime (towns/dates.py); tables use Y-m-d."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r'\|date:"[^"]*[年月日]', line) and '|date:"Y年"' not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    for path in _sources():
        text = path.read_text()
        # Output formats only (input formats in config/formats and the filters accept 2024年01月08日).
        for match in re.finditer(r"\{[^{}]*:%[^{}]*[年月日][^{}]*\}|strftime\(\"[^\"]*[年月日]", text):
            offenders.append(f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}")
    assert not offenders, offenders


def test_a_message_says_the_date_in_the_one_style(cast):
    from django.core.exceptions import ValidationError

    from towns import services

    with unscoped():
        assignment = Assignment.objects.get(cadre=cast.yeshan.grid_worker.cadre)
    with pytest.raises(ValidationError) as raised:
        services.assignment_end(actor=cast.yeshan.admin, assignment=assignment, ends_on=date(2022, 12, 1), reason="调岗")
    assert "2023年1月1日" in str(raised.value)


# --- same-name cadres ---------------------------------------------------------------------------


@pytest.fixture
def twins(cast):
    """Two 刘晓燕 in 冶山镇: a grid worker of 长兴社区 and a town cadre whose title says it all."""
    ys = cast.yeshan
    with unscoped():
        one = make_user("ys_liu1", role="grid_worker", name="刘晓燕", town=ys.town).cadre
        Cadre.objects.filter(pk=one.pk).update(title="网格员")
        Assignment.objects.create(cadre=one, town=ys.town, cell=ys.other_cell, starts_on=date(2023, 1, 1))
        two = make_user("ys_liu2", role="town_cadre", name="刘晓燕", town=ys.town).cadre
        Cadre.objects.filter(pk=two.pk).update(title="包村干部")
    return one, two


def test_same_name_cadres_are_told_apart_by_village_or_post(twins):
    with unscoped():
        labels = sorted(cadre_label(c) for c in with_place(Cadre.objects.filter(name="刘晓燕")))
    assert labels == ["刘晓燕（包村干部）", "刘晓燕（长兴社区·网格员）"]
    assert all("，" not in label for label in labels)  # never "丁芳（网格员，网格员）"


def test_cadre_choices_and_lists_carry_the_label(client, cast, twins):
    ys = cast.yeshan
    client.force_login(ys.admin)
    pages = [
        reverse("towns:zone_assign"),
        reverse("visits:followup_list"),
        reverse("towns:user_list"),
        reverse("towns:person_create", args=[ys.household.pk]),
        reverse("registry:person_list") + f"?town={ys.town.pk}",
        reverse("visits:board"),
        reverse("funds:batch"),
        reverse("visits:visit_create") + f"?beneficiary={ys.person.pk}",
    ]
    for url in pages:
        body = client.get(url, follow=True).content.decode()
        assert "刘晓燕（长兴社区·网格员）" in body and "刘晓燕（包村干部）" in body, url
        assert "（网格员，网格员）" not in body


# --- the console and the favicon -------------------------------------------------------------


def test_an_ordinary_403_or_404_logs_one_line_and_no_traceback(client, cast, caplog):
    client.force_login(cast.yeshan.grid_worker)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/no-such-page/").status_code == 404
        assert client.get(reverse("funds:audit_list")).status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert {r.status_code for r in records} == {403, 404}
    assert all(r.exc_info is None for r in records)
    assert "Traceback" not in caplog.text


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content])[:4] == b"\x00\x00\x01\x00"
