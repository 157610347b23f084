"""The demo's receipts have real files behind them (issue 12 §2): no link to nothing, anywhere.

The tiny demo is built once for the module inside a transaction rolled back at the end, with its
files under a temporary MEDIA_ROOT.
"""

import hashlib
import re
from collections import Counter
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from core.scoping import unscoped
from demo import load
from funds.models import Disbursement, Receipt
from towns.models import Town


@pytest.fixture(scope="module")
def media(django_db_setup, django_db_blocker, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo-media")
    with override_settings(MEDIA_ROOT=root), django_db_blocker.unblock(), transaction.atomic():
        load.build("tiny")
        yield root
        transaction.set_rollback(True)


def test_every_receipt_is_a_real_pdf_stored_as_an_upload_with_its_digest(media, db):
    with unscoped():
        receipts = list(Receipt.objects.all())
    assert len(receipts) > 20
    for receipt in receipts:
        assert re.fullmatch(r"receipts/\d{4}/\d{2}/demo-\d+\.pdf", receipt.file.name), receipt.file.name
        content = (Path(media) / receipt.file.name).read_bytes()
        assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
        assert hashlib.sha256(content).hexdigest() == receipt.sha256
    # 秦栏镇's reused page (签领雷同) is one file under two receipts, in each campaign the demo holds;
    # no other town shares a file.
    shared = {digest for digest, n in Counter(r.sha256 for r in receipts).items() if n > 1}
    assert shared
    with unscoped():
        towns = set(Town.objects.filter(receipts__sha256__in=shared).values_list("name", flat=True))
    assert towns == {"秦栏镇"}


def test_every_receipt_link_in_the_demo_opens_its_file(media, db, client):
    with unscoped():
        first_grant = {}
        for grant_id, receipt_id in (
            Disbursement.objects.filter(receipt__isnull=False).order_by("id").values_list("id", "receipt_id")
        ):
            first_grant.setdefault(receipt_id, grant_id)
        inspector = demo_user("inspector")
    client.force_login(inspector)
    for receipt_id, grant_id in first_grant.items():
        page = client.get(reverse("funds:grant_detail", args=[grant_id])).content.decode()
        assert "文件待补" not in page
        link = reverse("funds:receipt_file", args=[receipt_id])
        assert f'href="{link}"' in page
        response = client.get(link)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_a_receipt_whose_file_is_gone_shows_as_to_be_supplied_without_a_link(media, db, client):
    with unscoped():
        grant = Disbursement.objects.filter(receipt__isnull=False).select_related("receipt").first()
    path = Path(media) / grant.receipt.file.name
    kept = path.read_bytes()
    path.unlink()
    try:
        client.force_login(demo_user("inspector"))
        page = client.get(reverse("funds:grant_detail", args=[grant.pk])).content.decode()
        assert "文件待补" in page
        assert reverse("funds:receipt_file", args=[grant.receipt_id]) not in page
    finally:
        path.write_bytes(kept)


def demo_user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)
