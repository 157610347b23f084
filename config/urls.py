from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core import views as core_views
from towns.views import accounts
from visits.views import home

admin.site.site_header = "暖心走访慰问 · 后台管理"
admin.site.site_title = "暖心后台"
admin.site.index_title = "数据维护"

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("accounts/login/", accounts.Login.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", accounts.PasswordChange.as_view(), name="password_change"),
    path("accounts/password/done/", accounts.password_change_done, name="password_change_done"),
    path("towns/", include("visits.registry_urls")),  # the registry list and person page show visit state
    path("towns/", include("towns.urls")),
    path("visits/", include("visits.urls")),
    path("funds/", include("funds.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "core.views.server_error"
