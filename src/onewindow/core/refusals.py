"""Turning a service's refusal into a page: one wrapper for every app's HTML views."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

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
