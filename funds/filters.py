"""Which audit records: one FilterSet for the audit page (and, later, its export)."""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from core.audit_labels import ACTION_LABELS, OBJECT_TYPE_LABELS, action_label, object_type_label
from core.filtering import Styled
from core.models import AuditRecord
from funds.models import Disbursement, Finding, InspectionFlag
from towns.models import Town, Village
from visits.models import Campaign


def _towns(request):
    return Town.objects.for_user(request.user if request else None).order_by("code")


def _start_of(day) -> datetime:
    # Whole local days as a half-open range on created_at, so the index on (town, created_at) is usable.
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditRecordFilter(Styled, django_filters.FilterSet):
    town = django_filters.ModelChoiceFilter(label="对象所属镇", queryset=_towns, empty_label="全部")
    actor = django_filters.CharFilter(label="操作人或账号", method="filter_actor")
    action = django_filters.ChoiceFilter(
        label="操作", choices=sorted(ACTION_LABELS.items(), key=lambda kv: kv[1]), empty_label="全部"
    )
    object_type = django_filters.ChoiceFilter(label="对象类型", choices=list(OBJECT_TYPE_LABELS.items()), empty_label="全部")
    object_id = django_filters.CharFilter(label="对象编号", field_name="object_id")
    date_from = django_filters.DateFilter(
        label="起始日期", method="filter_date_from", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(label="截止日期", method="filter_date_to", widget=forms.DateInput(attrs={"type": "date"}))
    channel = django_filters.ChoiceFilter(label="渠道", choices=AuditRecord.Channel.choices, empty_label="全部")

    class Meta:
        model = AuditRecord
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Actions and object types without a Chinese label yet (new services, the admin's
        # "goodsitem.update") still filter: a submitted code is offered as a choice of its own.
        for name, label_of in (("action", action_label), ("object_type", object_type_label)):
            value = self.data.get(name) if self.data else None
            known = {code for code, _ in self.filters[name].extra["choices"]}
            if value and value not in known and len(value) <= 60:
                self.filters[name].extra["choices"] = [*self.filters[name].extra["choices"], (value, label_of(value))]

    def filter_actor(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Failed logins have no actor: the attempted username is the object, so match it too.
        return queryset.filter(
            Q(actor_name__icontains=value)
            | Q(actor__username__icontains=value)
            | Q(object_type="auth.user", object_repr__icontains=value)
        )

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))


# --- inspection flags and the grant roster (issue 5 §4-5) ---------------------------------


def _campaigns(request):
    return Campaign.objects.for_user(request.user if request else None).order_by("-starts_on")


def _villages(request):
    return Village.objects.for_user(request.user if request else None).select_related("town").order_by("code")


NO_FINDING = "none"


class InspectionFlagFilter(Styled, django_filters.FilterSet):
    """Which flags: by town, rule, status and the latest finding's verdict (or none yet)."""

    town = django_filters.ModelChoiceFilter(label="镇（街道）", queryset=_towns, empty_label="全部")
    rule = django_filters.ChoiceFilter(label="规则", choices=InspectionFlag.Rule.choices, empty_label="全部")
    status = django_filters.ChoiceFilter(label="状态", choices=InspectionFlag.Status.choices, empty_label="全部")
    verdict = django_filters.ChoiceFilter(
        label="核查结论", choices=[(NO_FINDING, "未核查"), *Finding.Verdict.choices], empty_label="全部", method="filter_verdict"
    )
    campaign = django_filters.ModelChoiceFilter(label="专项活动", queryset=_campaigns, empty_label="全部")

    class Meta:
        model = InspectionFlag
        fields: list[str] = []

    def filter_verdict(self, queryset, name, value):
        # The flag's verdict is its newest finding's.
        latest = Finding.objects.filter(flag=OuterRef("pk")).order_by("-created_at", "-id").values("verdict")[:1]
        queryset = queryset.annotate(latest_verdict=Subquery(latest))
        if value == NO_FINDING:
            return queryset.filter(latest_verdict__isnull=True)
        return queryset.filter(latest_verdict=value)


class RosterFilter(Styled, django_filters.FilterSet):
    """发放花名册: one campaign's grants, by town, village and kind. The printed roster and issue 7's export share it."""

    campaign = django_filters.ModelChoiceFilter(label="专项活动", queryset=_campaigns, empty_label=None, required=True)
    town = django_filters.ModelChoiceFilter(label="镇（街道）", queryset=_towns, empty_label="全部")
    village = django_filters.ModelChoiceFilter(
        label="村（社区）", queryset=_villages, field_name="cell__village", empty_label="全部"
    )
    kind = django_filters.ChoiceFilter(label="发放方式", choices=Disbursement.Kind.choices, empty_label="全部")

    class Meta:
        model = Disbursement
        fields: list[str] = []
