"""Money and goods under audit, and the audit trail itself."""

from django.db import models
from django.db.models import Q

from core.scoping import AreaScoped, ScopedManager, ScopedQuerySet
from towns.models import Beneficiary, Cadre, GridCell, Town
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


# What "handed out" means, once for every page, file and rule (see DisbursementQuerySet.handed_out).
HANDED_OUT_STATUS = "issued"
HANDED_OUT_APPROVAL = ("not_required", "approved")


def handed_out_sql(alias: str = "d") -> str:
    """The same definition as SQL, for the dashboard rollups' raw statements (reports/rollups.py).

    Built from the constants above, so the two cannot drift apart silently; a test
    (tests/funds/test_handed_out.py) also compares the rollups with the queryset on data holding
    pending, rejected, voided and reissued grants."""
    approvals = ", ".join(f"'{value}'" for value in HANDED_OUT_APPROVAL)
    return f"{alias}.status = '{HANDED_OUT_STATUS}' AND {alias}.approval_status IN ({approvals})"


class DisbursementQuerySet(ScopedQuerySet):
    def handed_out(self):
        """Grants that count as handed out: issued (not voided), and needing no approval or approved.

        - 待审批 (pending): not counted until a town admin approves it. A grant above the threshold
          is a request to hand out that much; counting it before the decision would put in totals,
          budgets, the bulletin and the roster money nobody has agreed to. Pages show pending grants
          apart (their own 待审批 column, filter or note), never inside the totals.
        - 未通过 (rejected): never counted; the record stays, as every grant does.
        - 已作废 (voided): never counted; the money went back (a wrong entry) and a correction, if
          any, is its own grant (``replaces``) counted like any other. Only the 事后补录 rule reads
          voided grants, to find one "reissued" to somebody else.

        The dashboard rollups' SQL is ``handed_out_sql()``, built from the same constants.
        """
        return self.filter(handed_out_q())

    def pending_approval(self):
        """Issued grants waiting for a town admin's decision: shown apart, not counted as handed out."""
        return self.filter(status=HANDED_OUT_STATUS, approval_status="pending")


def handed_out_q(prefix: str = "") -> Q:
    """handed_out() as a Q, for filtered aggregates (``Sum(..., filter=handed_out_q())``) and joins."""
    return Q(**{f"{prefix}status": HANDED_OUT_STATUS, f"{prefix}approval_status__in": HANDED_OUT_APPROVAL})


class Disbursement(AreaScoped):
    """One grant of cash, bank transfer or goods. Never edited or deleted: voided, then reissued."""

    class Kind(models.TextChoices):
        CASH = "cash", "现金"
        TRANSFER = "transfer", "银行转账"
        GOODS = "goods", "慰问品"

    class Status(models.TextChoices):
        ISSUED = "issued", "已发放"
        VOIDED = "voided", "已作废"

    class ApprovalStatus(models.TextChoices):
        NOT_REQUIRED = "not_required", "无需审批"
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已审批"
        REJECTED = "rejected", "未通过"

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="disbursements", verbose_name="镇（街道）")
    cell = models.ForeignKey(GridCell, on_delete=models.PROTECT, related_name="disbursements", verbose_name="小网格")
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="disbursements", verbose_name="慰问对象")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="disbursements", verbose_name="专项活动"
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="disbursements", verbose_name="走访记录"
    )
    kind = models.CharField("发放方式", max_length=10, choices=Kind.choices)
    source = models.CharField("经费来源", max_length=16, choices=Budget.Source.choices, default=Budget.Source.TOWN_FINANCE)
    amount = models.DecimalField("金额（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    goods_item = models.ForeignKey(
        GoodsItem, on_delete=models.PROTECT, null=True, blank=True, related_name="disbursements", verbose_name="慰问品"
    )
    quantity = models.PositiveIntegerField("数量", null=True, blank=True)
    proxy_name = models.CharField("代领人", max_length=30, blank=True)
    proxy_relation = models.CharField("代领人关系", max_length=20, blank=True)
    handed_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="disbursements_handed", verbose_name="发放人")
    handed_at = models.DateTimeField("发放时间")
    recorded_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="disbursements_recorded", verbose_name="登记人")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    receipt = models.ForeignKey(
        "Receipt", on_delete=models.PROTECT, null=True, blank=True, related_name="disbursements", verbose_name="签领凭证"
    )
    account_holder = models.CharField("收款账户户名", max_length=30, blank=True, help_text="银行转账时填写")
    approval_status = models.CharField("审批", max_length=12, choices=ApprovalStatus.choices, default=ApprovalStatus.NOT_REQUIRED)
    approved_by = models.ForeignKey(
        Cadre, on_delete=models.PROTECT, null=True, blank=True, related_name="disbursements_approved", verbose_name="审批人"
    )
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    approval_note = models.CharField("审批意见", max_length=200, blank=True)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.ISSUED)
    void_reason = models.CharField("作废原因", max_length=200, blank=True)
    voided_by = models.ForeignKey(
        Cadre, on_delete=models.PROTECT, null=True, blank=True, related_name="disbursements_voided", verbose_name="作废人"
    )
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by", verbose_name="更正自"
    )
    idempotency_key = models.UUIDField("提交编号", unique=True, editable=False)
    # A cash grant to a minor is handed to, or signed for by, a guardian (disbursement_create).
    guardian_name = models.CharField("监护人", max_length=30, blank=True)
    guardian_relation = models.CharField("监护人与对象关系", max_length=20, blank=True)
    # Why the grant waits for approval (funds.services.approval_reasons), for the approver to read.
    approval_reason = models.CharField("待审批原因", max_length=200, blank=True)

    objects = ScopedManager.from_queryset(DisbursementQuerySet)()

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
            models.CheckConstraint(
                condition=Q(guardian_name="") | ~Q(guardian_relation=""),
                name="disbursement_guardian_has_relation",
                violation_error_message="须填写监护人与对象的关系",
            ),
            models.CheckConstraint(
                condition=Q(approval_status__in=["not_required", "pending"]) | Q(approved_by__isnull=False),
                name="disbursement_decision_has_approver",
            ),
            # Nobody approves their own grant (also refused by the service, with a message).
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | (~Q(approved_by=models.F("handed_by")) & ~Q(approved_by=models.F("recorded_by"))),
                name="disbursement_not_self_approved",
                violation_error_message="不能审批自己经手的发放",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "town", "status"], name="disb_campaign_town_status"),
            models.Index(fields=["beneficiary", "campaign"], name="disb_person_campaign"),
            models.Index(fields=["town", "handed_at"], name="disb_town_time"),
            # Id order within a town or a cell (the grant list itself pages newest first: disb_town_time, disb_time).
            models.Index(fields=["town", "id"], name="disb_town_id"),
            models.Index(fields=["cell", "id"], name="disb_cell_id"),
            # The county's grant list, newest handed out first (towns use disb_town_time).
            models.Index(fields=["handed_at"], name="disb_time"),
        ]

    @property
    def counts_as_handed_out(self) -> bool:
        """The row-level twin of Disbursement.objects.handed_out()."""
        return self.status == HANDED_OUT_STATUS and self.approval_status in HANDED_OUT_APPROVAL

    def __str__(self):
        what = f"¥{self.amount}" if self.amount else f"{self.goods_item} ×{self.quantity}"
        return f"{self.beneficiary.name} {what}"


class Receipt(AreaScoped):
    """签领凭证: a signature or thumbprint photo for one grant, or a scanned signed roster page
    covering several. The file's SHA-256 finds the same image reused for different people."""

    class Kind(models.TextChoices):
        SIGNATURE = "signature", "签字照片"
        THUMBPRINT = "thumbprint", "手印照片"
        ROSTER_PAGE = "roster_page", "签领花名册扫描页"

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="receipts", verbose_name="镇（街道）")
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    file = models.FileField("文件", upload_to="receipts/%Y/%m/")
    sha256 = models.CharField("文件摘要", max_length=64, db_index=True, editable=False)
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="receipts_uploaded", verbose_name="上传人")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "签领凭证"
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class GoodsStock(AreaScoped):
    """慰问品 in a town's store. quantity never goes below zero: the database refuses it."""

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="goods_stock", verbose_name="镇（街道）")
    goods_item = models.ForeignKey(GoodsItem, on_delete=models.PROTECT, related_name="stock", verbose_name="慰问品")
    quantity = models.IntegerField("库存数量", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "慰问品库存"
        ordering = ["town", "goods_item"]
        constraints = [
            models.UniqueConstraint(fields=["town", "goods_item"], name="goodsstock_unique"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="goodsstock_never_negative", violation_error_message="库存不足"
            ),
        ]

    def __str__(self):
        return f"{self.town} {self.goods_item} {self.quantity}"


class StockMovement(AreaScoped):
    """入库 and 出库 of goods; a voided goods grant puts its quantity back (退回)."""

    class Kind(models.TextChoices):
        RECEIVED = "in", "入库"
        HANDED_OUT = "out", "出库"
        RETURNED = "return", "作废退回"

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="stock_movements", verbose_name="镇（街道）")
    goods_item = models.ForeignKey(GoodsItem, on_delete=models.PROTECT, related_name="movements", verbose_name="慰问品")
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    quantity = models.PositiveIntegerField("数量")
    disbursement = models.ForeignKey(
        Disbursement, on_delete=models.PROTECT, null=True, blank=True, related_name="stock_movements", verbose_name="发放记录"
    )
    source = models.CharField("来源或说明", max_length=120, blank=True)
    recorded_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="stock_movements", verbose_name="登记人")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "慰问品出入库"
        ordering = ["-recorded_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="stockmovement_quantity_positive")]


class ConflictDeclaration(AreaScoped):
    """A cadre's declaration of close relatives (亲属申报), renewed when it changes."""

    cadre = models.OneToOneField(Cadre, on_delete=models.PROTECT, related_name="conflict_declaration", verbose_name="干部")
    town = models.ForeignKey(Town, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="镇（街道）")
    declared_at = models.DateTimeField("申报时间")
    nothing_to_declare = models.BooleanField("无需申报的近亲属", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "亲属申报"

    def __str__(self):
        return f"{self.cadre.name} 亲属申报"


class DeclaredRelative(AreaScoped):
    """One declared relative; the ID number is stored like any other (encrypted, HMAC to match)."""

    declaration = models.ForeignKey(ConflictDeclaration, on_delete=models.CASCADE, related_name="relatives", verbose_name="申报")
    name = models.CharField("姓名", max_length=30)
    relation = models.CharField("关系", max_length=20)
    id_number_encrypted = models.TextField("身份证号（加密）", editable=False)
    id_number_digest = models.CharField("身份证号摘要", max_length=64, db_index=True, editable=False)
    id_number_masked = models.CharField("身份证号", max_length=18, editable=False)

    scope_town_path = "declaration__town_id"

    class Meta:
        verbose_name = verbose_name_plural = "申报亲属"
        ordering = ["declaration", "id"]

    def __str__(self):
        return f"{self.name}（{self.relation}）"


class InspectionFlag(AreaScoped):
    """A known abuse found by a rule (funds/inspection.py), naming the records and why."""

    class Rule(models.TextChoices):
        DUPLICATE = "duplicate", "重复发放"
        ABOVE_STANDARD = "above_standard", "超标准"
        RELATIVE = "relative", "亲情牌/优亲厚友"
        NOT_TARGETED = "not_targeted", "对象不符"
        NO_VISIT = "no_visit", "无走访"
        NO_RECEIPT = "no_receipt", "无签领"
        OVER_BUDGET = "over_budget", "超预算"
        LATE_ENTRY = "late_entry", "事后补录"
        BULK_SIGNING = "bulk_signing", "集中录入、签领雷同"
        OFF_LIST = "off_list", "名单外发放"

    class Status(models.TextChoices):
        OPEN = "open", "待核查"
        CLEARED = "cleared", "已不再触发"

    rule = models.CharField("规则", max_length=16, choices=Rule.choices)
    key = models.CharField("识别键", max_length=200, help_text="同一问题重复计算时用来合并")
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="inspection_flags", verbose_name="镇（街道）")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="inspection_flags", verbose_name="专项活动"
    )
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, null=True, blank=True, related_name="inspection_flags", verbose_name="慰问对象"
    )
    disbursements = models.ManyToManyField(Disbursement, blank=True, related_name="inspection_flags", verbose_name="涉及发放")
    summary = models.CharField("说明", max_length=300)
    details = models.JSONField("依据", default=dict, blank=True, help_text="规则阈值和计算所得的数值")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    first_raised_at = models.DateTimeField("首次发现", auto_now_add=True)
    last_seen_at = models.DateTimeField("最近一次计算")
    cleared_at = models.DateTimeField("不再触发时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "监督预警"
        ordering = ["-first_raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="inspectionflag_unique_key")]
        indexes = [models.Index(fields=["town", "rule", "status"], name="flag_town_rule_status")]

    def __str__(self):
        return f"{self.title}：{self.summary}"

    @property
    def title(self) -> str:
        """What this flag found, in words: rule 9 finds two different things (its key says which)."""
        if self.rule == self.Rule.BULK_SIGNING:
            return "签领雷同" if self.key.startswith("image-") else "集中录入"
        return self.get_rule_display()


class Finding(AreaScoped):
    """An inspector's finding on a flag (核实中 / 属实 / 排除); the latest one is the flag's verdict."""

    class Verdict(models.TextChoices):
        CHECKING = "checking", "核实中"
        CONFIRMED = "confirmed", "属实"
        DISMISSED = "dismissed", "排除"

    flag = models.ForeignKey(InspectionFlag, on_delete=models.PROTECT, related_name="findings", verbose_name="预警")
    verdict = models.CharField("核查结论", max_length=10, choices=Verdict.choices)
    notes = models.TextField("核查情况")
    inspector = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="findings", verbose_name="核查人")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    scope_town_path = "flag__town_id"

    class Meta:
        verbose_name = verbose_name_plural = "核查结论"
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(notes=""), name="finding_has_notes")]
