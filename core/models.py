from django.conf import settings
from django.db import models

from core.scoping import AreaScoped, ScopedManager


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


class AuditRecord(AreaScoped):
    """One append-only, hash-chained entry of the audit trail.

    ``payload`` is the exact text that was hashed; ``hash = HMAC-SHA256(AUDIT_HMAC_KEY, prev_hash + payload)``
    (plain SHA-256 where ``keyed`` is false: the database trigger's records). Each town has its own
    chain (``chain`` = town id, 0 = the county's), so writers in two towns never wait for each other.
    The other columns repeat the payload for filtering; verify_audit checks that they agree.
    On PostgreSQL the table rejects UPDATE, DELETE and TRUNCATE (migration funds 0002) and the
    application's database role may only read and insert (core/db_roles.py).
    """

    class Channel(models.TextChoices):
        WEB = "web", "网页"
        IMPORT = "import", "导入"
        ADMIN = "admin", "后台"
        JOB = "job", "定时任务"
        SHELL = "shell", "命令行"
        DATABASE = "db", "数据库直接修改"

    created_at = models.DateTimeField("时间")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="操作人"
    )
    actor_name = models.CharField("操作人姓名", max_length=60, blank=True)
    actor_role = models.CharField("角色", max_length=20, blank=True)
    actor_town = models.CharField("操作人所属镇", max_length=50, blank=True)
    town = models.ForeignKey(
        settings.SCOPE_AREA_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="对象所属镇",
    )
    action = models.CharField("操作", max_length=40, db_index=True)
    object_type = models.CharField("对象类型", max_length=60, blank=True)
    object_id = models.CharField("对象编号", max_length=40, blank=True)
    object_repr = models.CharField("对象", max_length=120, blank=True)
    before = models.JSONField("修改前", null=True, blank=True)
    after = models.JSONField("修改后", null=True, blank=True)
    reason = models.CharField("原因", max_length=300, blank=True)
    request_id = models.CharField("请求编号", max_length=40, blank=True)
    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    payload = models.TextField("签名内容", editable=False)
    prev_hash = models.CharField("上一条哈希", max_length=64, editable=False)
    hash = models.CharField("哈希", max_length=64, unique=True, editable=False)
    chain = models.PositiveIntegerField("审计链", default=0, db_default=0, editable=False)
    keyed = models.BooleanField("密钥签名", default=False, db_default=False, editable=False)

    # Records without a town (logins, county-level actions) are visible to county roles only.
    objects = ScopedManager()

    class Meta:
        # The table keeps the name it had in funds: the triggers (migrations funds 0002, 0008) and
        # the app role's grants name it, and no data moved when the model came to core.
        db_table = "funds_auditrecord"
        verbose_name = verbose_name_plural = "审计记录"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["town", "created_at"], name="audit_town_time"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_time"),
            models.Index(fields=["chain", "-id"], name="audit_chain_head"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.action} {self.object_repr}"
