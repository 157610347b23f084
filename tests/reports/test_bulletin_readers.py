"""The bulletin as the county's own (issue 12 §4): its readers, its numbering on the page, the draft's
marks, confirmation for an unfinished week, a town's own text first, withdrawal, the closing sentence."""

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from docx import Document

from core.models import AuditRecord
from core.scoping import unscoped
from reports import bulletin_services
from reports.models import BulletinSubmission
from reports.services import bulletin_draft
from tests.reports.test_bulletin import WEEK, _activity, build_week_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def week_data(cast):
    return build_week_data(cast)


def _docx_text(response) -> tuple[str, str]:
    document = Document(io.BytesIO(response.content))
    header = " ".join(p.text for p in document.sections[0].header.paragraphs)
    return header, "\n".join(p.text for p in document.paragraphs)


def test_every_town_reads_and_downloads_a_published_issue_but_not_a_draft(client, week_data, django_assert_max_num_queries):
    cast = week_data
    draft = bulletin_draft(week_start=date(2024, 1, 1))
    published = bulletin_services.publish(actor=cast.county_viewer, bulletin=bulletin_draft(week_start=WEEK))
    for user in (cast.yeshan.cadre, cast.tongcheng.admin, cast.inspector, cast.sysadmin):
        client.force_login(user)
        with django_assert_max_num_queries(12):
            listing = client.get(reverse("reports:bulletin_list"))
        assert listing.status_code == 200
        page = listing.content.decode()
        assert f"第{published.number}期" in page and "草稿" not in page and "起草一期" not in page
        assert client.get(reverse("reports:bulletin_detail", args=[published.pk])).status_code == 200
        header, text = _docx_text(client.get(reverse("reports:bulletin_docx", args=[published.pk])))
        assert "草稿" not in header and f"第 {published.number} 期" in text
        assert client.get(reverse("reports:bulletin_detail", args=[draft.pk])).status_code == 404
        assert client.get(reverse("reports:bulletin_docx", args=[draft.pk])).status_code == 404
    client.force_login(cast.yeshan.grid_worker)  # not on the 送 list
    assert client.get(reverse("reports:bulletin_list")).status_code == 403


def test_the_draft_docx_says_draft_and_provisional_number_in_its_header(client, week_data):
    cast = week_data
    bulletin = bulletin_draft(week_start=WEEK)
    client.force_login(cast.county_viewer)
    header, text = _docx_text(client.get(reverse("reports:bulletin_docx", args=[bulletin.pk])))
    assert "草稿" in header and "期号暂定" in header
    assert text.index("【“双节慰问”专题】") < text.index(bulletin.lead) < text.index("□冶山镇：")


def test_the_editor_sets_the_next_number_once_on_the_list_page(client, week_data):
    cast = week_data
    client.force_login(cast.county_viewer)
    response = client.post(reverse("reports:bulletin_numbering"), {"next_number": "119"})
    assert response.status_code == 302
    page = client.get(reverse("reports:bulletin_list")).content.decode()
    assert "下一期为第119期" in page and "连续编号" in page
    bulletin = bulletin_draft(week_start=WEEK)
    assert "第 119 期" in client.get(reverse("reports:bulletin_detail", args=[bulletin.pk])).content.decode()
    bulletin_services.publish(actor=cast.county_viewer, bulletin=bulletin)
    refused = client.post(reverse("reports:bulletin_numbering"), {"next_number": "100"})
    assert refused.status_code == 400 and "本刊已发布到第119期，下一期至少是第120期" in refused.content.decode()
    record = AuditRecord.objects.get(action="bulletin.numbering")
    assert record.after == {"restart_yearly": False, "next_number": 119}


def test_publishing_a_week_that_has_not_ended_asks_for_confirmation(client, week_data):
    cast = week_data
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    with unscoped():
        _activity(cast.yeshan, monday, reached=12)
    bulletin = bulletin_draft(week_start=monday)
    client.force_login(cast.county_viewer)
    editor = client.get(reverse("reports:bulletin_edit", args=[bulletin.pk])).content.decode()
    assert 'name="confirm_unfinished"' in editor and "数字可能还会变化" in editor
    client.post(reverse("reports:bulletin_publish", args=[bulletin.pk]))
    bulletin.refresh_from_db()
    assert not bulletin.is_published
    client.post(reverse("reports:bulletin_publish", args=[bulletin.pk]), {"confirm_unfinished": "1"})
    bulletin.refresh_from_db()
    assert bulletin.is_published
    # A week that has ended publishes without the question.
    assert (
        'name="confirm_unfinished"'
        not in client.get(reverse("reports:bulletin_edit", args=[bulletin_draft(week_start=WEEK).pk])).content.decode()
    )


def test_a_towns_own_text_is_used_first_and_a_withdrawn_one_is_not(week_data):
    cast = week_data
    with unscoped():
        sub = BulletinSubmission.objects.create(
            town=cast.yeshan.town,
            week_start=WEEK,
            headline="“三字诀”推动走访慰问见行见效",
            body="高位谋划。",
            submitted_by=cast.yeshan.cadre,
        )
        withdrawn = BulletinSubmission.objects.create(
            town=cast.tongcheng.town, week_start=WEEK, headline="撤回的稿件", body="撤回。", submitted_by=cast.tongcheng.cadre
        )
        _activity(cast.tongcheng, date(2024, 1, 10), reached=300)
    bulletin_services.withdraw(actor=cast.tongcheng.cadre, submission=withdrawn)
    bulletin = bulletin_draft(week_start=WEEK)
    first, second = bulletin.items.order_by("order")
    assert (first.town, first.source, first.submission_id, first.headline) == (
        cast.yeshan.town,
        "submitted",
        sub.pk,
        sub.headline,
    )
    assert second.town == cast.tongcheng.town and second.source == "generated"
    with pytest.raises(ValidationError, match="已被组织部采用"):
        bulletin_services.withdraw(actor=cast.yeshan.cadre, submission=sub)
    with pytest.raises(ValidationError, match="已撤回"):
        bulletin_services.use_submission(actor=cast.county_viewer, bulletin=bulletin, submission=withdrawn)


def test_a_town_withdraws_its_unused_submission_from_its_page(client, week_data):
    cast = week_data
    with unscoped():
        sub = BulletinSubmission.objects.create(
            town=cast.yeshan.town, week_start=WEEK, headline="本周做法", body="正文。", submitted_by=cast.yeshan.cadre
        )
    client.force_login(cast.yeshan.admin)
    page = client.get(reverse("reports:submission_detail", args=[sub.pk])).content.decode()
    assert 'data-testid="withdraw"' in page
    assert client.post(reverse("reports:submission_withdraw", args=[sub.pk])).status_code == 302
    sub.refresh_from_db()
    assert sub.withdrawn_at is not None
    assert "已撤回" in client.get(reverse("reports:submission_list")).content.decode()
    assert AuditRecord.objects.filter(action="bulletin.submission_withdraw", object_id=str(sub.pk)).count() == 1
    client.force_login(cast.tongcheng.admin)  # another town's: a 404
    assert client.post(reverse("reports:submission_withdraw", args=[sub.pk])).status_code == 404
    client.force_login(cast.county_viewer)
    bulletin = bulletin_draft(week_start=WEEK)
    assert "本周做法" not in client.get(reverse("reports:bulletin_edit", args=[bulletin.pk])).content.decode()


def test_a_town_left_out_moves_to_the_closing_sentence_and_back(week_data):
    cast = week_data
    with unscoped():
        _activity(cast.tongcheng, date(2024, 1, 10), reached=3000)
    bulletin = bulletin_draft(week_start=WEEK)
    tongcheng = bulletin.items.get(town=cast.tongcheng.town)
    assert tongcheng.included and bulletin.closing == ""
    bulletin_services.set_included(actor=cast.county_viewer, item=tongcheng, included=False)
    bulletin.refresh_from_db()
    assert bulletin.closing.startswith("此外，铜城镇本周共") and "惠及群众3000人" in bulletin.closing
    # The editor's own closing is kept by a redraft and by later choices.
    bulletin_services.update_header(
        actor=cast.county_viewer,
        bulletin=bulletin,
        title=bulletin.title,
        topic=bulletin.topic,
        issuing_unit=bulletin.issuing_unit,
        issue_date=bulletin.issue_date,
        report_to=bulletin.report_to,
        copy_to=bulletin.copy_to,
        lead=bulletin.lead,
        closing="其余镇（街道）也结合实际开展走访慰问。",
    )
    bulletin_services.set_included(actor=cast.county_viewer, item=tongcheng, included=True)
    bulletin = bulletin_draft(week_start=WEEK)
    assert bulletin.closing == "其余镇（街道）也结合实际开展走访慰问。" and bulletin.text_edited
