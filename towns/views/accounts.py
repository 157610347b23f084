from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.decorators import permission_required
from core.scoping import get_for_user_or_404
from towns import auth_events, lockout, selectors, services
from towns.forms import LoginForm, NuanxinPasswordChangeForm, ResetPasswordForm
from towns.models import Cadre


def _lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


class Login(auth_views.LoginView):
    """Django's login with a Chinese form; the lockout itself is django-axes' (per account)."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        context["lockout_minutes"] = _lockout_minutes()
        context["idle_minutes"] = settings.SESSION_COOKIE_AGE // 60
        # axes counted this failure on the request; telling how many tries remain spares a
        # cadre from locking themselves out, and reveals nothing: unknown names count too.
        # A session cookie without a session: it expired while idle; say why they are here.
        context["session_expired"] = (
            self.request.method == "GET" and "next" in self.request.GET and settings.SESSION_COOKIE_NAME in self.request.COOKIES
        )
        failures = getattr(self.request, "axes_failures_since_start", None)
        if failures:
            context["attempts_left"] = max(settings.AXES_FAILURE_LIMIT - failures, 0)
        return context

    def post(self, request, *args, **kwargs):
        # The per-account slow-down (towns/lockout.py): refused before the password is even checked.
        username = str(request.POST.get("username", ""))[:150]
        address = lockout.client_address(request)
        if lockout.lock_ends_at(username, address):  # this address is locked out: axes' page, with its end
            auth_events.on_locked_out(sender=None, request=request, username=username, ip_address=address)
            return lockout.locked_out_response(request, credentials={"username": username})
        wait = lockout.slowdown_seconds(username, address)
        if wait:
            form = self.form_class(request, initial={"username": username})
            context = self.get_context_data(form=form, slowdown_seconds=wait)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)


class PasswordChange(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    form_class = NuanxinPasswordChangeForm
    success_url = reverse_lazy("password_change_done")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["password_temporary"] = bool(self.request.session.get(lockout.SESSION_KEY))
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(actor=self.request.user)
        self.request.session.pop(lockout.SESSION_KEY, None)
        return response


@login_required
def password_change_done(request):
    messages.success(request, "密码已修改。")
    return redirect("home")


def _locked_usernames(usernames) -> set[str]:
    """Which of these accounts axes is refusing now, so an admin sees why someone cannot log in."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(
            username__in=usernames, attempt_time__gte=since, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
        ).values_list("username", flat=True)
    )


@permission_required("user.reset_password")
def user_list(request):
    cadres = list(selectors.town_cadres(request.user))
    locked = _locked_usernames([c.user.username for c in cadres])
    for cadre in cadres:
        cadre.locked_out = cadre.user.username in locked
    return render(request, "towns/user_list.html", {"cadres": cadres})


@permission_required("user.reset_password")
@require_http_methods(["GET", "POST"])
def reset_password(request, pk):
    cadre = get_for_user_or_404(Cadre.objects.select_related("user"), request.user, pk=pk)
    form = ResetPasswordForm(cadre.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset(actor=request.user, cadre=cadre, new_password=form.cleaned_data["new_password1"])
        # A cadre who forgot the password has usually locked the account too: the reset unlocks it.
        axes_reset(username=cadre.user.get_username())
        messages.success(request, f"已重置 {cadre.name} 的密码，请当面告知本人并提醒其登录后修改。")
        return redirect("towns:user_list")
    return render(request, "towns/reset_password.html", {"form": form, "cadre": cadre})


@permission_required("user.reset_password")
@require_http_methods(["POST"])
def unlock(request, pk):
    """Lift a lockout without touching the password (a cadre who remembered it after all)."""
    cadre = get_for_user_or_404(Cadre.objects.select_related("user"), request.user, pk=pk)
    services.account_unlock(actor=request.user, cadre=cadre)
    messages.success(request, f"已解除 {cadre.name} 的登录锁定。")
    return redirect("towns:user_list")
