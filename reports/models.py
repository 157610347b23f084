"""The weekly bulletin (组工信息, issue 7 §2): an issue numbered per year and its items, one per town."""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from core.scoping import AreaScoped, ScopedQuerySet
from towns.models import Town

DEFAULT_UNIT = "中共天长市委组织部研究室"
DEFAULT_REPORT_TO = "部领导，滁州市委组织部研究室，市委办公室、市政府办公室。"
DEFAULT_COPY_TO = "各镇（街道）党（工）委、市直各单位、本部各科室（电教中心）。"
# A town's own text (经验做法) for one week: about one item of the seed bulletin (its longest is ~900).
SUBMISSION_MAX_CHARS = 1500
HEADLINE_MAX_CHARS = 80


def default_title():
    return getattr(settings, "BULLETIN_TITLE", "天长组工信息")


def default_unit():
    return getattr(settings, "BULLETIN_ISSUING_UNIT", DEFAULT_UNIT)


def default_report_to():
    return getattr(settings, "BULLETIN_REPORT_TO", DEFAULT_REPORT_TO)


def default_copy_to():
    return getattr(settings, "BULLETIN_COPY_TO", DEFAULT_COPY_TO)


class Bulletin(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"

    year = models.PositiveSmallIntegerField("年度")
    # Given when the issue is published (reports/bulletin_services.publish): the printed series has no
    # gaps, whatever drafts are abandoned. A draft shows the number it would get (next_number()).
    number = models.PositiveIntegerField("期号", null=True, blank=True)
    title = models.CharField("刊名", max_length=40, default=default_title)
    issuing_unit = models.CharField("编发单位", max_length=60, default=default_unit)
    issue_date = models.DateField("印发日期")
    week_start = models.DateField("所涵盖周（周一）", unique=True)
    topic = models.CharField("专题", max_length=40, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    report_to = models.TextField("报", default=default_report_to)
    copy_to = models.TextField("送", default=default_copy_to)
    # The county paragraph before the towns' items and the sentence after them that names the towns
    # with nothing singled out (issue 12 §4). Drafted from the figures; once the editor changes
    # either (text_edited), a redraft keeps the editor's text.
    lead = models.TextField("导语", blank=True)
    closing = models.TextField("结尾", blank=True)
    text_edited = models.BooleanField("导语结尾已由编辑修改", default=False)
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
            models.CheckConstraint(condition=Q(status="draft") | Q(number__isnull=False), name="bulletin_published_has_number"),
        ]

    def __str__(self):
        if self.number is None:
            return f"{self.title} {self.year}年草稿（{self.week_start:%Y-%m-%d}起一周）"
        return f"{self.title} {self.year}年第{self.number}期"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class BulletinSequence(models.Model):
    """The last number given in a year. Publishing locks this row, so two editors publishing at
    once get consecutive numbers, never the same one and never a gap."""

    year = models.PositiveSmallIntegerField("年度", primary_key=True)
    last_number = models.PositiveIntegerField("已用期号", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "组工信息期号"

    def __str__(self):
        return f"{self.year}年已编至第{self.last_number}期"


class BulletinSeries(models.Model):
    """How issues are numbered: one row (pk 1), set by the county editor (issue 12 §4).

    restart_yearly False (the county's own series, 第118期 → 第119期): one running sequence, kept in
    BulletinSequence's row year=0; True: each year starts again at 第1期 (its row is the year).
    """

    restart_yearly = models.BooleanField("每年重新编号", default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="设置人"
    )
    updated_at = models.DateTimeField("设置时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "组工信息编号规则"

    def __str__(self):
        return "每年重新编号" if self.restart_yearly else "连续编号"

    @classmethod
    def current(cls) -> "BulletinSeries":
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    def sequence_key(self, year: int) -> int:
        return year if self.restart_yearly else 0


class BulletinSubmission(AreaScoped):
    """A town's own text for a week (经验做法), submitted by its cadres; the editor may use it as the town's item."""

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="bulletin_submissions", verbose_name="镇（街道）")
    week_start = models.DateField("所报周（周一）")
    headline = models.CharField("标题", max_length=HEADLINE_MAX_CHARS)
    body = models.TextField("正文", max_length=SUBMISSION_MAX_CHARS)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="报送人")
    submitted_at = models.DateTimeField("报送时间", auto_now_add=True)
    # A town takes back a submission the editor has not used (kept, not deleted: the audit refers to it).
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "镇（街道）报送"
        ordering = ["-week_start", "-id"]
        indexes = [models.Index(fields=["week_start", "town"], name="bulletinsub_week_town")]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), SUBMISSION_MAX_CHARS), name="bulletinsub_body_max_chars"
            ),
        ]

    def __str__(self):
        return f"{self.town}：{self.headline}（{self.week_start:%Y-%m-%d}起一周）"


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
    # Left out of the page and the .docx without losing the text (the editor's choice of towns).
    included = models.BooleanField("编入本期", default=True)
    submission = models.ForeignKey(
        BulletinSubmission,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        verbose_name="采用的报送稿",
    )

    class Meta:
        verbose_name = verbose_name_plural = "组工信息条目"
        ordering = ["bulletin", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "town"], name="bulletinitem_one_per_town"),
        ]

    def __str__(self):
        return f"{self.town}：{self.headline}"


# --- dashboard rollups (issue 7 §1) -------------------------------------------------------------
# Derived tables, rebuilt per campaign by reports.rollups.refresh_campaign() in a few set-based
# statements. Counting distinct visited people over a million visits per request does not fit the
# 50 ms budget; summing these does. Ids are plain integers: the rows are a cache of other tables,
# rebuilt whole, and must never hold up a change to what they summarise.


class CampaignTarget(models.Model):
    """One row per person a campaign targets (active, in a campaign town, in a target category),
    with the day of their first visit under the campaign (null: not reached yet)."""

    campaign_id = models.IntegerField()
    beneficiary_id = models.IntegerField()
    household_id = models.IntegerField()
    town_id = models.IntegerField()
    cell_id = models.IntegerField()
    big_cell_id = models.IntegerField(null=True)
    responsible_cadre_id = models.IntegerField(null=True)
    first_visit_on = models.DateField(null=True)

    class Meta:
        verbose_name = verbose_name_plural = "看板：活动对象"
        constraints = [models.UniqueConstraint(fields=["campaign_id", "beneficiary_id"], name="campaigntarget_unique")]
        indexes = [models.Index(fields=["campaign_id", "town_id", "cell_id"], name="campaigntarget_town_cell")]

    def __str__(self):
        return f"{self.campaign_id}/{self.beneficiary_id}"


class CellCoverage(models.Model):
    """People targeted per small cell of a campaign (the denominator of coverage)."""

    campaign_id = models.IntegerField()
    town_id = models.IntegerField()
    big_cell_id = models.IntegerField(null=True)
    cell_id = models.IntegerField()
    targeted = models.IntegerField(default=0)
    households = models.IntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "看板：网格对象数"
        constraints = [models.UniqueConstraint(fields=["campaign_id", "cell_id"], name="cellcoverage_unique")]
        indexes = [models.Index(fields=["campaign_id", "town_id"], name="cellcoverage_town")]

    def __str__(self):
        return f"{self.campaign_id}/{self.cell_id}: {self.targeted}"


class _DayCounts(models.Model):
    """Additive counts of one day (Asia/Shanghai): any date range is a SUM over its days, and
    "reached" (people whose first campaign visit fell on the day) summed up to a day is coverage."""

    campaign_id = models.IntegerField()
    town_id = models.IntegerField()
    day = models.DateField()
    visits = models.IntegerField(default=0)
    reached = models.IntegerField(default=0)
    grants = models.IntegerField(default=0)
    cash = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    goods_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    followups_raised = models.IntegerField(default=0)
    followups_closed = models.IntegerField(default=0)

    class Meta:
        abstract = True


class CellDay(_DayCounts):
    cell_id = models.IntegerField()
    big_cell_id = models.IntegerField(null=True)

    class Meta:
        verbose_name = verbose_name_plural = "看板：网格日统计"
        indexes = [
            models.Index(fields=["campaign_id", "town_id", "day"], name="cellday_town_day"),
            # A big cell's page sums only its own small cells' days, not the whole town's.
            models.Index(fields=["campaign_id", "big_cell_id", "day"], name="cellday_bigcell_day"),
        ]

    def __str__(self):
        return f"{self.campaign_id}/{self.cell_id} {self.day}"


class TownDay(_DayCounts):
    activities = models.IntegerField(default=0)
    activity_people = models.IntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "看板：镇日统计"
        indexes = [models.Index(fields=["campaign_id", "day", "town_id"], name="townday_day_town")]

    def __str__(self):
        return f"{self.campaign_id}/{self.town_id} {self.day}"


class CadreDay(models.Model):
    """Visits logged per cadre and day (the town dashboard's per-cadre column)."""

    campaign_id = models.IntegerField()
    town_id = models.IntegerField()
    cadre_id = models.IntegerField()
    day = models.DateField()
    visits = models.IntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "看板：干部日统计"
        indexes = [models.Index(fields=["campaign_id", "town_id", "day"], name="cadreday_town_day")]

    def __str__(self):
        return f"{self.campaign_id}/{self.cadre_id} {self.day}"


class CadreZone(models.Model):
    """Targeted people each cadre answers for (包保 cells and households, responsible cadre), counted
    by the day of their first campaign visit (null: not reached): coverage of a zone up to a day is a SUM."""

    campaign_id = models.IntegerField()
    town_id = models.IntegerField()
    cadre_id = models.IntegerField()
    first_visit_on = models.DateField(null=True)
    people = models.IntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "看板：干部包保对象"
        indexes = [models.Index(fields=["campaign_id", "town_id"], name="cadrezone_town")]

    def __str__(self):
        return f"{self.campaign_id}/{self.cadre_id} {self.first_visit_on}: {self.people}"


class RollupRefresh(models.Model):
    """When a campaign's rollups were last rebuilt ("数据更新于 HH:MM") and how long it took."""

    campaign_id = models.IntegerField(unique=True)
    refreshed_at = models.DateTimeField()
    took_ms = models.IntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "看板：刷新记录"

    def __str__(self):
        return f"{self.campaign_id} {self.refreshed_at}"


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
    # Stamped by the running job every half minute (core/jobs.py); none for minutes: the job is lost.
    heartbeat_at = models.DateTimeField("最近心跳", null=True, blank=True)
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
