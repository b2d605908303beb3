from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import role_required, staff_required


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
