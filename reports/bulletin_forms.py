"""Forms of the bulletin editor and the towns' submissions (issue 7 §2). The services check again."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms

from reports.bulletin_selectors import numbering, recent_mondays
from reports.models import HEADLINE_MAX_CHARS, SUBMISSION_MAX_CHARS, Bulletin
from towns.dates import cn_date


class TextField(forms.CharField):
    """Counts characters as the reader sees them: a browser's \\r\\n is one line break, not two characters."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n") if value else value


class DraftForm(forms.Form):
    week = forms.DateField(
        label="所涵盖的一周",
        help_text="选该周的周一；选其他日期按所在周计算。",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def monday(self) -> date:
        day = self.cleaned_data["week"]
        return day - timedelta(days=day.weekday())


class HeaderForm(forms.ModelForm):
    class Meta:
        model = Bulletin
        fields = ["title", "topic", "issuing_unit", "issue_date", "report_to", "copy_to", "lead", "closing"]
        widgets = {
            "issue_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "report_to": forms.Textarea(attrs={"rows": 2}),
            "copy_to": forms.Textarea(attrs={"rows": 2}),
            "lead": forms.Textarea(attrs={"rows": 4}),
            "closing": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "topic": "印作【“专题”专题】，如“双节慰问”；不需要专题行就留空。",
            "lead": "印在目录之后、各镇条目之前：全市本周的总体情况。改过之后，重新生成不再覆盖。",
            "closing": "印在各镇条目之后：未单独成条的镇（街道）合为一句。改过之后，重新生成不再覆盖。",
        }


class NumberingForm(forms.Form):
    next_number = forms.IntegerField(
        label="下一期期号", min_value=1, help_text="如本刊已出到第118期，填119；设一次即可，以后发布自动顺延。"
    )
    restart_yearly = forms.BooleanField(label="每年从第1期重新编号", required=False)

    @classmethod
    def current(cls):
        figures = numbering()
        return cls(initial={"next_number": figures["next_number"], "restart_yearly": figures["series"].restart_yearly})


class ItemForm(forms.Form):
    headline = TextField(label="标题", max_length=HEADLINE_MAX_CHARS, help_text="印作 □镇名：标题。")
    body = TextField(
        label="正文",
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="分段请换行；用 **两个星号** 括起的小标题印作加粗（如 **高位谋划，立足“早”字做谋划。**）。",
    )


class SubmissionForm(forms.Form):
    week_start = forms.TypedChoiceField(label="所报的一周", coerce=date.fromisoformat)
    headline = TextField(label="标题", max_length=HEADLINE_MAX_CHARS, help_text="如：“三字诀”推动走访慰问见行见效")
    body = TextField(
        label="正文（经验做法）",
        max_length=SUBMISSION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 12, "maxlength": SUBMISSION_MAX_CHARS}),
        help_text=f"不超过{SUBMISSION_MAX_CHARS}字。写本周的做法和成效，数字写实数，编辑会统一表述。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["week_start"].choices = [
            (m.isoformat(), f"{cn_date(m)}—{cn_date(m + timedelta(days=6))}") for m in recent_mondays()
        ]
