"""Forms of the budget, standard and goods pages. Choices come from for_user(); services check again."""

from django import forms
from django.utils import timezone

from funds.models import Budget, GoodsItem
from towns.models import Category, Town
from visits.models import Campaign

_OUT_OF_SCOPE = "{}不存在或不在您的管辖范围内"


def _money(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
        error_messages={
            "required": f"请填写{label}",
            "invalid": f"{label}须为数字",
            "min_value": f"{label}不能为负数",
            "max_digits": f"{label}过大，请核对",
            "max_decimal_places": f"{label}最多保留两位小数",
            "max_whole_digits": f"{label}过大，请核对",
        },
    )


class BudgetForm(forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _OUT_OF_SCOPE.format("专项活动")},
    )
    town = forms.ModelChoiceField(
        label="镇（街道）",
        queryset=Town.objects.none(),
        empty_label="请选择",
        error_messages={"required": "请选择镇（街道）", "invalid_choice": _OUT_OF_SCOPE.format("镇（街道）")},
    )
    source = forms.ChoiceField(label="经费来源", choices=Budget.Source.choices, error_messages={"required": "请选择经费来源"})
    amount = _money("预算金额（元）")
    reason = forms.CharField(
        label="修改原因", max_length=200, required=False, help_text="新设预算可不填；修改已有预算必须填写原因（留痕）"
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.for_user(user)
        self.fields["town"].queryset = Town.objects.for_user(user).order_by("code")


class StandardForm(forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _OUT_OF_SCOPE.format("专项活动")},
    )
    category = forms.ModelChoiceField(
        label="人群类别",
        queryset=Category.objects.order_by("sort_order", "name"),
        empty_label="请选择",
        error_messages={"required": "请选择人群类别", "invalid_choice": "请选择人群类别"},
    )
    amount = _money("慰问标准（元/人）")
    reason = forms.CharField(
        label="修改原因", max_length=200, required=False, help_text="新设标准可不填；修改已有标准必须填写原因（留痕）"
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.for_user(user)


class StockReceiveForm(forms.Form):
    goods_item = forms.ModelChoiceField(
        label="慰问品",
        queryset=GoodsItem.objects.order_by("name"),
        empty_label="请选择",
        error_messages={"required": "请选择慰问品", "invalid_choice": "请选择慰问品"},
    )
    quantity = forms.IntegerField(
        label="入库数量",
        min_value=1,
        max_value=1_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "请填写入库数量",
            "invalid": "入库数量须为整数",
            "min_value": "入库数量须为大于0的整数",
            "max_value": "入库数量过大，请核对",
        },
    )
    source = forms.CharField(
        label="来源",
        max_length=120,
        help_text="如：镇财政采购、县慈善总会捐赠、爱心企业捐赠",
        error_messages={"required": "请填写来源", "max_length": "来源最多120字"},
    )
    received_on = forms.DateField(
        label="入库日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "请填写入库日期", "invalid": "日期格式应为 2024-01-09"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
