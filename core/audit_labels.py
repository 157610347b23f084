"""How the audit trail reads for an inspector: the one table of action labels, values by their labels,
people and places by name, local time to the second.

Every action a service, job, command, trigger or the admin writes has its label here (a test scans the
source and every test's records for actions without one). Values are shown the way the pages show them:
a model field's choices by their label, a foreign key or a list of ids by the name of what it points to
(read in one query per model for a whole page of records), times in Asia/Shanghai without microseconds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.apps import apps
from django.db import models
from django.db.models import CharField, F, IntegerField, Value
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from core.permissions import ROLE_LABELS

# action code -> what an inspector calls it. Codes are written by services (funds, towns, visits,
# reports), jobs, commands, account events and the PostgreSQL triggers (`<entity>.db_<op>`).
ACTION_LABELS: dict[str, str] = {
    # accounts
    "account.login": "登录",
    "account.login_failed": "登录失败",
    "account.logout": "退出登录",
    "account.locked": "账号被锁定",
    "account.password_change": "修改密码",
    "account.password_reset": "重置密码",
    "account.unlock": "解除登录锁定",
    "account.setup_admin": "创建首个系统管理员",
    # County setup from its own files (issue 16 §1, towns/county_setup/)
    "county_setup.run": "全县基础数据导入",
    "county_setup.town_create": "导入新增镇（街道）",
    "county_setup.town_update": "导入修改镇（街道）",
    "county_setup.village_create": "导入新增村（社区）",
    "county_setup.village_update": "导入修改村（社区）",
    "county_setup.cell_create": "导入新增网格",
    "county_setup.cell_update": "导入修改网格",
    "county_setup.category_create": "导入新增人群类别",
    "county_setup.category_update": "导入修改人群类别",
    "county_setup.cadre_create": "导入新建干部账号",
    "county_setup.cadre_update": "导入修改干部账号",
    "county_setup.assignment_create": "导入包保网格",
    # ID-number checks (towns/idchecks.py)
    "id_check.elsewhere": "核查他处登记的身份证号",
    "id_check.limited": "身份证号核查超过每日上限",
    "id_check.mismatch": "导入身份证号与在册不一致",
    "id_check.search": "按身份证号查找（范围内未找到）",
    "audit.seal": "封存各镇审计链链头",
    # registry and map
    "beneficiary.create": "新增慰问对象",
    "beneficiary.update": "修改慰问对象",
    "beneficiary.status": "变更对象状态",
    "beneficiary.reveal_id": "查看完整身份证号",
    "beneficiary.import": "导入花名册",
    "name_alias.set": "设置花名册名称对应",
    "name_alias.remove": "删除花名册名称对应",
    "household.create": "新增户",
    "household.update": "修改户",
    "gridcell.create": "新增网格",
    "gridcell.update": "修改网格",
    "assignment.create": "新增包保责任区",
    "assignment.end": "结束包保责任区",
    # visits, activities, follow-ups
    "visit.create": "登记走访",
    "visit.update": "修改走访记录",
    "activity.create": "登记集中活动",
    "followup.create": "登记诉求",
    "followup.update": "办理诉求",
    "followup.accept": "受理诉求",
    "followup.resolve_at_once": "诉求即时办结",
    "followup.track": "诉求挂图作战",
    "followup.milestone_done": "完成办理节点",
    "followup.progress": "记录办理进展",
    "followup.reassign": "诉求改派",
    "followup.resolve": "诉求办结",
    "followup.revisit": "诉求回访",
    "followup.reopen": "诉求复号（回访不满意）",
    "followup.close": "诉求销号",
    "followup.reject": "诉求不予受理",
    "followup.wish_claim": "认领微心愿",
    "followup.wish_fulfil": "微心愿已实现",
    "followup.escalate": "诉求逾期升级督办",
    # money and goods
    "disbursement.create": "登记发放",
    "disbursement.void": "作废发放",
    "disbursement.approve": "审批发放",
    "disbursement.receipt": "上传签领凭证",
    "stockmovement.create": "慰问品出入库",
    "budget.create": "新增预算",
    "budget.update": "修改预算",
    "grantstandard.create": "新增慰问标准",
    "grantstandard.update": "修改慰问标准",
    "campaign.create": "新增专项活动",
    "campaign.update": "修改专项活动",
    "targetlist.propose": "拟定慰问对象名单",
    "targetlist.add": "增补慰问对象名单",
    "targetlist.remove": "移出慰问对象名单",
    "targetlist.approve": "审定慰问对象名单",
    "declaration.submit": "亲属申报",
    "inspection.run": "计算监督预警",
    "finding.create": "记录核查结论",
    # writes that bypassed the services, recorded by the PostgreSQL triggers (migration funds 0002)
    "disbursement.db_insert": "数据库直接插入发放记录",
    "disbursement.db_update": "数据库直接修改发放记录",
    "disbursement.db_delete": "数据库直接删除发放记录",
    "budget.db_insert": "数据库直接插入预算",
    "budget.db_update": "数据库直接修改预算",
    "budget.db_delete": "数据库直接删除预算",
    # bulletins and exports
    "bulletin.draft": "起草组工信息",
    "bulletin.redraft": "重新起草组工信息",
    "bulletin.update": "修改组工信息",
    "bulletin.item_update": "修改组工信息条目",
    "bulletin.item_move": "调整条目顺序",
    "bulletin.item_include": "采用条目",
    "bulletin.item_exclude": "不采用条目",
    "bulletin.item_remove": "删除条目",
    "bulletin.item_from_submission": "采用镇报送稿件",
    "bulletin.publish": "发布组工信息",
    "bulletin.submit": "报送经验做法",
    "bulletin.submission_withdraw": "撤回报送稿件",
    "bulletin.numbering": "设置组工信息期号",
    "export.request": "申请导出",
    "personal_data.export": "导出、打印个人信息",
    # the demo
    "demo.load": "加载演示数据",
}

# The admin writes "<model>.create|update|delete" for whatever it edits (core/admin_base.py): those
# read as the verb and the model's Chinese name ("修改慰问品").
ADMIN_VERBS = {"create": "新增", "update": "修改", "delete": "删除"}

OBJECT_TYPE_LABELS: dict[str, str] = {
    "towns.beneficiary": "慰问对象",
    "towns.household": "户",
    "towns.gridcell": "网格",
    "towns.village": "村（社区）",
    "towns.town": "镇（街道）",
    "audit.chain": "审计链",
    "towns.assignment": "包保责任区",
    "towns.cadre": "干部账号",
    "towns.category": "人群类别",
    "towns.rosterimport": "花名册导入",
    "towns.namealias": "名称对应",
    "auth.user": "账号",
    "visits.visit": "走访记录",
    "visits.activity": "集中活动",
    "visits.followup": "诉求事项",
    "visits.campaign": "专项活动",
    "visits.targetlist": "慰问对象名单",
    "visits.targetlistentry": "名单人员",
    "visits.grantstandard": "慰问标准",
    "funds.disbursement": "发放记录",
    "funds.budget": "经费预算",
    "funds.goodsitem": "慰问品",
    "funds.stockmovement": "出入库记录",
    "funds.conflictdeclaration": "亲属申报",
    "funds.finding": "核查结论",
    "reports.bulletin": "组工信息",
    "reports.bulletinitem": "组工信息条目",
    "reports.bulletinsubmission": "经验做法稿件",
    "reports.exportjob": "导出文件",
    "export": "导出",
    "inspection": "监督预警",
    "demo": "演示数据",
}


def _choices(model_label: str, field: str):
    return lambda: dict(apps.get_model(model_label)._meta.get_field(field).flatchoices)


# Keys of before/after that are not fields of the record's model: label, and how to show the value
# (a model whose ids these are, a choices table, or None for the value as it is).
EXTRA_KEYS: dict[str, tuple[str, object]] = {
    "note": ("说明", None),
    "what": ("内容", None),
    "count": ("人数", None),
    "filters": ("筛选条件", None),
    "export": ("导出类型", None),
    "title": ("名称", None),
    "file": ("文件", None),
    "created": ("新增", None),
    "updated": ("更新", None),
    "unchanged": ("未变", None),
    "towns": ("镇（街道）", "towns.town"),
    "campaign": ("专项活动", "visits.campaign"),
    "list": ("慰问对象名单", None),
    "after_approval": ("审定后变更", None),
    "people": ("名单人数", None),
    "flag": ("监督预警", "funds.inspectionflag"),
    "rule": ("规则", _choices("funds.inspectionflag", "rule")),
    "by_rule": ("各规则预警数", _choices("funds.inspectionflag", "rule")),
    "receipt_id": ("签领凭证", None),
    "receipt_kind": ("凭证类型", _choices("funds.receipt", "kind")),
    "sha256": ("文件摘要", None),
    "covers": ("涉及发放笔数", None),
    "size": ("文件大小（字节）", None),
    "stock_after": ("库存余量", None),
    "open": ("待核查预警", None),
    "new": ("新增预警", None),
    "cleared": ("不再触发的预警", None),
    "as_of": ("计算时间", None),
    "scale": ("规模", None),
    "seed": ("随机种子", None),
    "counts": ("各表行数", lambda: _table_names()),
    "week_start": ("起始周", None),
    "headline": ("标题", None),
    "chars": ("字数", None),
    "items": ("条目", None),
    "nothing_to_declare": ("无近亲属需申报", None),
    "relatives": ("申报的近亲属", None),
    "name": ("姓名", None),
    "relation": ("关系", None),
    "id_number_masked": ("身份证号", None),
    "escalation_level": ("督办级别", None),
    "deadline": ("办结时限", None),
    "status_since": ("状态起始日", None),
    "town": ("镇（街道）", "towns.town"),
    "village": ("村（社区）", "towns.village"),
    "kind": ("方式", None),
    "date_from": ("起始日期", None),
    "date_to": ("截止日期", None),
    "start": ("起始日期", None),
    "end": ("截止日期", None),
    "q": ("搜索", None),
    "值": ("值", None),
}


def _table_names() -> dict[str, str]:
    """Model class names (as load_demo counts them) -> Chinese: 慰问对象, 慰问对象的人群类别 (an M2M table)."""
    names = {m.__name__: str(m._meta.verbose_name) for m in apps.get_models()}
    for model in apps.get_models():
        for field in model._meta.many_to_many:
            through = field.remote_field.through
            names.setdefault(through.__name__, f"{model._meta.verbose_name}的{field.verbose_name}")
    return names


def has_label(action: str) -> bool:
    """True when the action reads in Chinese: in the table, or an admin edit of a model with a Chinese name."""
    if action in ACTION_LABELS:
        return True
    model_name, _, verb = action.partition(".")
    model = _model_by_name(model_name)
    return verb in ADMIN_VERBS and model is not None and _is_chinese(str(model._meta.verbose_name))


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    model_name, _, verb = action.partition(".")
    model = _model_by_name(model_name)
    if verb in ADMIN_VERBS and model is not None:
        return ADMIN_VERBS[verb] + str(model._meta.verbose_name)
    return action  # no label: a test fails before this reaches a page


def object_type_label(object_type: str) -> str:
    if object_type in OBJECT_TYPE_LABELS:
        return OBJECT_TYPE_LABELS[object_type]
    model = _model_for(object_type)
    return str(model._meta.verbose_name) if model else object_type


def _model_for(object_type: str):
    try:
        return apps.get_model(object_type) if object_type and "." in object_type else None
    except LookupError:
        return None


def _model_by_name(model_name: str):
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return model
    return None


# --- times ----------------------------------------------------------------------------------


def local_time(value) -> str:
    """2024-01-08 14:05:33 in Asia/Shanghai: an inspector compares it with paper records, to the second."""
    if isinstance(value, str):
        value = parse_datetime(value) if "T" in value or ":" in value else value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


# --- values by their labels, ids by name ------------------------------------------------------


@dataclass
class DiffRow:
    key: str
    label: str
    before: str
    after: str
    changed: bool


class _Key:
    """How one key of a record's before/after is labelled and shown."""

    def __init__(self, label: str, choices: dict | None = None, target=None, moment: bool = False, day: bool = False):
        self.label, self.choices, self.target, self.moment, self.day = label, choices, target, moment, day


def _keys_of(object_type: str) -> dict[str, _Key]:
    model = _model_for(object_type)
    keys: dict[str, _Key] = {}
    if model is not None:
        for field in model._meta.get_fields():
            if field.auto_created and not field.concrete:
                continue  # reverse relations: never in a snapshot
            label = str(getattr(field, "verbose_name", field.name))
            if field.is_relation and field.related_model is not None:
                key = _Key(label, target=field.related_model)
            else:
                key = _Key(
                    label,
                    choices=dict(field.flatchoices) if field.choices else None,
                    moment=isinstance(field, models.DateTimeField),
                    day=isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField),
                )
            keys[field.name] = key
            if getattr(field, "attname", field.name) != field.name:
                keys[field.attname] = key
    return keys


_KEY_CACHE: dict[str, dict[str, _Key]] = {}


def _key(object_type: str, name: str) -> _Key:
    if object_type not in _KEY_CACHE:
        _KEY_CACHE[object_type] = _keys_of(object_type)
    found = _KEY_CACHE[object_type].get(name)
    if found is not None:
        return found
    label, how = EXTRA_KEYS.get(name, (name, None))
    if isinstance(how, str):
        return _Key(label, target=apps.get_model(how))
    if callable(how):
        return _Key(label, choices=how())
    return _Key(label, moment=name.endswith("_at") or name == "as_of")


def _sides(record) -> tuple[dict, dict]:
    def side(value):
        if value is None:
            return {}
        return value if isinstance(value, dict) else {"值": value}

    return side(record.before), side(record.after)


class NameBook:
    """Names for the ids a page of records holds, read in one query (a UNION over the models named)
    whatever the number of records or models.

    Read through `for_user` where the model is scoped: an id the reader may not see stays a number.
    Records without a name of their own (a visit, a receipt, another grant) read as "走访记录 #12".
    """

    def __init__(self, user=None):
        self.user = user
        self._wanted: dict[type, set] = defaultdict(set)
        self._names: dict[type, dict] = {}

    def want(self, records) -> NameBook:
        for record in records:
            for side in _sides(record):
                for name, value in side.items():
                    key = _key(record.object_type, name)
                    if key.target is not None and key.target._meta.label_lower in NAMED:
                        for pk in value if isinstance(value, list) else [value]:
                            if isinstance(pk, int) or (isinstance(pk, str) and pk.isdigit()):
                                self._wanted[key.target].add(int(pk))
        return self

    def load(self) -> NameBook:
        parts, models_by_tag = [], {}
        for tag, (model, ids) in enumerate(self._wanted.items()):
            models_by_tag[tag] = model
            self._names.setdefault(model, {})
            parts.append(_name_rows(model, ids, self.user, tag))
        self._wanted.clear()
        if parts:
            rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
            for tag, pk, name, role, title, town, place in rows:
                self._names[models_by_tag[tag]][pk] = _row_name(models_by_tag[tag], name, role, title, town, place)
        return self

    def name(self, model, pk) -> str | None:
        if model._meta.label_lower not in NAMED:
            return f"{model._meta.verbose_name} #{pk}"
        return self._names.get(model, {}).get(int(pk)) if str(pk).isdigit() else None


# Models whose ids read as a name: label -> the name's field.
NAMED = {
    "towns.town": "name",
    "towns.village": "name",
    "towns.gridcell": "name",
    "towns.category": "name",
    "towns.beneficiary": "name",
    "towns.household": "head_name",
    "towns.cadre": "name",
    "visits.campaign": "name",
    "funds.goodsitem": "name",
    "auth.user": "username",
}


# label -> NameFormatter: models whose name reads from more columns than one (registered at start-up
# by the app that owns them: towns registers the cadre's "name（town·village post）" and a user's
# name as their cadre's).
_FORMATTERS: dict[str, NameFormatter] = {}


@dataclass(frozen=True)
class NameFormatter:
    # queryset -> (queryset, {"n_name", "n_role", "n_title", "n_town", "n_place": expression})
    columns: Callable
    # (name, role, title, town, place) -> the name as the audit page shows it
    describe: Callable


def register_name_formatter(label: str, *, columns: Callable, describe: Callable) -> None:
    _FORMATTERS[label] = NameFormatter(columns, describe)


def _name_rows(model, ids, user, tag: int):
    """(tag, pk, name, role, title, town, place) rows of one model, the same columns for every model."""
    label = model._meta.label_lower
    qs = model.objects.for_user(user) if hasattr(model.objects, "for_user") else model._base_manager.all()
    qs = qs.filter(pk__in=sorted(ids)).order_by()
    blank = Value("", output_field=CharField())
    cols = {"n_tag": Value(tag, output_field=IntegerField()), "n_pk": F("pk")}
    formatter = _FORMATTERS.get(label)
    if formatter is not None:
        qs, named = formatter.columns(qs)
        cols |= named
    else:
        cols |= {"n_name": F(NAMED[label]), "n_role": blank, "n_title": blank, "n_town": blank, "n_place": blank}
    return qs.annotate(**cols).values_list(*cols)


def _row_name(model, name, role, title, town, place) -> str:
    formatter = _FORMATTERS.get(model._meta.label_lower)
    return name if formatter is None else formatter.describe(name, role, title, town, place)


def _show(value, key: _Key, book: NameBook | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        shown = [_show(v, key, book) for v in value]
        return "、".join(shown) if shown else "—"
    if key.target is not None and (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        name = book.name(key.target, value) if book else None
        return name or f"编号 {value}"
    if key.choices is not None and isinstance(value, dict):
        return "；".join(f"{key.choices.get(k, k)} {v}" for k, v in value.items())
    if key.choices is not None and not isinstance(value, (dict, bool)):
        return str(key.choices.get(value, value))
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, float):
        # Only numeric columns with decimals (money) arrive as floats, from the database trigger's to_jsonb().
        return f"{value:.2f}" if round(value, 2) == value else repr(value)
    if isinstance(value, str) and (key.moment or key.day):
        moment = parse_datetime(value)
        if moment is not None and (key.moment or "T" in value):
            return local_time(moment)
        day = parse_date(value)
        return day.isoformat() if day else value
    if isinstance(value, (date, datetime)):
        return local_time(value) if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, dict):
        return "；".join(f"{_key('', k).label}：{_show(v, _key('', k), book)}" for k, v in value.items())
    return str(value)


def _normalise(value):
    if value in ("", None):
        return None
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def diff_rows(record, *, changed_only: bool = True, book: NameBook | None = None) -> list[DiffRow]:
    """Before and after side by side, one row per field, each labelled and shown by its Chinese name.

    A create shows every value it set; an update shows the changed fields (or all, on the detail page).
    """
    before, after = _sides(record)
    keys = list(after) + [k for k in before if k not in after]
    rows = []
    for name in keys:
        old, new = before.get(name), after.get(name)
        changed = (name in before) != (name in after) or _normalise(old) != _normalise(new)
        if changed_only and record.before is not None and record.after is not None and not changed:
            continue
        key = _key(record.object_type, name)
        rows.append(
            DiffRow(
                name,
                key.label,
                _show(old, key, book) if name in before else "",
                _show(new, key, book) if name in after else "",
                changed,
            )
        )
    return rows


def actor_display(record) -> str:
    """Who did it: the person's name; no person is a failed login, a system job or a direct database write."""
    if record.actor_name:
        return record.actor_name
    if record.action.startswith("account."):
        return "（未登录）"
    if record.channel == "db":
        return "（数据库直接操作，无系统账号）"
    return "系统"  # a scheduled job or a maintenance command: the channel column says which


def decorate(records, *, user, changed_only: bool = True) -> list:
    """Labels, names and before/after rows for a page of records (one query per model named)."""
    records = list(records)
    book = NameBook(user).want(records).load()
    for record in records:
        record.action_label = action_label(record.action)
        record.object_type_label = object_type_label(record.object_type) if record.object_type else ""
        record.role_label = ROLE_LABELS.get(record.actor_role, record.actor_role)
        record.local_time = local_time(record.created_at)
        record.actor_display = actor_display(record)
        record.diff = diff_rows(record, changed_only=changed_only, book=book)
    return records
