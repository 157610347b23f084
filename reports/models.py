"""The weekly bulletin (组工信息, issue 7 §2): an issue numbered per year and its items, one per town."""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q

from towns.models import Town
from towns.scoping import ScopedQuerySet

DEFAULT_UNIT = "中共天长市委组织部研究室"
DEFAULT_REPORT_TO = "部领导，滁州市委组织部研究室，市委办公室、市政府办公室。"
DEFAULT_COPY_TO = "各镇（街道）党（工）委、市直各单位、本部各科室（电教中心）。"


def default_title():
    return getattr(settings, "BULLETIN_TITLE", "天长组工信息")


class Bulletin(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"

    year = models.PositiveSmallIntegerField("年度")
    number = models.PositiveIntegerField("期号")
    title = models.CharField("刊名", max_length=40, default=default_title)
    issuing_unit = models.CharField("编发单位", max_length=60, default=DEFAULT_UNIT)
    issue_date = models.DateField("印发日期")
    week_start = models.DateField("所涵盖周（周一）", unique=True)
    topic = models.CharField("专题", max_length=40, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    report_to = models.TextField("报", default=DEFAULT_REPORT_TO)
    copy_to = models.TextField("送", default=DEFAULT_COPY_TO)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="起草人"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "组工信息"
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="bulletin_number_per_year"),
            models.CheckConstraint(condition=Q(number__gte=1), name="bulletin_number_positive"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False), name="bulletin_published_has_time"
            ),
        ]

    def __str__(self):
        return f"{self.title} {self.year}年第{self.number}期"


class BulletinItem(models.Model):
    class Source(models.TextChoices):
        GENERATED = "generated", "系统生成"
        SUBMITTED = "submitted", "镇（街道）报送"
        EDITED = "edited", "编辑修改"

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="items", verbose_name="期次")
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="bulletin_items", verbose_name="镇（街道）")
    order = models.PositiveSmallIntegerField("顺序", default=0)
    headline = models.CharField("标题", max_length=80)
    body = models.TextField("正文")
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.GENERATED)

    class Meta:
        verbose_name = verbose_name_plural = "组工信息条目"
        ordering = ["bulletin", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "town"], name="bulletinitem_one_per_town"),
        ]

    def __str__(self):
        return f"{self.town}：{self.headline}"


# --- spreadsheet exports (issue 7 §3) --------------------------------------------------------


class ExportStorage(FileSystemStorage):
    """Where finished exports live: settings.EXPORT_ROOT (default MEDIA_ROOT/exports), never under a URL.

    Read on every access rather than at import, so tests (and the access matrix) can point it at a
    temporary folder. Files are served only by the download view, which checks the owner and audits.
    """

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return str(getattr(settings, "EXPORT_ROOT", "") or Path(settings.MEDIA_ROOT) / "exports")

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def deconstruct(self):
        return ("reports.models.ExportStorage", (), {})


export_storage = ExportStorage()


class ExportJobQuerySet(ScopedQuerySet):
    def for_user(self, user):
        """A user's own exports only: a file is handed to whoever asked for it, no one else."""
        qs = self.filter(requester_id=user.pk) if user is not None and user.is_authenticated else self.none()
        qs._scope_checked = True
        return qs


class ExportJob(models.Model):
    """One spreadsheet asked for from a list page: built by a Celery job, kept for EXPORT_RETENTION_DAYS."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs", verbose_name="申请人"
    )
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, null=True, blank=True, related_name="export_jobs", verbose_name="镇（街道）"
    )  # the requester's town when they asked (None: county)
    exporter = models.CharField("导出内容", max_length=20)
    params = models.JSONField("筛选条件", default=dict, blank=True)
    description = models.CharField("筛选条件说明", max_length=300, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.PositiveIntegerField("已写行数", default=0)
    rows_total = models.PositiveIntegerField("预计行数", null=True, blank=True)
    row_count = models.PositiveIntegerField("行数", null=True, blank=True)
    file = models.FileField("文件", storage=export_storage, upload_to="%Y/%m/", max_length=200, blank=True)
    size = models.PositiveBigIntegerField("文件大小", null=True, blank=True)
    error = models.CharField("失败原因", max_length=300, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    expires_at = models.DateTimeField("到期时间", db_index=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "导出文件"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requester", "-created_at"], name="exportjob_requester_recent")]

    def __str__(self):
        return f"{self.title} #{self.pk}"

    @property
    def title(self) -> str:
        from reports.exporters import EXPORTERS

        cls = EXPORTERS.get(self.exporter)
        return cls.title if cls else self.exporter

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(self.rows_done * 100 / self.rows_total))

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
