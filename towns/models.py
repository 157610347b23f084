"""The map and its people: towns, villages, grid cells, households, the registry, cadres."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core import permissions
from core.scoping import AreaScoped, Scope

DIVISION_CODE = r"^\d{12}$"


class Town(AreaScoped):
    """镇 / 街道, keyed by its 12-digit statistical division code (codes change yearly)."""

    class Kind(models.TextChoices):
        TOWN = "town", "镇"
        SUBDISTRICT = "subdistrict", "街道"

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices, default=Kind.TOWN)
    # Threshold above which a grant waits for a town admin's approval (issue 5); empty: none.
    grant_approval_threshold = models.DecimalField("发放审批限额（元）", max_digits=12, decimal_places=2, null=True, blank=True)

    scope_town_path = "pk"

    class Meta:
        verbose_name = verbose_name_plural = "镇（街道）"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=DIVISION_CODE), name="town_code_12_digits"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        # A town's own threshold above the county ceiling would promise approvals the ceiling refuses.
        from django.core.exceptions import ValidationError

        ceiling = settings.GRANT_CEILING
        if self.grant_approval_threshold is not None and self.grant_approval_threshold > ceiling:
            raise ValidationError(
                {"grant_approval_threshold": f"审批限额不能高于全市单笔发放上限¥{ceiling:,.2f}（超过上限的发放不能登记）"}
            )


class Village(AreaScoped):
    class Kind(models.TextChoices):
        VILLAGE = "village", "村"
        COMMUNITY = "community", "社区"

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="villages", verbose_name="镇（街道）")
    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=50)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices, default=Kind.VILLAGE)

    class Meta:
        verbose_name = verbose_name_plural = "村（社区）"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=DIVISION_CODE), name="village_code_12_digits"),
            models.UniqueConstraint(fields=["town", "name"], name="village_name_unique_in_town"),
        ]

    def __str__(self):
        return self.name


class GridCell(AreaScoped):
    """大网格 / 小网格. A small cell has exactly one big parent in the same town; a big one none."""

    class Level(models.TextChoices):
        BIG = "big", "大网格"
        SMALL = "small", "小网格"

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="cells", verbose_name="镇（街道）")
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="cells", verbose_name="村（社区）"
    )
    level = models.CharField("层级", max_length=5, choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name="所属大网格"
    )
    code = models.CharField("编号", max_length=30)
    name = models.CharField("名称", max_length=60)

    scope_cell_path = "pk"

    class Meta:
        verbose_name = verbose_name_plural = "网格"
        ordering = ["town", "code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(level="big") & Q(parent__isnull=True)) | (Q(level="small") & Q(parent__isnull=False)),
                name="gridcell_small_has_big_parent",
                violation_error_message="小网格必须属于一个大网格，大网格不能再有上级网格",
            ),
            models.UniqueConstraint(fields=["town", "code"], name="gridcell_code_unique_in_town"),
            # Target of the composite foreign keys (same-town rules) added on PostgreSQL.
            models.UniqueConstraint(fields=["id", "town"], name="gridcell_id_town"),
        ]

    def __str__(self):
        return self.name

    @classmethod
    def scope_filter(cls, scope: Scope) -> Q:
        # A grid worker sees their small cells and the big cells above them.
        town_q = Q(town_id=scope.town_id)
        if scope.cell_ids is not None:
            return town_q & (Q(pk__in=scope.cell_ids) | Q(children__in=scope.cell_ids))
        return town_q


class Category(models.Model):
    """人群类别, with how often its people should be visited."""

    code = models.SlugField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    visit_interval_days = models.PositiveIntegerField("走访周期（天）")
    sensitive = models.BooleanField(
        "敏感个人信息", default=False, help_text="健康、残疾、低保、未成年人等（个人信息保护法第28条）"
    )
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    # Outside a campaign (a campaign has its own 慰问标准 per category): the most one person of this
    # category may receive in a year, cash and goods at their value; the 超标准 rule checks it.
    standard = models.DecimalField(
        "日常慰问标准（元/年）",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="专项活动以外每人每年慰问金（品）合计上限；不填则不检查",
    )

    class Meta:
        verbose_name = verbose_name_plural = "人群类别"
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(visit_interval_days__gte=1), name="category_interval_positive"),
        ]

    def __str__(self):
        return self.name


class PartyBranch(AreaScoped):
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="party_branches", verbose_name="镇（街道）")
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="party_branches", verbose_name="村（社区）"
    )
    name = models.CharField("名称", max_length=80)

    class Meta:
        verbose_name = verbose_name_plural = "党支部"
        ordering = ["town", "name"]
        constraints = [models.UniqueConstraint(fields=["town", "name"], name="partybranch_unique_in_town")]

    def __str__(self):
        return self.name


class VolunteerTeam(AreaScoped):
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="volunteer_teams", verbose_name="镇（街道）")
    name = models.CharField("名称", max_length=80)
    members_count = models.PositiveIntegerField("队员人数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "志愿服务队"
        ordering = ["town", "name"]
        constraints = [models.UniqueConstraint(fields=["town", "name"], name="volunteerteam_unique_in_town")]

    def __str__(self):
        return self.name


class Cadre(AreaScoped):
    """A user's working identity: role and town. Grid workers' cells come from assignments."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cadre", verbose_name="账号")
    name = models.CharField("姓名", max_length=30)
    role = models.CharField("角色", max_length=20, choices=list(permissions.ROLE_LABELS.items()))
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, null=True, blank=True, related_name="cadres", verbose_name="所属镇（街道）"
    )
    phone = models.CharField("电话", max_length=20, blank=True)
    title = models.CharField("职务", max_length=40, blank=True)
    is_active = models.BooleanField("在岗", default=True)
    # Set by an admin (a reset, /admin/): the holder must choose their own at the next login (issue 13 §4).
    password_temporary = models.BooleanField("临时密码", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "干部账号"
        ordering = ["town", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(role__in=sorted(permissions.TOWN_ROLES)) & Q(town__isnull=False))
                | (Q(role__in=sorted(permissions.COUNTY_ROLES)) & Q(town__isnull=True)),
                name="cadre_town_matches_role",
                violation_error_message="镇村角色必须属于一个镇，县级角色不属于任何镇",
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_role_display()}）"

    def assigned_ids(self) -> tuple[list[int], list[int]]:
        """(small cell ids, household ids) of this cadre's current assignments."""
        rows = Assignment._base_manager.filter(cadre_id=self.pk, ends_on__isnull=True).values_list("cell_id", "household_id")
        cells = [cell for cell, _ in rows if cell is not None]
        households = [household for _, household in rows if household is not None]
        return cells, households

    @classmethod
    def scope_filter(cls, scope: Scope) -> Q:
        # Colleagues of the same town; a grid worker sees the whole town's cadres too.
        return Q(town_id=scope.town_id)


class Household(AreaScoped):
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="households", verbose_name="镇（街道）")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="households", verbose_name="村（社区）")
    cell = models.ForeignKey(GridCell, on_delete=models.PROTECT, related_name="households", verbose_name="小网格")
    address = models.CharField("住址", max_length=120)
    head_name = models.CharField("户主", max_length=30)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    scope_cell_path = "cell_id"
    scope_household_path = "pk"

    class Meta:
        verbose_name = verbose_name_plural = "户"
        ordering = ["id"]
        indexes = [models.Index(fields=["town", "cell"], name="household_town_cell")]

    def __str__(self):
        return f"{self.head_name}户（{self.address}）"


# What an audit record of a person's registration shows (services and the roster import alike).
BENEFICIARY_AUDITED_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_number_masked",
    "phone",
    "relation_to_head",
    "is_party_member",
    "party_branch",
    "responsible_cadre",
    "status",
    "status_since",
    "household",
    "cell",
    "town",
    "notes",
    "registered_on",
)


class Beneficiary(AreaScoped):
    """A person in the registry (重点人群信息库). The ID number is stored encrypted only."""

    class Gender(models.TextChoices):
        MALE = "M", "男"
        FEMALE = "F", "女"

    class Status(models.TextChoices):
        ACTIVE = "active", "在册"
        DECEASED = "deceased", "已故"
        MOVED = "moved", "迁出"

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members", verbose_name="户")
    # Copied from the household so that scoping and county-scale counts need no join.
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="beneficiaries", verbose_name="镇（街道）")
    cell = models.ForeignKey(GridCell, on_delete=models.PROTECT, related_name="beneficiaries", verbose_name="小网格")
    name = models.CharField("姓名", max_length=30)
    name_initials = models.CharField("拼音首字母", max_length=30, db_index=True, editable=False)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期")
    id_number_encrypted = models.TextField("身份证号（加密）", editable=False)
    id_number_digest = models.CharField("身份证号摘要", max_length=64, db_index=True, editable=False)
    id_number_masked = models.CharField("身份证号", max_length=18, editable=False)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    relation_to_head = models.CharField("与户主关系", max_length=10, blank=True)
    categories = models.ManyToManyField(Category, related_name="beneficiaries", verbose_name="人群类别")
    is_party_member = models.BooleanField("党员", default=False)
    party_branch = models.ForeignKey(
        PartyBranch, on_delete=models.SET_NULL, null=True, blank=True, related_name="members", verbose_name="所属党支部"
    )
    responsible_cadre = models.ForeignKey(
        Cadre, on_delete=models.SET_NULL, null=True, blank=True, related_name="responsible_for", verbose_name="责任干部"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_since = models.DateField("状态日期")
    registered_on = models.DateField("建档日期")
    notes = models.CharField("备注", max_length=200, blank=True)
    # Kept by the services (visit_create, category changes) so that "who is due" is an index
    # range scan at county scale instead of an aggregate over a million visits.
    visit_interval_days = models.PositiveIntegerField("走访周期（天）", null=True, blank=True, editable=False)
    last_visited_at = models.DateTimeField("最近走访", null=True, blank=True, editable=False)
    next_visit_due = models.DateField("下次应访日期", null=True, blank=True, editable=False)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_cell_path = "cell_id"
    scope_household_path = "household_id"

    class Meta:
        verbose_name = verbose_name_plural = "慰问对象"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_digest"],
                condition=Q(status="active"),
                name="beneficiary_unique_active_id",
                violation_error_message="该身份证号已在册登记",
            ),
            models.CheckConstraint(condition=Q(gender__in=["M", "F"]), name="beneficiary_gender_valid"),
        ]
        indexes = [
            models.Index(fields=["town", "status", "id"], name="beneficiary_town_status"),
            models.Index(fields=["cell", "status"], name="beneficiary_cell_status"),
            models.Index(fields=["town", "status", "next_visit_due"], name="beneficiary_town_due"),
            # Keyset pages of the registry (ORDER BY id within a town or a cell).
            models.Index(fields=["town", "id"], name="beneficiary_town_id"),
            models.Index(fields=["cell", "id"], name="beneficiary_cell_id"),
            models.Index(fields=["cell", "status", "next_visit_due"], name="beneficiary_cell_due"),
        ]

    def __str__(self):
        return self.name

    @property
    def age_on(self):
        from datetime import date

        today = date.today()
        return today.year - self.birth_date.year - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))

    def is_minor_on(self, day) -> bool:
        """Under GRANT_MINOR_AGE on that day, by the birth date (taken from the ID number when the
        person is registered): cash to a minor goes through a recorded guardian."""
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day)) < settings.GRANT_MINOR_AGE


class BeneficiaryStatusChange(AreaScoped):
    """One row per status change (已故, 迁出, 恢复在册), with its date and reason."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="status_changes", verbose_name="慰问对象")
    from_status = models.CharField("原状态", max_length=10, choices=Beneficiary.Status.choices)
    to_status = models.CharField("新状态", max_length=10, choices=Beneficiary.Status.choices)
    effective_on = models.DateField("生效日期")
    reason = models.CharField("原因", max_length=200)
    changed_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, null=True, blank=True, verbose_name="操作人")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    scope_town_path = "beneficiary__town_id"
    scope_cell_path = "beneficiary__cell_id"
    scope_household_path = "beneficiary__household_id"

    class Meta:
        verbose_name = verbose_name_plural = "状态变更"
        ordering = ["-effective_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="statuschange_reason_required"),
        ]


class Assignment(AreaScoped):
    """包保责任区: a cadre answers for a small cell or a single household."""

    cadre = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="assignments", verbose_name="干部")
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="assignments", verbose_name="镇（街道）")
    cell = models.ForeignKey(
        GridCell, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments", verbose_name="网格"
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments", verbose_name="户"
    )
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "包保责任区"
        ordering = ["cadre", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(cell__isnull=False) & Q(household__isnull=True))
                | (Q(cell__isnull=True) & Q(household__isnull=False)),
                name="assignment_cell_xor_household",
                violation_error_message="包保责任区须指定一个网格或一户，不能同时指定",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")), name="assignment_dates_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.cadre.name} → {self.cell or self.household}"


def roster_upload_path(instance, filename) -> str:
    # A random name under a private folder: the uploaded roster holds whole ID numbers, so its path
    # must reveal nothing and nothing serves MEDIA_ROOT (the original name is kept in a column).
    import uuid

    from django.utils import timezone

    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.xlsx"


class RosterImport(AreaScoped):
    """One upload of a town's Excel roster (issue 4 §5): checked in full, previewed, then imported
    all or nothing after a person confirms. The work is done by towns/roster_import/ in Celery jobs."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "已上传"
        CHECKING = "checking", "校验中"
        READY = "ready", "待确认"
        FAILED = "failed", "校验未通过"
        IMPORTING = "importing", "导入中"
        DONE = "done", "已导入"
        REJECTED = "rejected", "文件被拒绝"

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="roster_imports", verbose_name="镇（街道）")
    uploaded_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="+", verbose_name="上传人")
    file = models.FileField("文件", upload_to=roster_upload_path, max_length=200, blank=True)
    original_name = models.CharField("原文件名", max_length=200)
    file_size = models.PositiveIntegerField("文件大小（字节）", default=0)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    to_create = models.PositiveIntegerField("新增人数", default=0)
    to_update = models.PositiveIntegerField("更新人数", default=0)
    unchanged = models.PositiveIntegerField("无变化人数", default=0)
    # [{row, column, value, message}]: Excel row number, the column's header, the cell (ID numbers masked).
    errors = models.JSONField("错误", default=list, blank=True)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    message = models.CharField("说明", max_length=300, blank=True)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # Stamped by the running job every half minute (core/jobs.py); none for minutes: the job is lost.
    heartbeat_at = models.DateTimeField("最近心跳", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        Cadre, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="确认人"
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    # Issue 16: the sheet read (blank: the first), the workbook's sheets, rows skipped as totals or
    # footnotes [{row, text}], names the town has no match for yet [{kind, name, village, rows,
    # suggestions, choices}], and per row what will be stored where it differs from the file.
    sheet_name = models.CharField("工作表", max_length=100, blank=True)
    sheet_names = models.JSONField("工作簿中的工作表", default=list, blank=True)
    skipped = models.JSONField("跳过的行", default=list, blank=True)
    unknown_names = models.JSONField("待对应的名称", default=list, blank=True)
    preview = models.JSONField("逐行预览", default=list, blank=True)
    # Issue 16 §5: ``errors`` keeps the first problems for the page; all of them are counted here
    # and written, beside their rows, into the error workbook the worker builds (as private as the upload).
    error_count = models.PositiveIntegerField("问题数", default=0)
    error_file = models.FileField("错误清单", upload_to=roster_upload_path, max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "花名册导入"
        ordering = ["-id"]
        indexes = [models.Index(fields=["town", "-id"], name="rosterimport_town_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="rosterimport_progress_percent"),
        ]

    def __str__(self):
        return f"{self.original_name}（{self.get_status_display()}）"

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.UPLOADED, self.Status.CHECKING, self.Status.IMPORTING}

    @property
    def can_retry(self) -> bool:
        # A job that died (no row errors: the file itself was fine as far as it got) can run again.
        return self.status == self.Status.FAILED and not self.errors and bool(self.file)

    @property
    def can_confirm(self) -> bool:
        # Nothing to add or change: nothing to confirm either.
        return (
            self.status == self.Status.READY
            and not self.errors
            and not self.unknown_names
            and bool(self.to_create or self.to_update)
        )


class NameAlias(AreaScoped):
    """A town's own name for one of its villages, small cells or a category (issue 16 §2): what its
    rosters say ("冶山村", "第6网格", "五保户") mapped once by a cadre, applied to every later roster."""

    class Kind(models.TextChoices):
        VILLAGE = "village", "村（社区）"
        CELL = "cell", "网格"
        CATEGORY = "category", "人员类别"

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="name_aliases", verbose_name="镇（街道）")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    name = models.CharField("花名册中的名称", max_length=60)
    key = models.CharField("比对用名称", max_length=60)  # without spaces, half-width (imports._norm)
    # A cell's name only means something inside its village: "第6网格" exists in many villages.
    in_village = models.ForeignKey(
        Village, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="所在村（社区）"
    )
    village = models.ForeignKey(
        Village, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="对应村（社区）"
    )
    cell = models.ForeignKey(GridCell, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="对应网格")
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="对应人员类别"
    )
    created_by = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="+", verbose_name="设置人")
    created_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "名称对应"
        ordering = ["kind", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["town", "kind", "key"], condition=Q(in_village__isnull=True), name="alias_unique_in_town"
            ),
            models.UniqueConstraint(fields=["town", "kind", "in_village", "key"], name="alias_unique_in_village"),
            models.CheckConstraint(
                condition=(Q(kind="village") & Q(village__isnull=False) & Q(cell__isnull=True) & Q(category__isnull=True))
                | (Q(kind="cell") & Q(cell__isnull=False) & Q(in_village__isnull=False) & Q(category__isnull=True))
                | (Q(kind="category") & Q(category__isnull=False) & Q(cell__isnull=True) & Q(village__isnull=True)),
                name="alias_points_to_its_kind",
            ),
        ]

    def __str__(self):
        return f"{self.name} → {self.village or self.cell or self.category}"


class PersonAccess(AreaScoped):
    """PIPL access log: who opened whose personal data, and how (towns/access_log.py).

    Not part of the audit chain: a page view is not a change, and a chain lock per view would
    serialise every reader. Rows are written in one INSERT per request, after the response.
    """

    class Kind(models.TextChoices):
        PERSON = "person", "查看人员信息"
        HOUSEHOLD = "household", "查看户信息"
        REVEAL_ID = "reveal_id", "查看完整身份证号"
        RECEIPT = "receipt", "查看签领凭证"
        ROSTER = "roster", "查看、打印发放花名册"

    at = models.DateTimeField("时间", default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="查阅人")
    person = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="+", verbose_name="被查阅人")
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="+", verbose_name="被查阅人所属镇")
    kind = models.CharField("方式", max_length=12, choices=Kind.choices)
    request_id = models.CharField("请求编号", max_length=40, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "个人信息查阅记录"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["person", "-at"], name="access_person_time"),
            models.Index(fields=["user", "-at"], name="access_user_time"),
            models.Index(fields=["town", "-at"], name="access_town_time"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.person_id}"
