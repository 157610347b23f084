import os
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template
from django.utils import formats, translation

from config.env import EnvError, database_from_url, env_bool, env_int


def _start_django(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ID_ENCRYPTION_KEY", "ID_HMAC_KEY", "DEBUG", "NUANXIN_DEMO"}
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_the_default_secret_key():
    result = _start_django({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_missing_id_keys():
    result = _start_django({"DEBUG": "0", "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "ID_ENCRYPTION_KEY and ID_HMAC_KEY must be set" in result.stderr


def test_bad_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(EnvError, match="SOME_FLAG must be a boolean"):
        env_bool("SOME_FLAG", False)
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(EnvError, match="SOME_NUMBER must be an integer"):
        env_int("SOME_NUMBER", 1)


def test_database_url_parsing():
    assert database_from_url("postgres://u:p%40ss@db:5433/nuanxin")["PASSWORD"] == "p@ss"
    with pytest.raises(EnvError):
        database_from_url("mysql://x/y")


def test_dates_show_and_parse_in_chinese_form():
    with translation.override("zh-hans"):
        assert formats.date_format(date(2024, 1, 9)) == "2024年1月9日"
        field = forms.DateField()
        assert field.clean("2024年1月9日") == date(2024, 1, 9)
        assert field.clean("2024-01-09") == date(2024, 1, 9)


def test_amounts_show_as_yuan_with_thousands_separators():
    rendered = Template("{% load nuanxin %}{{ a|yuan }} {{ b|yuan }}").render(Context({"a": Decimal("1234.5"), "b": 250000}))
    assert rendered == "¥1,234.50 ¥250,000.00"
    with translation.override("zh-hans"):
        assert formats.number_format(Decimal("1234567.5"), 2, force_grouping=True) == "1,234,567.50"


def test_an_oversized_request_is_refused_before_it_is_read(client, settings):
    settings.MAX_REQUEST_BYTES = 1024
    response = client.generic("POST", "/accounts/login/", b"x" * 2048, content_type="application/octet-stream")
    assert response.status_code == 413
    page = response.content.decode()
    assert "上传的文件太大" in page and "不能超过 20 MB" in page and "<html" in page  # the site's own page


def test_an_oversized_roster_upload_gets_the_limit_the_form_states(client, cast, settings):
    """Issue 16 §5: the form says 20 MB; the page answering a bigger upload says 20 MB too."""
    from django.urls import reverse

    client.force_login(cast.yeshan.cadre)
    form = client.get(reverse("towns:import_list")).content.decode()
    assert "不超过 20 MB" in form
    settings.MAX_REQUEST_BYTES = 1024
    response = client.generic("POST", reverse("towns:import_list"), b"x" * 2048, content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413
    page = response.content.decode()
    assert "文件不能超过 20 MB" in page and "返回导入花名册" in page and "25 MB" not in page
