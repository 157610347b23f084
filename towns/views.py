from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from towns import selectors, services
from towns.decorators import permission_required
from towns.models import Cadre
from towns.scoping import get_for_user_or_404


@login_required
def home(request):
    return render(request, "towns/home.html", {"summary": selectors.scope_summary(request.user)})


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


class PasswordChange(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(actor=self.request.user)
        return response


@login_required
def password_change_done(request):
    messages.success(request, "密码已修改。")
    return redirect("home")


@permission_required("user.reset_password")
def user_list(request):
    return render(request, "towns/user_list.html", {"cadres": selectors.town_cadres(request.user)})


@permission_required("user.reset_password")
@require_http_methods(["GET", "POST"])
def reset_password(request, pk):
    cadre = get_for_user_or_404(Cadre.objects.select_related("user"), request.user, pk=pk)
    form = SetPasswordForm(cadre.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset(actor=request.user, cadre=cadre, new_password=form.cleaned_data["new_password1"])
        messages.success(request, f"已重置 {cadre.name} 的密码，请当面告知本人并提醒其登录后修改。")
        return redirect("towns:user_list")
    return render(request, "towns/reset_password.html", {"form": form, "cadre": cadre})
