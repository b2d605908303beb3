"""The JSON API (`/api/...`, schema at `/api/openapi.json`); each app adds a router."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.parser import Parser

from onewindow.core.errors import DomainError, InvalidInput
from onewindow.core.text import unstorable


def refuse_unstorable(data: Any) -> None:
    """Refuse text no database can store (`core.text.unstorable`) wherever it sits in the input,
    naming the top-level field it came in."""
    pending: list[tuple[Any, str | None]] = (
        [(value, key) for key, value in data.items()] if isinstance(data, dict) else [(data, None)]
    )
    if isinstance(data, dict):
        pending += [(key, None) for key in data]
    while pending:
        item, field = pending.pop()
        if isinstance(item, str):
            if unstorable(item):
                raise InvalidInput(_("提交的内容中含有无法保存的字符。"), field=field)
        elif isinstance(item, dict):
            pending.extend((part, field) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            pending.extend((part, field) for part in item)


class StorableInputParser(Parser):
    """Every body and query string is checked once here, so no handler meets unstorable text."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        refuse_unstorable(data)
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        result = super().parse_querydict(data, list_fields, request)
        refuse_unstorable(result)
        return result


api = NinjaAPI(
    title="OneWindow API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    parser=StorableInputParser(),
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    body = {"detail": exc.message}
    if exc.field:
        body["field"] = exc.field
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # django-ninja wraps whatever the body parser raises; say why in the user's language.
    if isinstance(exc.__cause__, DomainError):
        return domain_error(request, exc.__cause__)
    if exc.__cause__ is not None:
        return api.create_response(
            request, {"detail": _("请求内容不是有效的 JSON。")}, status=exc.status_code
        )
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": _("请先登录，或提供有效的访问令牌。")}, status=401)


def _register_routers() -> None:
    from onewindow.accounts.api import router as accounts_router
    from onewindow.analytics.api import router as analytics_router
    from onewindow.cases.api import router as cases_router
    from onewindow.cases.api_joint import router as joint_cases_router
    from onewindow.catalogue.api import router as catalogue_router
    from onewindow.complaints.api import router as complaints_router
    from onewindow.core.api import router as core_router
    from onewindow.evaluation.api import router as evaluation_router
    from onewindow.hall.api import router as hall_router
    from onewindow.licences.api import router as licences_router
    from onewindow.publicity.api import router as publicity_router
    from onewindow.smart.api import router as smart_router
    from onewindow.supervision.api import router as supervision_router

    api.add_router("/core/", core_router)
    api.add_router("/accounts/", accounts_router)
    api.add_router("/catalogue/", catalogue_router)
    api.add_router("/cases/", cases_router)
    api.add_router("/joint-cases/", joint_cases_router)
    api.add_router("/hall/", hall_router)
    api.add_router("/supervision/", supervision_router)
    api.add_router("/analytics/", analytics_router)
    api.add_router("/licences/", licences_router)
    api.add_router("/evaluation/", evaluation_router)
    api.add_router("/complaints/", complaints_router)
    api.add_router("/publicity/", publicity_router)
    api.add_router("/smart/", smart_router)


_register_routers()
