"""Forms of the follow-up pages. Choices come from for_user(); the services resolve them again."""

from django import forms

from towns.models import Village
from visits.followup_services import owner_choices
from visits.models import FollowUp

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FollowUpRaiseForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=FollowUp.Kind.choices, error_messages={"required": "请选择事项类型"})
    title = forms.CharField(
        label="事项", max_length=120, error_messages={"required": "请填写事项内容", "max_length": "事项最多120个字"}
    )
    description = forms.CharField(label="详细情况", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # From a person's page (?beneficiary=): a hidden id, not a select of every person of the town.
    beneficiary = forms.IntegerField(required=False, widget=forms.HiddenInput)
    village = forms.ModelChoiceField(
        label="村（社区）",
        queryset=Village.objects.none(),
        required=False,
        empty_label="（按慰问对象所在村）",
        help_text="村民议事会、板凳会收集的意见建议不针对个人时，选择所在村",
        error_messages={"invalid_choice": "村（社区）不存在或不在您的管辖范围内"},
    )
    urgency = forms.TypedChoiceField(label="紧急程度", coerce=int, choices=FollowUp.Level.choices, initial=FollowUp.Level.LOW)
    importance = forms.TypedChoiceField(label="重要程度", coerce=int, choices=FollowUp.Level.choices, initial=FollowUp.Level.LOW)
    scope = forms.ChoiceField(label="影响范围", choices=FollowUp.Scope.choices, initial=FollowUp.Scope.PERSON)
    owner = forms.ModelChoiceField(
        label="责任人",
        queryset=None,
        required=False,
        empty_label="（受理时指定）",
        error_messages={"invalid_choice": "责任人不存在或不在您的管辖范围内"},
    )
    owner_department = forms.CharField(
        label="责任部门", max_length=60, required=False, help_text="由镇里指定的部门，如民政办、村委会"
    )
    deadline = forms.DateField(
        label="办结时限",
        required=False,
        widget=_DATE,
        help_text="留空则按本镇规则（未设规则时：高 3 天、较高 7 天、一般 15 天）自动计算",
        error_messages={"invalid": "日期格式应为 2024-01-09"},
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = Village.objects.for_user(user).order_by("name")
        self.fields["owner"].queryset = owner_choices(user)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)
