"""The group-activity form. Choices come from for_user(); the service checks them again."""

import uuid

from django import forms
from django.utils import timezone

from towns.models import Village, VolunteerTeam
from visits import selectors
from visits.models import Activity, Campaign
from visits.services import ACTIVITY_COUNT_LIMITS

_OUT_OF_SCOPE = "{}不存在或不在您的管辖范围内"


def _count(label, field, *, required=True, help_text=""):
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=0,
        max_value=ACTIVITY_COUNT_LIMITS[field],
        initial=0 if required else None,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": f"请填写{label}",
            "invalid": f"{label}须为整数",
            "min_value": f"{label}不能为负数",
            "max_value": f"{label}不能超过 %(limit_value)s",
        },
    )


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(
        label="活动类型",
        choices=Activity.Kind.choices,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        error_messages={"required": "请选择活动类型", "invalid_choice": "请选择活动类型"},
    )
    held_on = forms.DateField(
        label="活动日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "请填写活动日期", "invalid": "日期格式应为 2024-01-09"},
    )
    village = forms.ModelChoiceField(
        label="村（社区）",
        queryset=Village.objects.none(),
        required=False,
        empty_label="全镇",
        error_messages={"invalid_choice": _OUT_OF_SCOPE.format("村（社区）")},
    )
    title = forms.CharField(
        label="活动名称", max_length=100, required=False, help_text="可不填：默认为“村名 + 活动类型”，如“长兴社区集中慰问”"
    )
    organiser = forms.ModelChoiceField(
        label="组织队伍",
        queryset=VolunteerTeam.objects.none(),
        required=False,
        empty_label="（不选，或在下栏填写）",
        error_messages={"invalid_choice": _OUT_OF_SCOPE.format("组织队伍")},
    )
    organiser_name = forms.CharField(
        label="其他组织单位", max_length=80, required=False, help_text="如：镇卫生院、镇党委、村两委"
    )
    participants_count = _count("参与人数", "participants_count", help_text="参加活动的干部、志愿者、医护人员等")
    reached_count = _count(
        "惠及人数",
        "reached_count",
        required=False,
        help_text="本次活动惠及的全部群众人数。下方勾选的是其中已在重点人群信息库登记的对象；"
        "惠及人数少于勾选人数时，按勾选人数计。",
    )
    gifts_count = _count("发放慰问品（份）", "gifts_count")
    campaign = forms.ModelChoiceField(
        label="专项活动",
        queryset=Campaign.objects.none(),
        required=False,
        empty_label="（不属于专项活动）",
        error_messages={"invalid_choice": _OUT_OF_SCOPE.format("专项活动")},
    )
    notes = forms.CharField(label="情况记录", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    other_villages_confirmed = forms.BooleanField(
        label="确认跨村参加",
        required=False,
        help_text="活动在本村（社区）举办，勾选的对象中有外村（社区）的在册人员参加时勾选",
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = Village.objects.for_user(user).order_by("code")
        self.fields["organiser"].queryset = VolunteerTeam.objects.for_user(user).order_by("name")
        self.fields["campaign"].queryset = Campaign.objects.for_user(user).order_by("-starts_on")
        if not self.is_bound:
            today = timezone.localdate()
            # Redisplayed after a search (no JavaScript): keep what was typed, fill what is empty.
            self.initial["held_on"] = self.initial.get("held_on") or today
            self.initial["idempotency_key"] = self.initial.get("idempotency_key") or uuid.uuid4()
            if "campaign" not in self.initial:
                running = selectors.running_campaigns(user, today=today).first()
                self.initial["campaign"] = running.pk if running else None

    def clean_held_on(self):
        # Said here too so it shows alongside the form's other errors; the service is the rule.
        held_on = self.cleaned_data["held_on"]
        if held_on > timezone.localdate():
            raise forms.ValidationError("活动日期不能晚于今天")
        return held_on

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["organiser_name"] = data["organiser_name"].strip()
        return data
