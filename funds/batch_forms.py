"""The batch distribution form (集中发放, issue 5 §2). Choices come from for_user(); the service checks again."""

import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.utils import timezone

from funds.models import Budget, Disbursement, GoodsItem
from towns.cadre_labels import CadreChoiceField, with_place
from towns.models import Cadre
from visits.models import Campaign

_OUT_OF_SCOPE = "{}不存在或不在您的管辖范围内"
MAX_ID_LINES = 500


class BatchForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    campaign = forms.ModelChoiceField(
        label="专项活动",
        queryset=Campaign.objects.none(),
        required=False,
        empty_label="（不属于专项活动）",
        error_messages={"invalid_choice": _OUT_OF_SCOPE.format("专项活动")},
    )
    handed_at = forms.DateTimeField(
        label="发放时间",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": "请填写发放时间", "invalid": "时间格式应为 2024-01-09 10:00"},
    )
    handed_by = CadreChoiceField(
        label="发放人",
        queryset=Cadre.objects.none(),
        empty_label="请选择",
        error_messages={"required": "请选择发放人", "invalid_choice": _OUT_OF_SCOPE.format("发放人")},
    )
    kind = forms.ChoiceField(
        label="发放方式",
        choices=Disbursement.Kind.choices,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        error_messages={"required": "请选择发放方式", "invalid_choice": "请选择发放方式"},
    )
    source = forms.ChoiceField(label="经费来源", choices=Budget.Source.choices, initial=Budget.Source.TOWN_FINANCE)
    amount = forms.DecimalField(
        label="每人金额（元）",
        required=False,
        min_value=Decimal("0.01"),
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
        help_text="现金、转账时填写；名单中可逐人修改",
        error_messages={
            "invalid": "金额须为数字",
            "min_value": "请填写大于0的金额",
            "max_decimal_places": "金额最多保留两位小数",
            "max_digits": "金额过大，请核对",
            "max_whole_digits": "金额过大，请核对",
        },
    )
    goods_item = forms.ModelChoiceField(
        label="慰问品",
        queryset=GoodsItem.objects.order_by("name"),
        required=False,
        empty_label="请选择",
        error_messages={"invalid_choice": "请选择慰问品"},
    )
    quantity = forms.IntegerField(
        label="每人数量",
        required=False,
        min_value=1,
        max_value=1000,
        help_text="发放慰问品时填写；名单中可逐人修改",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "数量须为整数", "min_value": "数量须大于0", "max_value": "每人数量过大，请核对"},
    )
    id_numbers = forms.CharField(
        label="粘贴身份证号",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "每行一个身份证号"}),
        help_text="可从花名册中复制身份证号列粘贴，每行一个；与上面勾选的对象合并。",
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.for_user(user).order_by("-starts_on")
        self.fields["handed_by"].queryset = with_place(Cadre.objects.for_user(user).filter(is_active=True)).order_by("name", "id")
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())
            self.initial.setdefault("handed_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER):
            data["goods_item"], data["quantity"] = None, None
        elif kind == Disbursement.Kind.GOODS:
            data["amount"] = None
            if data.get("goods_item") is None and "goods_item" not in self.errors:
                self.add_error("goods_item", "发放慰问品须选择物品")
            if not data.get("quantity") and "quantity" not in self.errors:
                self.add_error("quantity", "发放慰问品须填写每人数量")
        lines = [line.strip() for line in (data.get("id_numbers") or "").splitlines() if line.strip()]
        if len(lines) > MAX_ID_LINES:
            self.add_error("id_numbers", f"一次最多粘贴{MAX_ID_LINES}个身份证号")
        data["id_lines"] = lines
        return data


def batch_rows(post, chosen: list, data: dict) -> tuple[list[dict], list[str]]:
    """The preview's rows: each person's amount or quantity (their own, else the form's default),
    and a guardian for cash to a minor; problems by person."""
    rows, problems = [], []
    money = data["kind"] in (Disbursement.Kind.CASH, Disbursement.Kind.TRANSFER)
    handed_on = timezone.localtime(data["handed_at"]).date()
    for person in chosen:
        amount, quantity, problem = _row_values(post, person, data)
        if problem:
            problems.append(problem)
        # Cash to a minor goes to a recorded guardian: the row asks for one (the service insists).
        minor = money and person.is_minor_on(handed_on)
        guardian = (post.get(f"guardian_name_{person.pk}") or "").strip()[:30]
        relation = (post.get(f"guardian_relation_{person.pk}") or "").strip()[:20]
        if minor and "_confirm" in post and not (guardian and relation):
            problems.append(f"{person.name}未满{settings.GRANT_MINOR_AGE}周岁，请填写监护人姓名及与其关系")
        rows.append(
            {
                "person": person,
                "amount": amount,
                "quantity": quantity,
                "minor": minor,
                "guardian_name": guardian,
                "guardian_relation": relation,
            }
        )
    return rows, problems


def _row_values(post, person, form_data) -> tuple[Decimal | None, int | None, str]:
    """A row's amount or quantity: the row's own value if given, else the form's default."""
    kind = form_data["kind"]
    if kind == Disbursement.Kind.GOODS:
        raw = (post.get(f"quantity_{person.pk}") or "").strip()
        if not raw:
            return None, form_data["quantity"], ""
        try:
            value = int(raw)
        except ValueError:
            return None, None, f"{person.name}：数量须为整数"
        return (None, value, "") if value > 0 else (None, None, f"{person.name}：数量须大于0")
    raw = (post.get(f"amount_{person.pk}") or "").strip()
    if not raw:
        return form_data["amount"], None, "" if form_data["amount"] else f"{person.name}：请填写金额"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None, None, f"{person.name}：金额须为数字"
    if not value.is_finite() or value <= 0:
        return None, None, f"{person.name}：请填写大于0的金额"
    return value, None, ""
