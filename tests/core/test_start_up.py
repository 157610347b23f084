"""A deployment that refuses to start wrong (issue 14 §6)."""

import os
import subprocess
import sys

import pytest

KEYS = {
    "SECRET_KEY": "x" * 50,
    "ID_ENCRYPTION_KEY": "cHJvZHVjdGlvbi1saWtlLWlkLWtleS0wMDAwMDAwMDA=",
    "ID_HMAC_KEY": "production-like-hmac-key",
}


def _start(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "NUANXIN_DEMO", "DEBUG", *KEYS}}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import django; django.setup()"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **KEYS, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_production_names_the_missing_url(missing):
    urls = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    urls.pop(missing)
    result = _start(**urls)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_the_demo_still_starts_without_them():
    assert _start(NUANXIN_DEMO="1").returncode == 0
