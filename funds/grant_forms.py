"""Forms of the grant pages. They only shape input; the rules (and their messages) live in the services."""

import uuid

from django import forms
from django.utils import timezone

from funds.models import Budget, Disbursement, GoodsItem, Receipt

REASON_HELP = "原因写入审计记录，纪检监察可见，作废后原记录仍保留。"


def _text(**attrs):
    return forms.TextInput(attrs={"class": "form-control", **attrs})


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="作废原因",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control", "placeholder": "如：金额录入错误，应为500元"}),
        help_text=REASON_HELP,
        error_messages={"required": "作废须填写原因", "max_length": "原因最多200字"},
    )


class ReissueForm(forms.Form):
    """The corrected grant, prefilled from the original; the person, campaign and visit stay."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label="发放方式", choices=Disbursement.Kind.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
    amount = forms.DecimalField(
        label="金额（元）",
        required=False,
        min_value=0.01,
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01", "inputmode": "decimal"}),
        error_messages={
            "invalid": "请填写金额，如 300 或 300.50",
            "min_value": "金额须大于0",
            "max_decimal_places": "金额最多保留两位小数",
        },
    )
    goods_item = forms.ModelChoiceField(
        label="慰问品",
        required=False,
        queryset=GoodsItem.objects.order_by("name"),
        empty_label="（现金或转账不选）",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    quantity = forms.IntegerField(
        label="数量", required=False, min_value=1, max_value=999, widget=forms.NumberInput(attrs={"class": "form-control"})
    )
    handed_at = forms.DateTimeField(
        label="发放时间",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": "请填写发放时间", "invalid": "发放时间格式不正确"},
    )
    source = forms.ChoiceField(
        label="经费来源", choices=Budget.Source.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
    proxy_name = forms.CharField(label="代领人姓名", required=False, max_length=30, widget=_text(), help_text="本人领取则不填")
    proxy_relation = forms.CharField(label="代领人与对象关系", required=False, max_length=20, widget=_text())
    account_holder = forms.CharField(
        label="收款账户户名", required=False, max_length=30, widget=_text(), help_text="银行转账时填写：本人姓名，或代领人姓名"
    )
    guardian_name = forms.CharField(
        label="监护人姓名", required=False, max_length=30, widget=_text(), help_text="慰问对象未成年、发放现金或转账时必填"
    )
    guardian_relation = forms.CharField(label="监护人与对象关系", required=False, max_length=20, widget=_text())
    reason = forms.CharField(
        label="更正原因",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "placeholder": "如：金额录入错误，应为500元"}),
        help_text="原记录以此原因作废并保留，新记录注明“更正自”原记录。",
        error_messages={"required": "更正须填写原因", "max_length": "原因最多200字"},
    )

    @classmethod
    def initial_from(cls, grant: Disbursement) -> dict:
        return {
            "idempotency_key": uuid.uuid4(),
            "kind": grant.kind,
            "amount": grant.amount,
            "goods_item": grant.goods_item_id,
            "quantity": grant.quantity,
            "handed_at": timezone.localtime(grant.handed_at),
            "source": grant.source,
            "proxy_name": grant.proxy_name,
            "proxy_relation": grant.proxy_relation,
            "account_holder": grant.account_holder,
            "guardian_name": grant.guardian_name,
            "guardian_relation": grant.guardian_relation,
        }

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "idempotency_key": data["idempotency_key"],
            "reason": data["reason"],
            "kind": data["kind"],
            "amount": data["amount"],
            "goods_item": data["goods_item"],
            "quantity": data["quantity"],
            "handed_at": data["handed_at"],
            "source": data["source"],
            "proxy_name": data["proxy_name"],
            "proxy_relation": data["proxy_relation"],
            "account_holder": data["account_holder"],
            "guardian_name": data["guardian_name"],
            "guardian_relation": data["guardian_relation"],
        }


class ApproveForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "同意"), ("reject", "不同意")], error_messages={"required": "请选择同意或不同意"}
    )
    note = forms.CharField(label="审批意见", required=False, max_length=200, error_messages={"max_length": "审批意见最多200字"})


class ReceiptUploadForm(forms.Form):
    kind = forms.ChoiceField(label="凭证类型", choices=Receipt.Kind.choices, widget=forms.RadioSelect)
    # On a phone, capture="environment" opens the back camera so the cadre photographs the signature.
    file = forms.FileField(
        label="照片或扫描件",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/*,application/pdf", "capture": "environment", "class": "form-control"}
        ),
        help_text="JPG、PNG 图片或 PDF，不超过 10 MB。",
        error_messages={"required": "请选择要上传的文件"},
    )

    def __init__(self, *args, several: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if several:
            # A page signed by several people is a roster page; scanners at the town office make PDFs.
            self.fields["kind"].choices = [(Receipt.Kind.ROSTER_PAGE, Receipt.Kind.ROSTER_PAGE.label)]
            self.fields["kind"].initial = Receipt.Kind.ROSTER_PAGE
            self.fields["file"].widget.attrs.pop("capture")
        else:
            self.fields["kind"].initial = Receipt.Kind.SIGNATURE
            self.fields["file"].widget.attrs["accept"] = "image/*"
