"""Turning a service's refusal into a page: one wrapper and one problem page for every app's
HTML views, shown in the shell of the person asking (the workbench for staff, the portal for
everyone else)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from onewindow.accounts.choices import AccountKind
from onewindow.core.errors import DomainError

View = Callable[..., HttpResponse]


def refusals_as(problem_page: Callable[[HttpRequest, DomainError], HttpResponse]) -> Callable[[View], View]:
    """A view decorator: a DomainError from a selector or service becomes `problem_page`, which
    renders the translated message with the error's 4xx status."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return problem_page(request, exc)

        return wrapped

    return decorate


def render_in_shell(request: HttpRequest, template: str, context: dict | None = None, *,
                    status: int = 200) -> HttpResponse:
    """Render a template that extends `base_template`: the workbench shell for staff, the
    portal for everyone else."""
    user = getattr(request, "user", None)
    staff = user is not None and user.is_authenticated and user.kind == AccountKind.STAFF
    base = "onewindow/workbench.html" if staff else "onewindow/portal.html"
    return render(request, template, {"base_template": base, **(context or {})}, status=status)


def problem_page(back_url_name: str = "", back_label: Any = "") -> Callable[[HttpRequest, DomainError], HttpResponse]:
    """The page for a refusal: its status, its message, and a way back to where work goes on."""

    def render_problem(request: HttpRequest, exc: DomainError) -> HttpResponse:
        back_url = reverse(back_url_name) if back_url_name else ""
        return render_in_shell(request, "onewindow/problem.html", {
            "code": exc.status_code, "message": exc.message, "back_url": back_url, "back_label": back_label,
        }, status=exc.status_code)

    return render_problem
