"""Grants and receipts for the grant tests and the access matrix rows (issue 5 §2)."""

import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.scoping import unscoped
from funds import services
from funds.models import Disbursement
from tests.cast import at

# The smallest files each magic-byte check accepts; the rest of the bytes is arbitrary.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"signature-photo" * 20
PNG = b"\x89PNG\r\n\x1a\n" + b"thumbprint" * 20
PDF = b"%PDF-1.4\n" + b"roster page scan" * 20


def upload(content: bytes = JPEG, name: str = "签字.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def make_grant(tc, *, actor=None, person=None, amount="300.00", campaign=None, **overrides):
    """A cash grant of a town cast (tc: cast.yeshan or cast.tongcheng), made through the service."""
    kwargs = {
        "actor": actor or tc.cadre,
        "beneficiary": person or tc.person,
        "kind": "cash",
        "amount": Decimal(amount),
        "handed_at": at(2024, 1, 9, 10, 30),
        "idempotency_key": uuid.uuid4(),
        "campaign": campaign,
    }
    kwargs.update(overrides)
    if kwargs["kind"] == "goods":
        kwargs.pop("amount")
    return services.disbursement_create(**kwargs)[0]


def tongcheng_grant(cast) -> dict:
    return {"pk": make_grant(cast.tongcheng, campaign=cast.campaign).pk}


def tongcheng_grant_query(cast) -> dict:
    return {"grants": make_grant(cast.tongcheng).pk}


def tongcheng_receipt(cast) -> dict:
    grant = make_grant(cast.tongcheng)
    receipt = services.receipt_attach(actor=cast.tongcheng.cadre, disbursements=[grant], kind="signature", uploaded_file=upload())
    return {"pk": receipt.pk}


def reissue_form(cast) -> dict:
    return {
        "idempotency_key": str(uuid.uuid4()),
        "kind": "cash",
        "amount": "500",
        "handed_at": "2024-01-09T10:30",
        "source": "town_finance",
        "reason": "矩阵测试：金额录入错误",
    }


def receipt_form(cast) -> dict:
    # Called before every POST: it names the other town's grant already made, and writes nothing.
    with unscoped():
        grant = Disbursement.objects.filter(town=cast.tongcheng.town).latest("id")
    return {"grants": [grant.pk], "kind": "signature", "file": upload()}


@pytest.fixture
def private_cache_and_media(settings, tmp_path):
    """Receipts under a temporary MEDIA_ROOT; a cache of this test's own, so filter choices cached
    by an earlier test (other ids) are not offered here."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": str(tmp_path)}}
