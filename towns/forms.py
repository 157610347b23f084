"""Account forms: Django's own, with messages that read naturally in Chinese."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm


class LoginForm(AuthenticationForm):
    # Django's zh-hans text ("请输入一个正确的用户名和密码……") reads like a machine translation;
    # it also must not say which of the two was wrong.
    error_messages = {
        "invalid_login": "用户名或密码不正确，请重新输入（区分大小写）。",
        "inactive": "该账号已停用，请联系本镇管理员。",
    }

    username = forms.CharField(
        label="用户名",
        max_length=150,
        error_messages={"required": "请输入用户名"},
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label="密码",
        strip=False,
        error_messages={"required": "请输入密码"},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


_FIELD_CLASSES = "form-control"


def _bootstrap(form):
    for field in form.fields.values():
        field.widget.attrs.setdefault("class", _FIELD_CLASSES)
    return form


class _RulesOnNewPassword:
    """Django 5.1+ shows the password rules' errors under the confirmation field ("再次输入新密码：密码太短"),
    which reads as if the repetition were wrong; they are about the new password."""

    def validate_password_for_user(self, user, password_field_name=None):
        super().validate_password_for_user(user, "new_password1")


class NuanxinPasswordChangeForm(_RulesOnNewPassword, PasswordChangeForm):
    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "原密码不正确，请重新输入。",
        "password_mismatch": "两次输入的新密码不一致。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "原密码"
        self.fields["new_password2"].label = "再次输入新密码"
        _bootstrap(self)


class ResetPasswordForm(_RulesOnNewPassword, SetPasswordForm):
    """A town admin sets a temporary password; validators compare it with the target's user name."""

    error_messages = {**SetPasswordForm.error_messages, "password_mismatch": "两次输入的新密码不一致。"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password2"].label = "再次输入新密码"
        _bootstrap(self)


# --- the registry --------------------------------------------------------------------------


class HouseholdForm(forms.Form):
    cell = forms.TypedChoiceField(label="小网格", coerce=int, error_messages={"required": "请选择小网格"})
    address = forms.CharField(label="住址", max_length=120, error_messages={"required": "请填写住址"})
    head_name = forms.CharField(label="户主姓名", max_length=30, error_messages={"required": "请填写户主姓名"})
    phone = forms.CharField(label="联系电话", max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from towns.models import GridCell

        cells = (
            GridCell.objects.for_user(user)
            .filter(level=GridCell.Level.SMALL)
            .select_related("village")
            .order_by("village__code", "code")
        )
        self.fields["cell"].choices = [("", "请选择")] + [
            (c.pk, f"{c.village.name if c.village else ''} · {c.name}") for c in cells
        ]


class BeneficiaryForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=30, error_messages={"required": "请填写姓名"})
    id_number = forms.CharField(
        label="身份证号",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "请填写身份证号"},
    )
    gender = forms.ChoiceField(label="性别", choices=[("", "按身份证号"), ("M", "男"), ("F", "女")], required=False)
    phone = forms.CharField(label="联系电话", max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    relation_to_head = forms.CharField(label="与户主关系", max_length=10, required=False)
    categories = forms.TypedMultipleChoiceField(
        label="人群类别", coerce=int, widget=forms.CheckboxSelectMultiple, error_messages={"required": "请至少选择一个人群类别"}
    )
    is_party_member = forms.BooleanField(label="党员", required=False)
    responsible_cadre = forms.TypedChoiceField(label="责任干部", coerce=int, required=False, empty_value=None)
    notes = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        from towns.cadre_labels import cadre_label, with_place
        from towns.models import Cadre, Category

        self.fields["categories"].choices = list(Category.objects.values_list("pk", "name"))
        cadres = with_place(Cadre.objects.for_user(user).filter(is_active=True, town__isnull=False)).order_by("name", "id")
        self.fields["responsible_cadre"].choices = [("", "未指定")] + [(c.pk, cadre_label(c)) for c in cadres]
        if editing:
            # The whole number is never sent to the browser; an empty field keeps the stored one.
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = "不修改请留空"


class StatusChangeForm(forms.Form):
    to_status = forms.ChoiceField(label="变更为", error_messages={"required": "请选择新状态"})
    effective_on = forms.DateField(
        label="生效日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写生效日期", "invalid": "日期格式应为 2024-01-09"},
    )
    reason = forms.CharField(
        label="原因", max_length=200, widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写变更原因"}
    )

    def __init__(self, *args, current_status: str, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {"deceased": "已故", "moved": "迁出", "active": "恢复在册"}
        allowed = ["deceased", "moved"] if current_status == "active" else ["active"]
        self.fields["to_status"].choices = [(s, labels[s]) for s in allowed]
