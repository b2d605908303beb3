from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from onewindow.config.api import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/", include("onewindow.accounts.urls")),
    path("", include("onewindow.core.urls")),
    prefix_default_language=False,
)
