"""The work done in the field: campaigns, visits, group activities, follow-ups."""

from django.db import models
from django.db.models import Q

from core.scoping import AreaScoped, Scope
from towns.models import Beneficiary, Cadre, Category, GridCell, Household, PartyBranch, Town, Village, VolunteerTeam


class Campaign(AreaScoped):
    """专项活动 such as 2024年双节慰问: dates, towns, target categories, grant standards."""

    name = models.CharField("名称", max_length=80, unique=True)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    towns = models.ManyToManyField(Town, related_name="campaigns", verbose_name="参与镇（街道）")
    target_categories = models.ManyToManyField(Category, related_name="campaigns", verbose_name="慰问对象类别")
    description = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "专项活动"
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="campaign_dates_ordered",
                violation_error_message="结束日期不能早于开始日期",
            ),
        ]

    def __str__(self):
        return self.name

    @classmethod
    def scope_filter(cls, scope: Scope) -> Q:
        return Q(pk__in=Campaign.towns.through.objects.filter(town_id=scope.town_id).values("campaign_id"))


class GrantStandard(models.Model):
    """慰问标准: the amount per person of a category in a campaign (e.g. 困难党员 ¥500)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="standards", verbose_name="专项活动")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", verbose_name="人群类别")
    amount = models.DecimalField("标准（元）", max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "慰问标准"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "category"], name="grantstandard_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="grantstandard_amount_nonnegative"),
        ]

    def __str__(self):
        return f"{self.campaign} {self.category} ¥{self.amount}"


class Visit(AreaScoped):
    class Kind(models.TextChoices):
        HOME = "home", "入户走访"
        PHONE = "phone", "电话慰问"
        GROUP = "group", "集中慰问"
        STUDY = "study", "送学上门"
        HEALTH = "health", "健康服务"

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="visits", verbose_name="慰问对象")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="visits", verbose_name="户")
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="visits", verbose_name="镇（街道）")
    cell = models.ForeignKey(GridCell, on_delete=models.PROTECT, related_name="visits", verbose_name="小网格")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="visits", verbose_name="专项活动"
    )
    kind = models.CharField("方式", max_length=10, choices=Kind.choices, default=Kind.HOME)
    visited_at = models.DateTimeField("走访时间")
    recorded_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="visits_recorded", verbose_name="登记人")
    visitors = models.ManyToManyField(Cadre, related_name="visits", verbose_name="走访干部")
    volunteers_count = models.PositiveSmallIntegerField("志愿者人数", default=0)
    bp_systolic = models.PositiveSmallIntegerField("收缩压", null=True, blank=True)
    bp_diastolic = models.PositiveSmallIntegerField("舒张压", null=True, blank=True)
    notes = models.TextField("情况记录", blank=True)
    idempotency_key = models.UUIDField("提交编号", unique=True, editable=False)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    scope_cell_path = "cell_id"
    scope_household_path = "household_id"

    class Meta:
        verbose_name = verbose_name_plural = "走访记录"
        ordering = ["-visited_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(bp_systolic__isnull=True) & Q(bp_diastolic__isnull=True))
                | (
                    Q(bp_systolic__gte=60, bp_systolic__lte=260, bp_diastolic__gte=30, bp_diastolic__lte=160)
                    & Q(bp_systolic__gt=models.F("bp_diastolic"))
                ),
                name="visit_blood_pressure_plausible",
                violation_error_message="血压须同时填写收缩压和舒张压，且在合理范围内（收缩压60–260，舒张压30–160）",
            ),
        ]
        indexes = [
            models.Index(fields=["beneficiary", "-visited_at"], name="visit_person_time"),
            models.Index(fields=["town", "visited_at"], name="visit_town_time"),
            models.Index(fields=["campaign", "town", "beneficiary"], name="visit_campaign_town_person"),
            models.Index(fields=["cell", "visited_at"], name="visit_cell_time"),
            models.Index(fields=["visited_at"], name="visit_time"),  # county-wide time ranges
        ]

    def __str__(self):
        return f"{self.beneficiary.name} {self.visited_at:%Y-%m-%d}"


class Activity(AreaScoped):
    """A group event: 集中慰问, 宣讲, 送学上门, 健康服务, 志愿服务."""

    class Kind(models.TextChoices):
        GROUP_VISIT = "group_visit", "集中慰问"
        LECTURE = "lecture", "宣讲"
        STUDY = "study", "送学上门"
        HEALTH = "health", "健康服务"
        VOLUNTEER = "volunteer", "志愿服务"

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="activities", verbose_name="镇（街道）")
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="activities", verbose_name="村（社区）"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="activities", verbose_name="专项活动"
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    title = models.CharField("活动名称", max_length=100)
    held_on = models.DateField("日期")
    organiser = models.ForeignKey(
        VolunteerTeam, on_delete=models.PROTECT, null=True, blank=True, related_name="activities", verbose_name="组织队伍"
    )
    organiser_name = models.CharField("组织单位", max_length=80, blank=True)
    participants_count = models.PositiveIntegerField("参与人数", default=0)
    beneficiaries = models.ManyToManyField(Beneficiary, blank=True, related_name="activities", verbose_name="受益对象")
    reached_count = models.PositiveIntegerField("惠及人数", default=0, help_text="未逐一登记受益对象时填写人数")
    gifts_count = models.PositiveIntegerField("发放慰问品（份）", default=0)
    recorded_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="activities_recorded", verbose_name="登记人")
    notes = models.TextField("情况记录", blank=True)
    # Like a visit's: a double tap or a retried POST answers with the first activity. Null for
    # rows written before the key existed (and by the demo loader).
    idempotency_key = models.UUIDField("提交编号", unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "集中活动"
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["town", "held_on"], name="activity_town_date")]

    def __str__(self):
        return self.title


class FollowUp(AreaScoped):
    """诉求, 微心愿, 意见建议, 帮扶措施: tracked until the person says it is settled (销号)."""

    class Kind(models.TextChoices):
        DEMAND = "demand", "诉求"
        WISH = "wish", "微心愿"
        SUGGESTION = "suggestion", "意见建议"
        MEASURE = "measure", "帮扶措施"

    class Status(models.TextChoices):
        PENDING = "pending", "待受理"
        IN_PROGRESS = "in_progress", "办理中"
        RESOLVED = "resolved", "已办结"
        REVISITED = "revisited", "已回访"
        CLOSED = "closed", "已销号"
        REJECTED = "rejected", "不予受理"

    class Level(models.IntegerChoices):
        LOW = 1, "一般"
        MEDIUM = 2, "较高"
        HIGH = 3, "高"

    class Scope(models.TextChoices):
        PERSON = "person", "个人"
        HOUSEHOLDS = "households", "多户"
        VILLAGE = "village", "全村"

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        MOSTLY = "mostly", "基本满意"
        DISSATISFIED = "dissatisfied", "不满意"

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="followups", verbose_name="镇（街道）")
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="followups", verbose_name="村（社区）"
    )
    cell = models.ForeignKey(
        GridCell, on_delete=models.PROTECT, null=True, blank=True, related_name="followups", verbose_name="小网格"
    )
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, null=True, blank=True, related_name="followups", verbose_name="慰问对象"
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="followups", verbose_name="来源走访"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="followups", verbose_name="专项活动"
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    title = models.CharField("事项", max_length=120)
    description = models.TextField("详细情况", blank=True)
    urgency = models.PositiveSmallIntegerField("紧急程度", choices=Level.choices, default=Level.LOW)
    importance = models.PositiveSmallIntegerField("重要程度", choices=Level.choices, default=Level.LOW)
    scope = models.CharField("影响范围", max_length=12, choices=Scope.choices, default=Scope.PERSON)
    owner = models.ForeignKey(
        Cadre, on_delete=models.PROTECT, null=True, blank=True, related_name="followups_owned", verbose_name="责任人"
    )
    owner_department = models.CharField("责任部门", max_length=60, blank=True)
    raised_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="followups_raised", verbose_name="登记人")
    raised_on = models.DateField("提出日期")
    deadline = models.DateField("办结时限", null=True, blank=True)
    tracked = models.BooleanField("挂图作战", default=False)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING)
    resolved_at_once = models.BooleanField("当场解决", default=False)
    satisfaction = models.CharField("群众评价", max_length=12, choices=Satisfaction.choices, blank=True)
    reopened_count = models.PositiveSmallIntegerField("复号次数", default=0)
    closed_on = models.DateField("销号日期", null=True, blank=True)
    resolved_on = models.DateField("办结日期", null=True, blank=True)
    # 0: with the owner; 1: raised to the town admin; 2: raised to the county (nightly job, issue 6).
    escalation_level = models.PositiveSmallIntegerField("督办层级", default=0)
    escalated_at = models.DateTimeField("最近升级时间", null=True, blank=True)
    # 微心愿 claimed by a party member (认领) and fulfilled.
    claimed_by_name = models.CharField("认领党员", max_length=30, blank=True)
    claimed_by_branch = models.ForeignKey(
        PartyBranch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claimed_wishes",
        verbose_name="认领党员所在支部",
    )
    claimed_at = models.DateTimeField("认领时间", null=True, blank=True)
    fulfilled_at = models.DateTimeField("兑现时间", null=True, blank=True)
    rejection_reason = models.CharField("不予受理原因", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_cell_path = "cell_id"
    scope_household_path = "beneficiary__household_id"

    class Meta:
        verbose_name = verbose_name_plural = "诉求事项"
        ordering = ["deadline", "-urgency", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="followup_rejection_has_reason",
                violation_error_message="不予受理须填写原因",
            ),
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | ~Q(owner_department="") | Q(status__in=["pending", "rejected"]),
                name="followup_owned_once_accepted",
                violation_error_message="受理后须指定责任人或责任部门",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_on__isnull=False),
                name="followup_closed_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["town", "status", "deadline"], name="followup_town_status_deadline"),
            models.Index(fields=["owner", "status"], name="followup_owner_status"),
            # The dashboards' live counts of a campaign's overdue items, per town.
            models.Index(fields=["campaign", "town", "status"], name="followup_campaign_town_status"),
        ]

    def __str__(self):
        return self.title


class FollowUpEvent(AreaScoped):
    """The history of a follow-up: every state change, reassignment and progress note."""

    class Kind(models.TextChoices):
        STATUS = "status", "状态变更"
        PROGRESS = "progress", "进展"
        REASSIGN = "reassign", "改派"
        ESCALATE = "escalate", "升级督办"
        CLAIM = "claim", "认领"
        REVISIT = "revisit", "回访"
        REOPEN = "reopen", "复号"

    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.STATUS)
    followup = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="events", verbose_name="诉求事项")
    actor = models.ForeignKey(Cadre, on_delete=models.PROTECT, null=True, blank=True, verbose_name="操作人")
    at = models.DateTimeField("时间", auto_now_add=True)
    from_status = models.CharField("原状态", max_length=12, choices=FollowUp.Status.choices, blank=True)
    to_status = models.CharField("新状态", max_length=12, choices=FollowUp.Status.choices, blank=True)
    note = models.TextField("说明", blank=True)

    scope_town_path = "followup__town_id"
    scope_cell_path = "followup__cell_id"
    scope_household_path = "followup__beneficiary__household_id"

    class Meta:
        verbose_name = verbose_name_plural = "诉求办理记录"
        ordering = ["at", "id"]


class FollowUpMilestone(AreaScoped):
    """挂图作战 / 倒排工期: steps counted back from the deadline, each ticked off when done."""

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="milestones", verbose_name="诉求事项")
    title = models.CharField("节点", max_length=100)
    due_on = models.DateField("节点时限")
    done_on = models.DateField("完成日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    scope_town_path = "followup__town_id"
    scope_cell_path = "followup__cell_id"
    scope_household_path = "followup__beneficiary__household_id"

    class Meta:
        verbose_name = verbose_name_plural = "办理节点"
        ordering = ["due_on", "id"]

    def __str__(self):
        return self.title


class FollowUpRule(AreaScoped):
    """A town's rule for deadlines: how many days an item of this urgency (and importance) gets."""

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="followup_rules", verbose_name="镇（街道）")
    urgency = models.PositiveSmallIntegerField("紧急程度", choices=FollowUp.Level.choices)
    importance = models.PositiveSmallIntegerField(
        "重要程度", choices=FollowUp.Level.choices, null=True, blank=True, help_text="留空表示不限"
    )
    days = models.PositiveSmallIntegerField("办结时限（天）")

    class Meta:
        verbose_name = verbose_name_plural = "诉求时限规则"
        ordering = ["town", "-urgency", "importance"]
        constraints = [
            models.UniqueConstraint(fields=["town", "urgency", "importance"], name="followuprule_unique"),
            models.CheckConstraint(condition=Q(days__gte=1), name="followuprule_days_positive"),
        ]

    def __str__(self):
        return f"{self.town} {self.get_urgency_display()} {self.days}天"


class TargetList(AreaScoped):
    """慰问对象名单: whom a campaign visits and grants to in one town. The town admin proposes it
    (generated from the campaign's categories and the registry, with additions and removals, each
    with a reason); the town party committee's decision approves it (由镇党委研究审定慰问对象名单).
    Approved, it is frozen: later changes are additions or removals with a reason, each audited.
    Who counts as a target is decided in one place, visits/targets.py."""

    class Status(models.TextChoices):
        DRAFT = "draft", "待审定"
        APPROVED = "approved", "已审定"

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="target_lists", verbose_name="专项活动")
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="target_lists", verbose_name="镇（街道）")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    proposed_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="+", verbose_name="拟定人")
    proposed_at = models.DateTimeField("拟定时间")
    decided_on = models.DateField("审定日期", null=True, blank=True)
    decided_by = models.CharField("审定会议", max_length=100, blank=True, help_text="如：镇党委2023年第24次会议")
    decision_note = models.CharField("审定意见", max_length=200, blank=True)
    approved_by = models.ForeignKey(
        Cadre, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="登记审定人"
    )
    approved_at = models.DateTimeField("登记审定时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "慰问对象名单"
        ordering = ["campaign", "town__code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "town"], name="targetlist_one_per_town"),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(decided_on__isnull=False) & ~Q(decided_by="") & Q(approved_at__isnull=False)),
                name="targetlist_approval_has_decision",
                violation_error_message="审定须填写审定日期和审定会议",
            ),
        ]

    def __str__(self):
        return f"{self.town}·{self.campaign}慰问对象名单"

    @property
    def approved(self) -> bool:
        return self.status == self.Status.APPROVED


class TargetListEntry(AreaScoped):
    """One person on (or taken off) a town's 慰问对象名单. Rows are never deleted: a removal keeps
    the row with its reason, so the proposal and every later change can be read back."""

    class Source(models.TextChoices):
        GENERATED = "generated", "按类别生成"
        ADDED = "added", "增补"

    target_list = models.ForeignKey(TargetList, on_delete=models.PROTECT, related_name="entries", verbose_name="名单")
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, related_name="target_list_entries", verbose_name="慰问对象"
    )
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="+", verbose_name="镇（街道）")
    cell = models.ForeignKey(GridCell, on_delete=models.PROTECT, related_name="+", verbose_name="小网格")
    source = models.CharField("来源", max_length=10, choices=Source.choices)
    listed = models.BooleanField("在名单上", default=True)
    added_reason = models.CharField("增补理由", max_length=200, blank=True)
    added_at = models.DateTimeField("列入时间")
    added_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="+", verbose_name="列入人")
    added_after_approval = models.BooleanField("审定后增补", default=False)
    removed_reason = models.CharField("移出理由", max_length=200, blank=True)
    removed_at = models.DateTimeField("移出时间", null=True, blank=True)
    removed_by = models.ForeignKey(
        Cadre, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="移出人"
    )
    removed_after_approval = models.BooleanField("审定后移出", default=False)

    scope_cell_path = "cell_id"
    scope_household_path = "beneficiary__household_id"

    class Meta:
        verbose_name = verbose_name_plural = "名单人员"
        ordering = ["target_list", "id"]
        constraints = [
            models.UniqueConstraint(fields=["target_list", "beneficiary"], name="targetlistentry_once_per_list"),
            models.CheckConstraint(
                condition=Q(source="generated") | ~Q(added_reason=""),
                name="targetlistentry_addition_has_reason",
                violation_error_message="增补须填写理由",
            ),
            models.CheckConstraint(
                condition=Q(listed=True) | (~Q(removed_reason="") & Q(removed_at__isnull=False)),
                name="targetlistentry_removal_has_reason",
                violation_error_message="移出须填写理由",
            ),
        ]
        indexes = [models.Index(fields=["beneficiary", "target_list"], name="targetentry_person_list")]

    def __str__(self):
        return f"{self.beneficiary}（{self.target_list}）"
