"""The bulletin editor (issue 7 §2): draft → edit → publish → frozen, numbering under concurrency,
town submissions (length limit, scoping, used or not), the .docx and the pages."""

import io
import threading
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.urls import reverse
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, RGBColor

from core.models import AuditRecord
from core.scoping import unscoped
from reports import bulletin_docx, bulletin_selectors, bulletin_services
from reports.models import SUBMISSION_MAX_CHARS, Bulletin, BulletinItem, BulletinSubmission
from reports.phrasing import approx, floor_round
from reports.services import bulletin_draft
from tests.reports.test_bulletin import WEEK, _activity, build_week_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def week_data(cast):
    return build_week_data(cast)


def _submission(tc, user, *, week=WEEK, headline="“三字诀”推动走访慰问见行见效", body="高位谋划，立足“早”字做谋划。"):
    with unscoped():
        return BulletinSubmission.objects.create(town=tc.town, week_start=week, headline=headline, body=body, submitted_by=user)


def _actions(bulletin) -> list[str]:
    return list(AuditRecord.objects.filter(object_type__startswith="reports.").order_by("id").values_list("action", flat=True))


def test_draft_edit_publish_then_frozen_with_audit_records(week_data):
    cast = week_data
    editor = cast.county_viewer
    with unscoped():
        _activity(cast.tongcheng, date(2024, 1, 10), reached=300)
    sub = _submission(
        cast.tongcheng,
        cast.tongcheng.cadre,
        body="“与你‘铜’行”党员志愿服务队开展健康宣讲。\n**送学上门。**为高龄党员送学上门40余次。",
    )
    bulletin = bulletin_services.draft(actor=editor, week_start=WEEK)
    tc_item, ys_item = bulletin.items.order_by("order")  # by division code: 铜城 100, 冶山 109
    assert (tc_item.town, ys_item.town) == (cast.tongcheng.town, cast.yeshan.town)

    bulletin_services.update_header(
        actor=editor,
        bulletin=bulletin,
        title="天长组工信息",
        topic="暖心走访",
        issuing_unit="中共天长市委组织部研究室",
        issue_date=date(2024, 1, 16),
        report_to="部领导。",
        copy_to="各镇（街道）党（工）委。",
    )
    bulletin_services.update_item(actor=editor, item=ys_item, headline="“三字诀”推动走访慰问见行见效。", body="改写的正文。")
    bulletin_services.move_item(actor=editor, item=ys_item, direction="up")
    bulletin_services.use_submission(actor=editor, bulletin=bulletin, submission=sub)
    bulletin_services.set_included(actor=editor, item=ys_item, included=False)
    bulletin_services.set_included(actor=editor, item=ys_item, included=True)

    bulletin.refresh_from_db()
    ys_item.refresh_from_db()
    tc_item.refresh_from_db()
    assert (bulletin.topic, bulletin.issue_date, bulletin.report_to) == ("暖心走访", date(2024, 1, 16), "部领导。")
    assert (ys_item.headline, ys_item.body, ys_item.source) == ("“三字诀”推动走访慰问见行见效", "改写的正文。", "edited")
    assert (ys_item.order, tc_item.order) == (1, 2)
    assert (tc_item.source, tc_item.submission_id, tc_item.headline) == ("submitted", sub.pk, sub.headline)

    # A redraft keeps the editor's text and the submission.
    bulletin_draft(week_start=WEEK)
    assert set(bulletin.items.values_list("source", flat=True)) == {"edited", "submitted"}

    published = bulletin_services.publish(actor=editor, bulletin=bulletin)
    assert (published.year, published.number, published.status) == (2024, 1, "published")
    assert published.published_at is not None

    for attempt in (
        lambda: bulletin_services.update_item(actor=editor, item=ys_item, headline="再改", body="再改。"),
        lambda: bulletin_services.move_item(actor=editor, item=ys_item, direction="up"),
        lambda: bulletin_services.set_included(actor=editor, item=ys_item, included=False),
        lambda: bulletin_services.remove_item(actor=editor, item=ys_item),
        lambda: bulletin_services.use_submission(actor=editor, bulletin=bulletin, submission=sub),
        lambda: bulletin_services.publish(actor=editor, bulletin=bulletin),
        lambda: bulletin_services.draft(actor=editor, week_start=WEEK),
        lambda: bulletin_services.update_header(
            actor=editor,
            bulletin=bulletin,
            title="改",
            topic="",
            issuing_unit="改",
            issue_date=date(2024, 1, 16),
            report_to="改",
            copy_to="改",
        ),
    ):
        with pytest.raises(ValidationError, match="已发布"):
            attempt()
    ys_item.refresh_from_db()
    assert ys_item.body == "改写的正文。" and bulletin.items.count() == 2

    actions = _actions(bulletin)
    for action in (
        "bulletin.draft",
        "bulletin.update",
        "bulletin.item_update",
        "bulletin.item_move",
        "bulletin.item_from_submission",
        "bulletin.item_exclude",
        "bulletin.item_include",
        "bulletin.redraft",
        "bulletin.publish",
    ):
        assert action in actions
    record = AuditRecord.objects.get(action="bulletin.publish")
    assert record.after["number"] == 1 and record.actor_id == editor.pk
    assert record.after["items"] == ["冶山镇：“三字诀”推动走访慰问见行见效", f"铜城镇：{sub.headline}"]


def test_the_database_refuses_writes_to_a_published_issue(week_data):
    if connection.vendor != "postgresql":
        pytest.skip("the triggers are PostgreSQL's")
    cast = week_data
    bulletin = bulletin_services.publish(actor=cast.county_viewer, bulletin=bulletin_draft(week_start=WEEK))
    for write in (
        lambda: Bulletin.objects.filter(pk=bulletin.pk).update(topic="改"),
        lambda: Bulletin.objects.filter(pk=bulletin.pk).delete(),
        lambda: BulletinItem.objects.filter(bulletin=bulletin).update(body="改"),
        lambda: BulletinItem.objects.filter(bulletin=bulletin).delete(),
        lambda: BulletinItem.objects.create(bulletin=bulletin, town=cast.tongcheng.town, headline="补", body="补。"),
    ):
        with pytest.raises(DatabaseError, match="已发布的组工信息"), transaction.atomic():
            write()
    assert "本周" in BulletinItem.objects.get(bulletin=bulletin).body


def test_only_the_county_editor_edits(week_data):
    cast = week_data
    bulletin = bulletin_draft(week_start=WEEK)
    for user in (cast.yeshan.admin, cast.inspector, cast.sysadmin):
        with pytest.raises(PermissionDenied):
            bulletin_services.publish(actor=user, bulletin=bulletin)
        with pytest.raises(PermissionDenied):
            bulletin_services.draft(actor=user, week_start=WEEK)


def test_publishing_an_empty_issue_is_refused(week_data):
    cast = week_data
    bulletin = bulletin_draft(week_start=WEEK)
    for item in bulletin.items.all():
        bulletin_services.set_included(actor=cast.county_viewer, item=item, included=False)
    with pytest.raises(ValidationError, match="没有编入任何条目"):
        bulletin_services.publish(actor=cast.county_viewer, bulletin=bulletin)


def test_a_town_the_editor_left_out_stays_out_on_redraft(week_data):
    cast = week_data
    bulletin = bulletin_draft(week_start=WEEK)
    bulletin_services.set_included(actor=cast.county_viewer, item=bulletin.items.get(), included=False)
    bulletin_draft(week_start=WEEK)
    assert list(bulletin.items.values_list("included", flat=True)) == [False]
    assert bulletin_selectors.printed_items(bulletin) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_publishing_gets_consecutive_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    from tests.cast import build_cast

    cast = build_cast()
    drafts = [
        bulletin_draft(week_start=date(2024, 1, 1)),
        bulletin_draft(week_start=WEEK),
        bulletin_draft(week_start=date(2024, 1, 15)),
    ]
    barrier = threading.Barrier(len(drafts))
    results, errors = [], []

    def run(bulletin):
        try:
            barrier.wait()
            results.append(bulletin_services.publish(actor=cast.county_viewer, bulletin=bulletin).number)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # Every draft needs an item to be published.
    with unscoped():
        for d in drafts:
            BulletinItem.objects.create(bulletin=d, town=cast.yeshan.town, headline="标题", body="正文。")
    threads = [threading.Thread(target=run, args=(d,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == [1, 2, 3]
    assert sorted(Bulletin.objects.values_list("number", flat=True)) == [1, 2, 3]


def test_phrasing_rules_over_a_range():
    for n in range(0, 30_000, 7):
        text = approx(n)
        assert "超" not in text
        if n < 10:
            assert text == str(n)
            continue
        rounded = floor_round(n)
        assert rounded <= n and int(text.removesuffix("余")) == rounded
        assert text.endswith("余") == (rounded != n)
        assert len(str(rounded).rstrip("0")) <= 2  # a round figure: one or two significant digits
        assert n - rounded < 10 ** (len(str(n)) - 1)  # never floored by a whole order of magnitude


# -- town submissions ---------------------------------------------------------------------


def test_a_town_cadre_submits_and_sees_only_their_own(client, cast):
    client.force_login(cast.yeshan.cadre)
    week = bulletin_selectors.recent_mondays()[1].isoformat()
    body = "第一段。\r\n" + "字" * (SUBMISSION_MAX_CHARS - 5)  # 1,500 characters once \r\n counts as one
    response = client.post(reverse("reports:submission_list"), {"week_start": week, "headline": "三字诀", "body": body})
    assert response.status_code == 302
    sub = BulletinSubmission.objects.for_user(cast.yeshan.cadre).get()
    assert len(sub.body) == SUBMISSION_MAX_CHARS and sub.town == cast.yeshan.town
    assert AuditRecord.objects.filter(action="bulletin.submit", object_id=str(sub.pk), town=cast.yeshan.town).exists()

    too_long = client.post(
        reverse("reports:submission_list"), {"week_start": week, "headline": "太长", "body": "字" * (SUBMISSION_MAX_CHARS + 1)}
    )
    assert too_long.status_code == 400
    assert "1500" in too_long.content.decode() or "1,500" in too_long.content.decode()
    assert BulletinSubmission.objects.for_user(cast.yeshan.cadre).count() == 1

    other = _submission(cast.tongcheng, cast.tongcheng.cadre, headline="铜城镇的标题")
    page = client.get(reverse("reports:submission_list")).content.decode()
    assert "三字诀" in page and "铜城镇的标题" not in page and "未采用" in page
    assert client.get(reverse("reports:submission_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("reports:submission_detail", args=[sub.pk])).status_code == 200
    client.force_login(cast.county_viewer)
    assert client.get(reverse("reports:submission_detail", args=[other.pk])).status_code == 200


def test_the_submission_limit_holds_in_the_service_and_the_database(cast):
    with pytest.raises(ValidationError, match="不能超过1500字"):
        bulletin_services.submit(actor=cast.yeshan.admin, week_start=WEEK, headline="标题", body="字" * 1501)
    with pytest.raises(PermissionDenied):
        bulletin_services.submit(actor=cast.yeshan.grid_worker, week_start=WEEK, headline="标题", body="正文")
    with pytest.raises(ValidationError):
        bulletin_services.submit(actor=cast.yeshan.admin, week_start=date(2024, 1, 9), headline="标题", body="正文")  # a Tuesday
    with pytest.raises(IntegrityError), transaction.atomic(), unscoped():
        BulletinSubmission.objects.create(
            town=cast.yeshan.town, week_start=WEEK, headline="标题", body="字" * 1501, submitted_by=cast.yeshan.admin
        )


def test_a_used_submission_shows_its_issue(client, week_data):
    cast = week_data
    sub = _submission(cast.yeshan, cast.yeshan.cadre)
    bulletin = bulletin_draft(week_start=WEEK)
    client.force_login(cast.county_viewer)
    assert client.post(reverse("reports:bulletin_use_submission", args=[bulletin.pk, sub.pk])).status_code == 302
    client.force_login(cast.yeshan.cadre)
    assert "已编入待发布的一期" in client.get(reverse("reports:submission_list")).content.decode()
    bulletin_services.publish(actor=cast.county_viewer, bulletin=bulletin)
    assert "已采用 · 2024年第1期" in client.get(reverse("reports:submission_detail", args=[sub.pk])).content.decode()


def test_the_editor_cannot_use_another_weeks_submission(week_data):
    cast = week_data
    sub = _submission(cast.yeshan, cast.yeshan.cadre, week=date(2024, 1, 1))
    bulletin = bulletin_draft(week_start=WEEK)
    with pytest.raises(ValidationError, match="不是本期"):
        bulletin_services.use_submission(actor=cast.county_viewer, bulletin=bulletin, submission=sub)


# -- the editor's pages -------------------------------------------------------------------


def test_the_editor_pages_without_javascript(client, week_data):
    cast = week_data
    with unscoped():
        _activity(cast.tongcheng, date(2024, 1, 10), reached=3000)  # the most people reached: 铜城镇 is singled out too
    client.force_login(cast.county_viewer)
    response = client.post(reverse("reports:bulletin_draft"), {"week": "2024-01-10"})
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reports:bulletin_edit", args=[bulletin.pk])
    assert bulletin.week_start == WEEK
    edit_url = reverse("reports:bulletin_edit", args=[bulletin.pk])
    page = client.get(edit_url).content.decode()
    assert "冶山镇" in page and "铜城镇" in page and "（暂定）" in page

    header = {
        "title": "天长组工信息",
        "topic": "双节慰问",
        "issuing_unit": "中共天长市委组织部研究室",
        "issue_date": "2024-01-09",
        "report_to": "部领导，滁州市委组织部研究室。",
        "copy_to": "各镇（街道）党（工）委。",
    }
    assert client.post(edit_url, header).status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.issue_date == date(2024, 1, 9) and bulletin.report_to == "部领导，滁州市委组织部研究室。"

    # The town with the most demands solved leads, the one that reached the most people follows.
    ys, tc = bulletin.items.order_by("order")
    assert (ys.town.name, tc.town.name) == ("冶山镇", "铜城镇")
    assert client.post(reverse("reports:bulletin_item", args=[bulletin.pk, tc.pk]), {"action": "up"}).status_code == 302
    assert list(bulletin.items.order_by("order").values_list("town__name", flat=True)) == ["铜城镇", "冶山镇"]
    item_url = reverse("reports:bulletin_item", args=[bulletin.pk, tc.pk])
    assert client.get(item_url).status_code == 200
    assert client.post(item_url, {"action": "save", "headline": "“双节”暖民心，慰问显真情", "body": "正文。"}).status_code == 302
    assert client.post(item_url, {"action": "save", "headline": "", "body": ""}).status_code == 400
    assert client.post(reverse("reports:bulletin_item", args=[bulletin.pk, ys.pk]), {"action": "remove"}).status_code == 302
    assert list(bulletin.items.values_list("town__name", flat=True)) == ["铜城镇"]

    docx = client.get(reverse("reports:bulletin_docx", args=[bulletin.pk]))
    assert docx.status_code == 200 and docx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in docx["Content-Disposition"] and "filename*=utf-8''" in docx["Content-Disposition"]

    assert client.post(reverse("reports:bulletin_publish", args=[bulletin.pk])).status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.number == 1
    refused = client.post(item_url, {"action": "save", "headline": "再改", "body": "再改。"}, follow=True).content.decode()
    assert "2024年第1期已发布，不能再修改" in refused
    assert "内容已冻结" in client.get(edit_url).content.decode()
    page = client.get(reverse("reports:bulletin_detail", args=[bulletin.pk])).content.decode()
    assert "第 1 期" in page and "□铜城镇：“双节”暖民心，慰问显真情。" in page and "冶山镇：" not in page


def test_the_editor_page_runs_a_constant_number_of_queries(client, week_data, django_assert_max_num_queries):
    cast = week_data
    bulletin = bulletin_draft(week_start=WEEK)
    for tc in (cast.yeshan, cast.tongcheng):
        _submission(tc, tc.cadre)
        _submission(tc, tc.admin)
    client.force_login(cast.county_viewer)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("reports:bulletin_edit", args=[bulletin.pk])).status_code == 200


# -- the .docx ----------------------------------------------------------------------------


def _east_asia(rpr_owner) -> str | None:
    rfonts = (
        rpr_owner.find(qn("w:rPr") + "/" + qn("w:rFonts")) if rpr_owner.tag != qn("w:rPr") else rpr_owner.find(qn("w:rFonts"))
    )
    return None if rfonts is None else rfonts.get(qn("w:eastAsia"))


def test_the_docx_is_in_the_official_layout(week_data):
    cast = week_data
    bulletin = bulletin_draft(week_start=WEEK)
    item = bulletin.items.get()
    bulletin_services.update_item(
        actor=cast.county_viewer,
        item=item,
        headline="“三字诀”推动走访慰问见行见效",
        body="**高位谋划，立足“早”字做谋划。**镇党委提早谋划。\n第二段。",
    )
    data = bulletin_docx.build(bulletin, bulletin_selectors.printed_items(bulletin), 118)
    doc = Document(io.BytesIO(data))

    section = doc.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.01) and abs(section.page_height - Cm(29.7)) < Cm(0.01)
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "天长组工信息" and texts[1] == "第 118 期"
    assert texts[2] == "中共天长市委组织部研究室\t2024年1月15日"
    assert "【“双节慰问”专题】" in texts
    assert "冶山镇：“三字诀”推动走访慰问见行见效" in texts  # the table of contents
    lead = next(p for p in doc.paragraphs if p.text.startswith("□冶山镇："))
    assert lead.text == "□冶山镇：“三字诀”推动走访慰问见行见效。高位谋划，立足“早”字做谋划。镇党委提早谋划。"
    assert [r.bold for r in lead.runs][1] is True and "第二段。" in texts
    footer = doc.tables[-1]
    assert [row.cells[0].text for row in footer.rows] == [
        "报：部领导，滁州市委组织部研究室，市委办公室、市政府办公室。",
        "送：各镇（街道）党（工）委、市直各单位、本部各科室（电教中心）。",
    ]
    rules = footer._tbl.tblPr.find(qn("w:tblBorders"))
    assert rules.find(qn("w:top")).get(qn("w:val")) == "single" and rules.find(qn("w:bottom")).get(qn("w:val")) == "single"
    for row in footer.rows:
        assert _east_asia(row.cells[0].paragraphs[0].runs[0]._r) == "仿宋_GB2312"

    title_run = doc.paragraphs[0].runs[0]
    assert title_run.font.color.rgb == RGBColor(0xFF, 0x00, 0x00)
    assert _east_asia(title_run._r) == "方正小标宋简体"
    assert title_run.font.size.pt >= 36
    # The red rule under the unit and date.
    bottom = doc.paragraphs[2]._p.find(qn("w:pPr") + "/" + qn("w:pBdr") + "/" + qn("w:bottom"))
    assert bottom is not None and bottom.get(qn("w:color")) == "FF0000"

    # Every run of the body names its East-Asian font: 仿宋 for text, 黑体 for the lead.
    assert _east_asia(lead.runs[0]._r) == "黑体"
    for run in lead.runs[1:]:
        assert _east_asia(run._r) == "仿宋_GB2312" and run.font.size.pt == 16
    for paragraph in doc.paragraphs:
        for run in paragraph.runs:
            assert _east_asia(run._r), f"run {run.text!r} without an East-Asian font"
    # ... and so do the styles.
    assert _east_asia(doc.styles["Normal"].element) == "仿宋_GB2312"
    assert _east_asia(doc.styles["条目"].element) == "仿宋_GB2312"
    assert _east_asia(doc.styles["刊名"].element) == "方正小标宋简体"
    font_table = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable")).blob.decode()
    assert 'w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>' in font_table
