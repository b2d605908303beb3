from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from onewindow.config.api import api
from onewindow.core import views as core_views

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.health, name="health"),
    path("open311/v2/", include("onewindow.complaints.urls_open311")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/", include("onewindow.accounts.urls")),
    path("catalogue/", include("onewindow.catalogue.urls")),
    path("cases/", include("onewindow.cases.urls")),
    path("workbench/catalogue/", include("onewindow.catalogue.urls_workbench")),
    path("workbench/cases/", include("onewindow.cases.urls_workbench")),
    path("workbench/smart/", include("onewindow.smart.urls")),
    path("hall/", include("onewindow.hall.urls")),
    path("supervision/", include("onewindow.supervision.urls")),
    path("analytics/", include("onewindow.analytics.urls")),
    path("licences/", include("onewindow.licences.urls")),
    path("evaluation/", include("onewindow.evaluation.urls")),
    path("complaints/", include("onewindow.complaints.urls")),
    path("publicity/", include("onewindow.publicity.urls")),
    path("", include("onewindow.core.urls")),
    prefix_default_language=False,
)
