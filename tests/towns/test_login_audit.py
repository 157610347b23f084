"""Every login, failed login, logout and lockout is in the audit trail, as an inspector reads it."""

import pytest
from django.urls import reverse

from core import audit
from core.models import AuditRecord
from core.scoping import unscoped
from tests.cast import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


def login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password}, HTTP_X_REQUEST_ID="req-login-1")


def records(action):
    with unscoped():
        return list(AuditRecord.objects.filter(action=action).order_by("id"))


def test_a_successful_login_is_recorded_with_who_and_where(client, cast):
    response = login(client, "ys_cadre", PASSWORD)
    assert response.status_code == 302
    [record] = records("account.login")
    assert record.actor == cast.yeshan.cadre
    assert (record.actor_name, record.actor_role, record.actor_town) == ("冶山镇包村干部", "town_cadre", "冶山镇")
    assert record.town_id == cast.yeshan.town.pk and record.object_repr == "ys_cadre"
    # The request id is ours, never the client's header (issue 13 §2).
    assert (record.channel, record.request_id) == ("web", response["X-Request-ID"])
    assert record.request_id != "req-login-1"
    assert audit.verify_chain().ok


def test_a_failed_login_records_the_attempted_username_and_never_the_password(client, cast):
    assert login(client, "tc_admin", "Wrong-Passw0rd!").status_code == 200
    assert login(client, "nobody-here", "Wrong-Passw0rd!").status_code == 200
    known, unknown = records("account.login_failed")
    assert known.actor is None and known.object_repr == "tc_admin"
    assert known.object_id == str(cast.tongcheng.admin.pk) and known.town_id == cast.tongcheng.town.pk
    assert unknown.object_repr == "nobody-here" and unknown.object_id == "" and unknown.town_id is None
    with unscoped():
        assert not AuditRecord.objects.filter(payload__contains="Wrong-Passw0rd!").exists()
    assert records("account.login") == []


def test_logout_is_recorded(client, cast):
    login(client, "ys_grid", PASSWORD)
    client.post(reverse("logout"))
    [record] = records("account.logout")
    assert record.actor == cast.yeshan.grid_worker


def test_a_lockout_is_recorded(client, cast, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "ys_admin", "Wrong-Passw0rd!")
    assert len(records("account.login_failed")) == settings.AXES_FAILURE_LIMIT
    locked = records("account.locked")
    assert locked and locked[0].object_repr == "ys_admin" and locked[0].object_id == str(cast.yeshan.admin.pk)
    # While locked, even the right password is refused, and that attempt is recorded too.
    login(client, "ys_admin", PASSWORD)
    assert records("account.login") == []
    assert len(records("account.locked")) == len(locked) + 1
