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
