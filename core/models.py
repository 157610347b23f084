from django.db import models


class OutboxEvent(models.Model):
    """Work announced by a write, in the write's own transaction (core/outbox.py): the worker and
    beat drain it after commit, so a broker outage delays the work but never fails or loses it."""

    topic = models.CharField("事件", max_length=60)
    key = models.CharField("对象", max_length=60, blank=True)  # what coalesces: one handling per (topic, key)
    payload = models.JSONField("内容", default=dict, blank=True)
    created_at = models.DateTimeField("发生时间", auto_now_add=True)
    available_at = models.DateTimeField("可处理时间")
    done_at = models.DateTimeField("处理时间", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    last_error = models.CharField("最近一次错误", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "待办事件"
        indexes = [
            models.Index(fields=["available_at", "id"], name="outbox_pending", condition=models.Q(done_at__isnull=True)),
            models.Index(fields=["done_at"], name="outbox_done"),
        ]

    def __str__(self):
        return f"{self.topic} {self.key}"


class Heartbeat(models.Model):
    """The last sign of life of a background process ("worker", "beat") and the outbox's last drain:
    /readyz and the system admin's status line read these."""

    name = models.CharField("进程", max_length=40, primary_key=True)
    at = models.DateTimeField("最近一次")
    detail = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "后台进程心跳"

    def __str__(self):
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"
