from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from onewindow.core import request_context


class ContentSecurityPolicyMiddleware:
    """Sets the Content-Security-Policy on every response, those of the middleware below included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class RequestContextMiddleware:
    """Binds the client IP for the audit ledger and the request's memo; last in MIDDLEWARE, so
    that everything below runs inside the binding."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context.bind(ip=request.META.get("REMOTE_ADDR")):
            return self.get_response(request)


class ApiLanguageMiddleware:
    """The JSON API has no language prefix in its URLs: it answers in the language the client
    asks for (Accept-Language or the language cookie), Simplified Chinese by default."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
