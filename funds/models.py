"""Money and goods under audit, and the audit trail itself."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from towns.models import Beneficiary, Cadre, GridCell, Town
from towns.scoping import AreaScoped, ScopedManager
from visits.models import Campaign, Visit


class Budget(AreaScoped):
    class Source(models.TextChoices):
        TOWN_FINANCE = "town_finance", "镇财政"
        PARTY_FEES = "party_fees", "党费"
        CIVIL_AFFAIRS = "civil_affairs", "民政"
        CHARITY = "charity", "慈善"
        OTHER = "other", "其他"

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="budgets", verbose_name="专项活动")
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="budgets", verbose_name="镇（街道）")
    source = models.CharField("经费来源", max_length=16, choices=Source.choices)
    amount = models.DecimalField("预算金额（元）", max_digits=12, decimal_places=2)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "经费预算"
        ordering = ["campaign", "town", "source"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "town", "source"], name="budget_unique_per_source"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_nonnegative"),
        ]

    def __str__(self):
        return f"{self.town} {self.get_source_display()} ¥{self.amount}"


class GoodsItem(models.Model):
    """慰问品: what is handed out, with its unit and value per unit."""

    name = models.CharField("名称", max_length=60, unique=True)
    unit = models.CharField("单位", max_length=10)
    unit_value = models.DecimalField("单价（元）", max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "慰问品"
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(unit_value__gte=0), name="goods_unit_value_nonnegative")]

    def __str__(self):
        return f"{self.name}（{self.unit}）"


class Disbursement(AreaScoped):
    """One grant of cash, bank transfer or goods. Never edited or deleted: voided, then reissued."""

    class Kind(models.TextChoices):
        CASH = "cash", "现金"
        TRANSFER = "transfer", "银行转账"
        GOODS = "goods", "慰问品"

    class Status(models.TextChoices):
        ISSUED = "issued", "已发放"
        VOIDED = "voided", "已作废"

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="disbursements", verbose_name="镇（街道）")
    cell = models.ForeignKey(GridCell, on_delete=models.PROTECT, related_name="disbursements", verbose_name="小网格")
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="disbursements", verbose_name="慰问对象")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="disbursements", verbose_name="专项活动")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="disbursements", verbose_name="走访记录")
    kind = models.CharField("发放方式", max_length=10, choices=Kind.choices)
    source = models.CharField("经费来源", max_length=16, choices=Budget.Source.choices, default=Budget.Source.TOWN_FINANCE)
    amount = models.DecimalField("金额（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    goods_item = models.ForeignKey(GoodsItem, on_delete=models.PROTECT, null=True, blank=True, related_name="disbursements", verbose_name="慰问品")
    quantity = models.PositiveIntegerField("数量", null=True, blank=True)
    proxy_name = models.CharField("代领人", max_length=30, blank=True)
    proxy_relation = models.CharField("代领人关系", max_length=20, blank=True)
    handed_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="disbursements_handed", verbose_name="发放人")
    handed_at = models.DateTimeField("发放时间")
    recorded_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="disbursements_recorded", verbose_name="登记人")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    receipt = models.FileField("签领凭证", upload_to="receipts/%Y/%m/", blank=True)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.ISSUED)
    void_reason = models.CharField("作废原因", max_length=200, blank=True)
    voided_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, null=True, blank=True, related_name="disbursements_voided", verbose_name="作废人")
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    replaces = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by", verbose_name="更正自")
    idempotency_key = models.UUIDField("提交编号", unique=True, editable=False)

    scope_cell_path = "cell_id"
    scope_household_path = "beneficiary__household_id"

    class Meta:
        verbose_name = verbose_name_plural = "慰问金（品）发放"
        ordering = ["-handed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=["cash", "transfer"]) & Q(amount__gt=0) & Q(goods_item__isnull=True))
                | (Q(kind="goods") & Q(goods_item__isnull=False) & Q(quantity__gt=0)),
                name="disbursement_kind_matches_content",
                violation_error_message="现金或转账须填写大于0的金额；慰问品须选择物品并填写数量",
            ),
            models.CheckConstraint(
                condition=Q(status="issued") | (~Q(void_reason="") & Q(voided_at__isnull=False)),
                name="disbursement_void_has_reason",
                violation_error_message="作废须填写原因",
            ),
            models.CheckConstraint(
                condition=Q(proxy_name="") | ~Q(proxy_relation=""),
                name="disbursement_proxy_has_relation",
                violation_error_message="代领须填写代领人与对象的关系",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "town", "status"], name="disb_campaign_town_status"),
            models.Index(fields=["beneficiary", "campaign"], name="disb_person_campaign"),
            models.Index(fields=["town", "handed_at"], name="disb_town_time"),
        ]

    def __str__(self):
        what = f"¥{self.amount}" if self.amount else f"{self.goods_item} ×{self.quantity}"
        return f"{self.beneficiary.name} {what}"


class AuditRecord(AreaScoped):
    """One append-only, hash-chained entry of the audit trail.

    ``payload`` is the exact text that was hashed; ``hash = sha256(prev_hash + payload)``.
    The other columns repeat it for filtering; verify_audit checks that they agree.
    On PostgreSQL the table rejects UPDATE, DELETE and TRUNCATE (migration funds 0002).
    """

    class Channel(models.TextChoices):
        WEB = "web", "网页"
        IMPORT = "import", "导入"
        ADMIN = "admin", "后台"
        JOB = "job", "定时任务"
        SHELL = "shell", "命令行"
        DATABASE = "db", "数据库直接修改"

    created_at = models.DateTimeField("时间")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="操作人")
    actor_name = models.CharField("操作人姓名", max_length=60, blank=True)
    actor_role = models.CharField("角色", max_length=20, blank=True)
    actor_town = models.CharField("操作人所属镇", max_length=50, blank=True)
    town = models.ForeignKey(Town, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="对象所属镇")
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

    # Records without a town (logins, county-level actions) are visible to county roles only.
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "审计记录"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["town", "created_at"], name="audit_town_time"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_time"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.action} {self.object_repr}"
