"""The visit log form (issue 4 §3): one screen a grid worker fills in on a phone.

A plain Form: the visit, its grants and its follow-ups are written by one service
(funds.visit_log.visit_log), which also checks every rule; the form only parses what was typed
into the service's typed input and puts the service's Chinese errors beside the fields they concern.
"""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from funds.models import Disbursement, GoodsItem
from funds.visit_log import GrantLine, VisitLogInput, VisitPart
from towns.cadre_labels import cadre_label, with_place
from towns.models import Cadre
from visits.models import Visit

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _number(attrs=None, *, decimal=False):
    # inputmode brings up the phone's number pad; type=number would let some keyboards drop the
    # decimal point, and browsers' own range messages would replace our Chinese ones.
    base = {"inputmode": "decimal" if decimal else "numeric", "autocomplete": "off"}
    if not decimal:
        base["pattern"] = "[0-9]*"
    return forms.TextInput(attrs={**base, **(attrs or {})})


class VisitorsWidget(forms.CheckboxSelectMultiple):
    """Colleagues as checkboxes; the cadre logging the visit is always one of the visitors."""

    def __init__(self, *args, me: int | None = None, **kwargs):
        self.me = me
        super().__init__(*args, **kwargs)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value == self.me:
            option["selected"] = True
            option["attrs"] = {**option["attrs"], "checked": True, "disabled": True}
        return option


class ListedModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that validates against objects the view has already read (``listed``),
    instead of reading the chosen one again."""

    listed: dict | None = None

    def to_python(self, value):
        if self.listed is None or value in self.empty_values:
            return super().to_python(value)
        try:
            return self.listed[str(value)]
        except KeyError:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None


class VisitLogForm(forms.Form):
    beneficiary = forms.IntegerField(widget=forms.HiddenInput)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, error_messages={"invalid": "表单已失效，请刷新页面后重新填写"})
    kind = forms.ChoiceField(
        label="走访方式",
        choices=Visit.Kind.choices,
        initial=Visit.Kind.HOME,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择走访方式", "invalid_choice": "请选择走访方式"},
    )
    visited_at = forms.DateTimeField(
        label="走访时间",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(format=DATETIME_LOCAL, attrs={"type": "datetime-local"}),
        error_messages={"required": "请填写走访时间", "invalid": "请按“年-月-日 时:分”填写走访时间"},
    )
    visitors = forms.TypedMultipleChoiceField(
        label="走访干部",
        coerce=int,
        required=False,
        error_messages={"invalid_choice": "所选干部不是本镇在岗干部，请重新选择"},
    )
    volunteers_count = forms.IntegerField(
        label="志愿者人数",
        required=False,
        min_value=0,
        max_value=500,
        widget=_number({"placeholder": "0"}),
        error_messages={"invalid": "请填写整数", "min_value": "志愿者人数不能为负数", "max_value": "志愿者人数应在0–500之间"},
    )
    cash_amount = forms.DecimalField(
        label="慰问金（元）",
        required=False,
        min_value=0.01,
        max_digits=10,
        decimal_places=2,
        widget=_number({"placeholder": "未发放则不填"}, decimal=True),
        error_messages={
            "invalid": "请填写金额，如 300 或 300.50",
            "min_value": "金额须大于0",
            "max_decimal_places": "金额最多保留两位小数",
            "max_digits": "金额过大，请核对",
            "max_whole_digits": "金额过大，请核对",
        },
    )
    cash_kind = forms.ChoiceField(
        label="发放方式",
        choices=[(Disbursement.Kind.CASH, "现金"), (Disbursement.Kind.TRANSFER, "银行转账")],
        initial=Disbursement.Kind.CASH,
        widget=forms.RadioSelect,
        help_text="银行转账须转入慰问对象本人（或其监护人）的账户。",
        error_messages={"invalid_choice": "请选择现金或银行转账"},
    )
    account_holder = forms.CharField(
        label="收款账户户名",
        required=False,
        max_length=30,
        help_text="银行转账时填写：慰问对象本人姓名，或代领人姓名（须填写代领人及关系）",
    )
    proxy_name = forms.CharField(label="代领人姓名", required=False, max_length=30, help_text="本人领取则不填")
    proxy_relation = forms.CharField(label="代领人与对象关系", required=False, max_length=20)
    # Shown when the person is a minor: cash to a minor needs a guardian (the service refuses without).
    guardian_name = forms.CharField(label="监护人姓名", required=False, max_length=30)
    guardian_relation = forms.CharField(label="监护人与对象关系", required=False, max_length=20, help_text="如：母亲、祖父")
    goods_item = ListedModelChoiceField(
        label="慰问品",
        required=False,
        queryset=GoodsItem.objects.none(),
        empty_label="未发放慰问品",
        error_messages={"invalid_choice": "请从列表中选择慰问品"},
    )
    goods_quantity = forms.IntegerField(
        label="数量",
        required=False,
        min_value=1,
        max_value=999,
        widget=_number(),
        error_messages={"invalid": "请填写整数", "min_value": "数量须大于0", "max_value": "数量应在1–999之间"},
    )
    bp_systolic = forms.IntegerField(
        label="收缩压", required=False, widget=_number({"placeholder": "高压"}), error_messages={"invalid": "请填写整数"}
    )
    bp_diastolic = forms.IntegerField(
        label="舒张压", required=False, widget=_number({"placeholder": "低压"}), error_messages={"invalid": "请填写整数"}
    )
    demands = forms.CharField(
        label="群众诉求",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "每行一条，最多10条，每条不超过120字"}),
        help_text="每行登记为一条诉求，进入诉求办理。",
    )
    notes = forms.CharField(
        label="情况记录",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "身体、生活、家庭情况等"}),
        error_messages={"max_length": "情况记录最多2000字（现有%(show_value)d字）"},
    )

    def __init__(self, *args, user, person, goods=None, **kwargs):
        self.user = user
        self.person = person
        self.minor = person.is_minor_on(timezone.localdate())  # the guardian fields are shown
        me = user.cadre
        self.me = me
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("beneficiary", person.pk)
        initial.setdefault("idempotency_key", uuid.uuid4())
        initial.setdefault("visited_at", timezone.localtime().replace(second=0, microsecond=0))
        initial.setdefault("visitors", [me.pk])
        super().__init__(*args, **kwargs)
        # Choices only from the user's scope: active cadres of the person's own town.
        colleagues = [
            (c.pk, cadre_label(c))
            for c in with_place(Cadre.objects.for_user(user).filter(town_id=person.town_id, is_active=True).exclude(pk=me.pk))
            .only("id", "name", "role", "title")
            .order_by("name", "id")
        ]
        visitors = self.fields["visitors"]
        visitors.choices = [(me.pk, f"{me.name}（本人）"), *colleagues]
        visitors.widget = VisitorsWidget(me=me.pk, choices=visitors.choices)
        self.colleagues_count = len(colleagues)
        # Radios drawn as big buttons (Bootstrap's btn-check); autocomplete off stops Firefox from
        # restoring a stale choice after a reload.
        for name in ("kind", "cash_kind"):
            self.fields[name].widget.attrs.update({"class": "btn-check", "autocomplete": "off"})
        visitors.widget.attrs["class"] = "form-check-input"
        goods_field = self.fields["goods_item"]
        goods_field.queryset = GoodsItem.objects.order_by("name")
        if goods is not None:
            # Choices already read by the view: render them without a second query.
            goods_field.choices = [("", goods_field.empty_label), *((g.pk, str(g)) for g in goods)]
            goods_field.listed = {str(g.pk): g for g in goods}

    def clean_visitors(self):
        # The disabled "me" checkbox is never submitted; the recorder is a visitor anyway.
        return sorted(set(self.cleaned_data["visitors"]) - {self.me.pk})

    def clean_beneficiary(self):
        if self.cleaned_data["beneficiary"] != self.person.pk:
            raise ValidationError("慰问对象与页面不一致，请从名单重新进入")
        return self.person

    def clean_demands(self):
        return [line.strip() for line in self.cleaned_data["demands"].splitlines() if line.strip()]

    def clean(self):
        data = super().clean()
        # A field typed in error would read as "nothing handed over": only a form without grants.
        handed = any(data.get(name) is not None or self.has_error(name) for name in ("cash_amount", "goods_item"))
        if (data.get("proxy_name") or "").strip() and not handed:
            self.add_error("proxy_name", "未发放慰问金或慰问品，无需填写代领人")
        return data

    def visit_log_input(self) -> VisitLogInput:
        data = self.cleaned_data
        visit = VisitPart(
            beneficiary=self.person,
            idempotency_key=data["idempotency_key"],
            visited_at=data["visited_at"],
            kind=data["kind"],
            visitor_ids=data["visitors"],
            volunteers_count=data["volunteers_count"] or 0,
            bp_systolic=data["bp_systolic"],
            bp_diastolic=data["bp_diastolic"],
            notes=data["notes"],
        )
        # The guardian of a minor and a proxy are recorded on every grant of the visit.
        handover = {
            "proxy_name": data["proxy_name"],
            "proxy_relation": data["proxy_relation"],
            "guardian_name": data["guardian_name"],
            "guardian_relation": data["guardian_relation"],
        }
        grants = []
        if data["cash_amount"] is not None:
            kind = data["cash_kind"] or Disbursement.Kind.CASH
            grants.append(GrantLine(kind=kind, amount=data["cash_amount"], account_holder=data["account_holder"], **handover))
        if data["goods_item"] is not None or data["goods_quantity"]:
            goods = {"goods_item": data["goods_item"], "quantity": data["goods_quantity"]}
            grants.append(GrantLine(kind=Disbursement.Kind.GOODS, **goods, **handover))
        return VisitLogInput(visit=visit, grants=grants, demands=data["demands"])

    def add_service_errors(self, error: ValidationError) -> None:
        """Put each of the service's messages beside its field; the rest above the form."""
        by_name = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        placed: dict = {}
        for name, messages in by_name.items():
            field = _SERVICE_NAMES.get(name, name.partition(".")[2] or name)
            target = field if field in self.fields and field not in ("beneficiary", "idempotency_key") else None
            seen = placed.setdefault(target, [])
            for message in messages:
                if message not in seen:
                    seen.append(message)
                    self.add_error(target, message)


# The service's names (funds/visit_log.py) of what this form's fields hold; a name not listed is
# a field's own ("visited_at"), or a grant's field of the same name ("cash.proxy_name").
_SERVICE_NAMES = {
    "cash.amount": "cash_amount",
    "cash.kind": "cash_kind",
    "cash.quantity": "goods_quantity",
    "cash.handed_at": "visited_at",
    "goods.quantity": "goods_quantity",
    "goods.amount": "cash_amount",
    "goods.kind": "goods_item",
    "goods.handed_at": "visited_at",
}
