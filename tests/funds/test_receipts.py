"""Signed receipts (签领, issue 5 §2): a photo for one grant or a roster page for several; the file
is checked by its first bytes, capped in size, fingerprinted, kept private and every view recorded."""

import hashlib
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditRecord
from core.scoping import unscoped
from funds import services
from funds.models import Disbursement, Receipt
from tests.cast import at
from tests.funds.grant_objects import JPEG, PDF, PNG, make_grant, private_cache_and_media, upload  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("private_cache_and_media")


@pytest.fixture(autouse=True)
def jan10():
    with time_machine.travel(at(2024, 1, 10, 16), tick=False):
        yield


def attach(cast, grants, kind="signature", content=JPEG, name="签字.jpg", actor=None):
    return services.receipt_attach(
        actor=actor or cast.yeshan.cadre, disbursements=grants, kind=kind, uploaded_file=upload(content, name)
    )


def receipt_records(grant):
    with unscoped():
        return list(AuditRecord.objects.filter(object_id=str(grant.pk), action="disbursement.receipt").order_by("id"))


def test_a_signature_photo_is_stored_privately_with_its_fingerprint(cast):
    grant = make_grant(cast.yeshan)
    receipt = attach(cast, [grant])
    with unscoped():
        grant.refresh_from_db()
    assert grant.receipt == receipt
    assert receipt.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert receipt.file.name.startswith("receipts/2024/01/") and receipt.file.name.endswith(".jpg")
    assert not Path(receipt.file.name).is_absolute()  # MEDIA_ROOT-relative
    assert "签字" not in receipt.file.name and receipt.original_name == "签字.jpg"
    assert (Path(settings.MEDIA_ROOT) / receipt.file.name).read_bytes() == JPEG
    [record] = receipt_records(grant)
    assert record.after["sha256"] == receipt.sha256 and record.before == {"receipt_id": None}


@pytest.mark.parametrize(
    ("content", "ok"),
    [
        (JPEG, True),
        (PNG, True),
        (PDF, True),
        (b"GIF89a" + b"x" * 50, False),
        (b"<html><script>alert(1)</script>", False),
        (b"PK\x03\x04zip", False),
    ],
)
def test_only_jpeg_png_and_pdf_by_their_first_bytes(cast, content, ok):
    grant = make_grant(cast.yeshan)
    if ok:
        attach(cast, [grant], content=content, name="whatever.bin")
        return
    with pytest.raises(ValidationError) as error:
        attach(cast, [grant], content=content, name="签字.jpg")  # the name proves nothing
    assert error.value.message_dict["file"] == ["只能上传 JPG、PNG 图片或 PDF 扫描件"]
    with unscoped():
        assert not Receipt.objects.exists()
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.*"))


def test_files_above_ten_megabytes_are_refused(cast):
    grant = make_grant(cast.yeshan)
    with pytest.raises(ValidationError) as error:
        attach(cast, [grant], content=JPEG + b"\0" * (10 * 1024 * 1024))
    assert "超过 10 MB" in error.value.message_dict["file"][0]
    attach(cast, [grant], content=JPEG + b"\0" * (10 * 1024 * 1024 - len(JPEG)))  # exactly 10 MB is fine


def test_a_roster_page_covers_several_grants(cast):
    grants = [
        make_grant(cast.yeshan, person=cast.yeshan.person),
        make_grant(cast.yeshan, person=cast.yeshan.person_other_cell),
        make_grant(cast.yeshan, person=cast.yeshan.person, amount="100.00"),
    ]
    receipt = attach(cast, grants, kind="roster_page", content=PDF, name="花名册第3页.pdf")
    with unscoped():
        assert set(Disbursement.objects.filter(receipt=receipt).values_list("pk", flat=True)) == {g.pk for g in grants}
        assert Receipt.objects.count() == 1
    for grant in grants:
        [record] = receipt_records(grant)
        assert record.after["covers"] == 3


def test_a_photo_is_for_one_grant_and_voided_or_other_towns_grants_are_refused(cast):
    one, two = make_grant(cast.yeshan), make_grant(cast.yeshan, amount="100.00")
    with pytest.raises(ValidationError) as error:
        attach(cast, [one, two], kind="thumbprint")
    assert "签字或手印照片只能对应一条发放记录" in error.value.message_dict["kind"][0]
    services.disbursement_void(actor=cast.yeshan.cadre, disbursement=two, reason="录错")
    with pytest.raises(ValidationError) as error:
        attach(cast, [one, two], kind="roster_page")
    assert "已作废的发放记录不能上传签领凭证" in error.value.message_dict["disbursements"]
    with pytest.raises(ValidationError) as error:
        attach(cast, [one, make_grant(cast.tongcheng)], kind="roster_page")
    assert error.value.message_dict["disbursements"] == ["发放记录不存在或不在您的管辖范围内"]
    with unscoped():
        assert not Receipt.objects.exists()


def test_the_same_image_for_different_people_has_the_same_fingerprint(cast):
    """What the inspection rule 集中录入、签领雷同 (签领雷同) looks for: one signature photo reused for several people."""
    first = attach(cast, [make_grant(cast.yeshan, person=cast.yeshan.person)], name="a.jpg")
    second = attach(cast, [make_grant(cast.yeshan, person=cast.yeshan.person_other_cell)], name="b.jpg")
    assert first.pk != second.pk and first.sha256 == second.sha256
    with unscoped():
        assert Receipt.objects.filter(sha256=first.sha256).count() == 2


def test_replacing_a_receipt_keeps_the_old_one_in_the_audit_trail(cast):
    grant = make_grant(cast.yeshan)
    old = attach(cast, [grant])
    new = attach(cast, [grant], kind="thumbprint", content=PNG, name="手印.png")
    first, second = receipt_records(grant)
    assert (second.before, second.after["receipt_id"], second.reason) == ({"receipt_id": old.pk}, new.pk, "更换签领凭证")
    with unscoped():
        assert Receipt.objects.filter(pk=old.pk).exists()


# --- pages ---------------------------------------------------------------------------------------


def test_upload_page_opens_the_phone_camera_for_one_grant(cast, client):
    grant = make_grant(cast.yeshan)
    client.force_login(cast.yeshan.grid_worker)
    url = f"{reverse('funds:receipt_upload')}?grants={grant.pk}"
    page = client.get(url).content.decode()
    assert 'type="file"' in page and 'accept="image/*"' in page and 'capture="environment"' in page
    response = client.post(url, {"grants": [grant.pk], "kind": "signature", "file": upload()})
    assert response["Location"] == reverse("funds:grant_detail", args=[grant.pk])
    with unscoped():
        assert Disbursement.objects.get(pk=grant.pk).receipt_id is not None


def test_upload_a_roster_page_for_grants_ticked_in_the_list(cast, client):
    grants = [make_grant(cast.yeshan, person=p) for p in (cast.yeshan.person, cast.yeshan.person_other_cell)]
    client.force_login(cast.yeshan.cadre)
    listing = client.get(reverse("funds:grant_list")).content.decode()
    assert all(f'name="grants" value="{g.pk}"' in listing for g in grants)
    url = f"{reverse('funds:receipt_upload')}?grants={grants[0].pk}&grants={grants[1].pk}"
    page = client.get(url).content.decode()
    assert "签领花名册扫描页" in page and "签字照片" not in page
    bad = client.post(url, {"grants": [g.pk for g in grants], "kind": "roster_page", "file": upload(b"not an image")})
    assert "只能上传 JPG、PNG 图片或 PDF 扫描件" in bad.content.decode()
    response = client.post(url, {"grants": [g.pk for g in grants], "kind": "roster_page", "file": upload(PDF, "scan.pdf")})
    assert response.status_code == 302
    with unscoped():
        assert Disbursement.objects.filter(receipt__kind="roster_page").count() == 2


def test_upload_for_another_towns_grant_is_a_404(cast, client):
    grant = make_grant(cast.tongcheng)
    client.force_login(cast.yeshan.cadre)
    url = f"{reverse('funds:receipt_upload')}?grants={grant.pk}"
    assert client.get(url).status_code == 404
    assert client.post(url, {"grants": [grant.pk], "kind": "signature", "file": upload()}).status_code == 404


def test_receipt_download_is_protected_and_recorded(cast, client):
    grant = make_grant(cast.yeshan)
    receipt = attach(cast, [grant], kind="thumbprint", content=PNG)
    url = reverse("funds:receipt_file", args=[receipt.pk])
    assert not url.startswith(settings.MEDIA_URL)

    client.force_login(cast.inspector)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == PNG
    with unscoped():
        record = AuditRecord.objects.filter(action="personal_data.export").latest("id")
    assert record.actor == cast.inspector and record.town_id == cast.yeshan.town.pk
    assert record.after["filters"]["receipt"] == receipt.pk

    for outsider in (cast.tongcheng.cadre, cast.tongcheng.admin, cast.tongcheng.grid_worker):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    # A grid worker of the same town sees the receipts of their own cells only.
    other_cell = attach(cast, [make_grant(cast.yeshan, person=cast.yeshan.person_other_cell)])
    client.force_login(cast.yeshan.grid_worker)
    assert client.get(url).status_code == 200
    assert client.get(reverse("funds:receipt_file", args=[other_cell.pk])).status_code == 404


def test_a_missing_file_is_a_404_not_an_error(cast, client):
    receipt = attach(cast, [make_grant(cast.yeshan)])
    (Path(settings.MEDIA_ROOT) / receipt.file.name).unlink()
    client.force_login(cast.yeshan.cadre)
    assert client.get(reverse("funds:receipt_file", args=[receipt.pk])).status_code == 404
