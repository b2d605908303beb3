from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import role_required, staff_required


@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: the process answers and its database connection works."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def home(request: HttpRequest) -> HttpResponse:
    """The public portal's front page (门户首页)."""
    return render(request, "core/home.html")


@staff_required
def workbench_home(request: HttpRequest) -> HttpResponse:
    """The staff workbench's landing page (工作台)."""
    return render(request, "core/workbench_home.html")


@role_required(Role.SUPERVISOR, Role.PLATFORM_ADMIN)
def supervision_home(request: HttpRequest) -> HttpResponse:
    """The supervision screen's landing page (电子监察)."""
    return render(request, "core/supervision_home.html")
