"""Forms of the 包保责任区 pages. Choices come from for_user() and one town; the services check again."""

from django import forms
from django.utils import timezone

from core.permissions import TOWN_ROLES
from towns.cadre_labels import CadreChoiceField, with_place
from towns.models import Cadre, GridCell, Household

_DATE = {"required": "请填写日期", "invalid": "日期格式应为 2024-01-09"}


class AssignForm(forms.Form):
    cadre = CadreChoiceField(
        label="干部",
        queryset=Cadre.objects.none(),
        empty_label="请选择",
        error_messages={"required": "请选择干部", "invalid_choice": "干部不存在或不在您的管辖范围内"},
    )
    cell = forms.ModelChoiceField(
        label="包保网格",
        queryset=GridCell.objects.none(),
        required=False,
        empty_label="（不包网格，改为包户）",
        error_messages={"invalid_choice": "网格不存在或不在您的管辖范围内"},
    )
    # Rendered as radio buttons from the household search, not as a select of every household.
    household = forms.ModelChoiceField(
        label="包保户",
        queryset=Household.objects.none(),
        required=False,
        error_messages={"invalid_choice": "户不存在或不在您的管辖范围内"},
    )
    starts_on = forms.DateField(
        label="开始日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), error_messages=_DATE
    )

    def __init__(self, user, town, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadre"].queryset = with_place(
            Cadre.objects.for_user(user).filter(town=town, is_active=True, role__in=sorted(TOWN_ROLES))
        ).order_by("role", "name", "id")
        self.fields["cell"].queryset = (
            GridCell.objects.for_user(user)
            .filter(town=town, level=GridCell.Level.SMALL)
            .select_related("village")
            .order_by("code")
        )
        self.fields["household"].queryset = Household.objects.for_user(user).filter(town=town)
        self.initial["starts_on"] = self.initial.get("starts_on") or timezone.localdate()

    @classmethod
    def from_request(cls, user, town, request) -> "AssignForm":
        """Bound to a submitted assignment; on the first visit or a household search (the search button
        without JavaScript) unbound, keeping what was chosen."""
        if request.method == "POST" and "_search" not in request.POST:
            return cls(user, town, request.POST)
        data = request.POST if request.method == "POST" else request.GET
        return cls(user, town, initial={k: data.get(k) for k in ("cadre", "cell", "household", "starts_on") if data.get(k)})

    def clean(self):
        data = super().clean()
        if not self.errors and (data.get("cell") is None) == (data.get("household") is None):
            raise forms.ValidationError("请选择一个网格，或查找并选择一户（二者选一）")
        return data


def household_search(request) -> tuple[str, str]:
    """The assign page's household search text (at most 30 characters) and the household chosen."""
    data = request.POST if request.method == "POST" else request.GET
    return data.get("q", "").strip()[:30], str(data.get("household") or "")


class EndAssignmentForm(forms.Form):
    ends_on = forms.DateField(
        label="结束日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), error_messages=_DATE
    )
    reason = forms.CharField(
        label="结束原因",
        max_length=200,
        help_text="如：工作调整、退休、网格重新划分",
        error_messages={"required": "请填写结束原因", "max_length": "结束原因最多200个字"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["ends_on"] = self.initial.get("ends_on") or timezone.localdate()

    def clean_ends_on(self):
        # Shown with the form's other errors; assignment_end is the rule and checks it again.
        ends_on = self.cleaned_data["ends_on"]
        if ends_on > timezone.localdate():
            raise forms.ValidationError("结束日期不能晚于今天")
        return ends_on
