"""What /readyz and the system admin's status line report (issue 14 §4).

Each check answers (name, ok, what a sysadmin reads). The worker and beat are judged by their
heartbeats in core_heartbeat (core/signals.py); where Celery runs in-process (the demo) they are
not needed and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone


@dataclass
class Check:
    name: str
    label: str
    ok: bool
    detail: str


def _database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Check("database", "数据库", True, "正常")
    except Exception as exc:
        return Check("database", "数据库", False, f"无法连接（{exc.__class__.__name__}）")


def _redis() -> Check:
    if not settings.REDIS_URL:
        return Check("redis", "缓存和任务队列", True, "未使用（演示模式）")
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return Check("redis", "缓存和任务队列", True, "正常")
    except Exception as exc:
        return Check("redis", "缓存和任务队列", False, f"无法连接（{exc.__class__.__name__}）")


def _ago(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 90:
        return f"{seconds}秒前"
    if seconds < 5400:
        return f"{seconds // 60}分钟前"
    return f"{seconds // 3600}小时前"


def _heartbeat(name: str, label: str, limit: int, beats: dict) -> Check:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Check(name, label, True, "未使用（任务在网页进程内执行）")
    at = beats.get(name)
    if at is None:
        return Check(name, label, False, "从未运行")
    age = (timezone.now() - at).total_seconds()
    return Check(name, label, age <= limit, f"最近一次{_ago(age)}" + ("" if age <= limit else "，已停止"))


def checks() -> list[Check]:
    database = _database()
    beats: dict = {}
    pending = None
    if database.ok:
        from core.models import Heartbeat, OutboxEvent

        try:
            beats = dict(Heartbeat.objects.values_list("name", "at"))
            stuck_before = timezone.now() - timedelta(minutes=10)
            pending = OutboxEvent.objects.filter(done_at__isnull=True, available_at__lt=stuck_before).count()
        except Exception:  # tables missing before migrate
            beats = {}
    result = [
        database,
        _redis(),
        _heartbeat("worker", "后台任务进程", settings.READY_WORKER_STALE_SECONDS, beats),
        _heartbeat("beat", "定时任务进程", settings.READY_BEAT_STALE_SECONDS, beats),
    ]
    if pending:
        # Informational: the work waits safely in the database; it is the worker that is down.
        result.append(Check("outbox", "待处理事项", True, f"{pending}项等待超过10分钟"))
    return result
