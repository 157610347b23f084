"""What each role may do: written once, used by views, templates and services.

ARCHITECTURE.md shows this table; `python manage.py roles_table` prints it as Markdown.
"""

from django.core.exceptions import PermissionDenied

GRID_WORKER = "grid_worker"
TOWN_CADRE = "town_cadre"
TOWN_ADMIN = "town_admin"
COUNTY_VIEWER = "county_viewer"
INSPECTOR = "inspector"
SYSADMIN = "sysadmin"

ROLE_LABELS = {
    GRID_WORKER: "网格员",
    TOWN_CADRE: "镇村干部",
    TOWN_ADMIN: "镇管理员",
    COUNTY_VIEWER: "组织部",
    INSPECTOR: "纪检监察",
    SYSADMIN: "系统管理员",
}
TOWN_ROLES = frozenset({GRID_WORKER, TOWN_CADRE, TOWN_ADMIN})
COUNTY_ROLES = frozenset({COUNTY_VIEWER, INSPECTOR, SYSADMIN})
FIELD = frozenset({GRID_WORKER, TOWN_CADRE, TOWN_ADMIN})
OFFICE = frozenset({TOWN_CADRE, TOWN_ADMIN})
READERS = frozenset(ROLE_LABELS)

# permission -> (description, roles that hold it)
PERMISSIONS: dict[str, tuple[str, frozenset[str]]] = {
    "registry.view": ("查看重点人群信息库", READERS),
    "registry.edit": ("新增、修改户和慰问对象", FIELD),
    "registry.change_status": ("变更对象状态（已故、迁出、恢复在册）", OFFICE),
    "registry.import": ("导入花名册", OFFICE),
    "id.reveal": ("查看完整身份证号（留痕）", frozenset({TOWN_ADMIN, INSPECTOR})),
    "map.edit": ("维护村、网格和包保责任区", frozenset({TOWN_ADMIN, SYSADMIN})),
    "visit.log": ("登记走访", FIELD),
    "activity.log": ("登记集中活动", OFFICE),
    "grant.issue": ("发放慰问金、慰问品", FIELD),
    "grant.void": ("作废发放记录（须填写原因）", OFFICE),
    "grant.approve": ("审批超过限额的发放", frozenset({TOWN_ADMIN})),
    "budget.edit": ("维护经费预算", frozenset({TOWN_ADMIN, SYSADMIN})),
    "funds.view": ("查看经费预算、慰问标准和慰问品库存", READERS),
    "stock.manage": ("慰问品入库", OFFICE),
    "followup.edit": ("登记、办理、回访诉求", FIELD),
    "campaign.edit": ("维护专项活动和慰问标准", frozenset({COUNTY_VIEWER, SYSADMIN})),
    # 慰问对象名单 (issue 12 §2): the town admin proposes and records the town party committee's decision.
    "targetlist.view": ("查看、打印慰问对象名单", frozenset({TOWN_CADRE, TOWN_ADMIN, COUNTY_VIEWER, INSPECTOR, SYSADMIN})),
    "targetlist.edit": ("拟定、调整慰问对象名单，登记镇党委审定", frozenset({TOWN_ADMIN})),
    "dashboard.county": ("查看全县看板", frozenset({COUNTY_VIEWER, INSPECTOR, SYSADMIN})),
    # Town-wide figures: beyond a grid worker's cells (their home page lists whom the campaign has not reached).
    "dashboard.town": ("查看本镇看板", OFFICE),
    "bulletin.edit": ("编辑、发布组工信息", frozenset({COUNTY_VIEWER})),
    "bulletin.submit": ("报送本镇组工信息稿件（经验做法）", OFFICE),
    # The 送 list is every town's party committee: published issues are theirs to read (drafts stay with the editor).
    "bulletin.read": ("阅读、下载已发布的组工信息", frozenset({TOWN_CADRE, TOWN_ADMIN, COUNTY_VIEWER, INSPECTOR, SYSADMIN})),
    "export.personal": ("导出含个人信息的台账（留痕）", frozenset({TOWN_CADRE, TOWN_ADMIN, COUNTY_VIEWER, INSPECTOR})),
    "audit.view": ("查看审计日志", frozenset({INSPECTOR, SYSADMIN})),
    "inspection.review": ("处理监督预警、记录核查结论", frozenset({INSPECTOR})),
    # Town admins see their own town's flags so they can put things right; only inspectors rule on them.
    "inspection.view": ("查看监督预警", frozenset({TOWN_ADMIN, COUNTY_VIEWER, INSPECTOR, SYSADMIN})),
    "roster.view": ("查看、打印发放花名册（留痕）", frozenset({TOWN_CADRE, TOWN_ADMIN, COUNTY_VIEWER, INSPECTOR})),
    "coi.declare": ("申报近亲属（亲情牌防范）", FIELD),
    "coi.view": ("查看本镇干部亲属申报情况", frozenset({TOWN_ADMIN})),
    "user.reset_password": ("重置本镇账号密码", frozenset({TOWN_ADMIN, SYSADMIN})),
    # PIPL: who opened whose personal data (towns/access_log.py); town admins see their town's.
    "access.log": ("查看个人信息查阅记录（谁看过）", frozenset({TOWN_ADMIN, INSPECTOR})),
    # Issue 16 §1: the division map, categories and cadre accounts loaded from the county's own files.
    "county.setup": ("导入全县区划网格、人群类别和干部账号", frozenset({SYSADMIN})),
    "system.status": ("查看系统运行状态（数据库、缓存、后台任务）", frozenset({SYSADMIN})),
}

READ_ONLY_ROLES = frozenset({INSPECTOR, COUNTY_VIEWER})


def role_of(user) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    from core.scoping import profile_of  # core.scoping reads this module's roles at import

    profile = profile_of(user)
    if profile is None or not profile.is_active:
        return None
    return profile.role


def can(user, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    role = role_of(user)
    return role is not None and role in PERMISSIONS[permission][1]


def require(user, permission: str) -> None:
    """Services call this first: the same rule as the view's, so no path skips it."""
    if not can(user, permission):
        raise PermissionDenied(f"无权限：{PERMISSIONS[permission][0]}")


def permissions_of(user) -> frozenset[str]:
    role = role_of(user)
    if role is None:
        return frozenset()
    return frozenset(name for name, (_, roles) in PERMISSIONS.items() if role in roles)


def markdown_table() -> str:
    roles = list(ROLE_LABELS)
    lines = [
        "| 权限 | code | " + " | ".join(ROLE_LABELS[r] for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for name, (label, holders) in PERMISSIONS.items():
        marks = " | ".join("✓" if r in holders else "" for r in roles)
        lines.append(f"| {label} | `{name}` | {marks} |")
    return "\n".join(lines)
