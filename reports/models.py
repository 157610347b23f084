"""The weekly bulletin (组工信息, issue 7 §2): an issue numbered per year and its items, one per town."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from towns.models import Town

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
        indexes = [models.Index(fields=["campaign_id", "town_id", "day"], name="cellday_town_day")]

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
