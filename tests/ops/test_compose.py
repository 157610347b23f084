"""docker-compose.yml, checked without a Docker engine (none is reachable here): parsed with PyYAML
(merge keys and all) and held to what issue 14 §6 asks of the production shape."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat", "backup")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_only_the_tls_proxy_is_published(compose):
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert services["proxy"]["ports"] == ["80:80", "443:443"]
    assert services["proxy"]["image"].startswith("caddy:")
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "Strict-Transport-Security" in caddyfile and "max-age=31536000" in caddyfile
    assert "reverse_proxy {$NUANXIN_UPSTREAM:web:8000}" in caddyfile
    assert services["web"]["environment"]["BEHIND_TLS_PROXY"] == "true"


def test_every_service_rotates_its_logs_and_the_app_has_limits(compose):
    for name, service in compose["services"].items():
        options = service["logging"]["options"]
        assert service["logging"]["driver"] == "json-file" and options["max-size"] and options["max-file"], name
    for name in ("web", "worker", "beat", "backup", "proxy", "redis"):
        assert compose["services"][name]["deploy"]["resources"]["limits"]["memory"], name


def test_worker_and_beat_have_health_checks_and_beat_keeps_its_schedule(compose):
    beat = compose["services"]["beat"]
    assert beat["healthcheck"]["test"][:4] == ["CMD", "python", "manage.py", "heartbeat_check"]
    schedule = beat["command"][beat["command"].index("--schedule") + 1]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in beat["volumes"]}
    assert Path(schedule).parent.as_posix() in mounts and mounts[Path(schedule).parent.as_posix()] in compose["volumes"]
    assert "heartbeat_check" in compose["services"]["worker"]["healthcheck"]["test"]


def test_a_nightly_backup_with_retention(compose):
    backup = compose["services"]["backup"]
    assert backup["command"] == ["sh", "deploy/backup-loop.sh"]
    assert "BACKUP_KEEP_DAYS" in backup["environment"]
    script = (ROOT / "deploy" / "backup-loop.sh").read_text()
    assert "manage.py backup" in script and "-mtime +" in script


def test_the_app_services_need_the_database_and_broker_urls(compose):
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://") and environment["REDIS_URL"].startswith("redis://")


def test_the_production_image_has_no_test_tools():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "sed '/^# Tests and quality/,$d' requirements.txt" in dockerfile
    requirements = (ROOT / "requirements.txt").read_text()
    runtime = requirements.split("# Tests and quality")[0]
    for tool in ("pytest", "playwright", "ruff", "factory-boy", "honcho", "time-machine"):
        assert tool not in runtime.lower(), tool
    assert "postgresql-client-15" in dockerfile  # pg_dump / pg_restore for backup and restore


def test_every_variable_compose_reads_is_documented():
    text = (ROOT / "docker-compose.yml").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in sorted(set(re.findall(r"\$\{([A-Z_]+)", text))):
        assert re.search(rf"^#? ?{name}=", example, re.MULTILINE), name
