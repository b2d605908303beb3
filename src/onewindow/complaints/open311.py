"""Open311 GeoReport v2 (mounted at /open311/v2/): service discovery, the service list and
definitions, posting requests and reading them back, in XML (required by the specification) and
JSON, with the extensions in use elsewhere: pagination (`page`, `page_size`; the total in
`X-Total-Count` and the next page in `Link`), media upload (a multipart `media` file with the
request) and update history (`extensions=true` adds `notes[]`: datetime, summary, type, status).

The internal statuses map to the two of the specification: closed is closed, everything else
open. What a GET returns is public: the description and notes pass through `anonymise`, and
no contact detail or media file is ever returned. Posting needs an `api_key` (an account's API
token); errors are `errors[{code, description}]` with HTTP 400, 403, 404 or 429.
"""

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from onewindow.accounts.auth import ApiTokenAuth
from onewindow.complaints import selectors, services
from onewindow.complaints.choices import OPEN311_CLOSED, Kind, Source
from onewindow.complaints.models import Complaint
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.workdays import SHANGHAI
from onewindow.publicity.anonymise import anonymise

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_PAGE_SIZE = 1000
CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
# The element name of each list's items in XML.
XML_ITEMS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "notes": "note",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "service_definition": "attribute",
}


def _xml_value(parent: ElementTree.Element, tag: str, value: Any) -> None:
    element = ElementTree.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            _xml_value(element, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _xml_value(element, XML_ITEMS.get(tag, "item"), inner)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def render(data: Any, fmt: str, *, root: str, status: int = 200) -> HttpResponse:
    """`data` as JSON, or as XML under <root> (a list's items named after XML_ITEMS[root])."""
    if fmt == "json":
        return JsonResponse(
            data,
            status=status,
            safe=False,
            json_dumps_params={"ensure_ascii": False},
            content_type=CONTENT_TYPES["json"],
        )
    document = ElementTree.Element(root)
    if isinstance(data, list):
        for item in data:
            _xml_value(document, XML_ITEMS[root], item)
    else:
        for key, value in data.items():
            _xml_value(document, key, value)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(
        document, encoding="utf-8", xml_declaration=False
    )
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES["xml"])


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render(
        [{"code": status, "description": description}],
        fmt,
        root="errors",
        status=status,
    )


def _moment(value: dt.datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds") if value else None


def _parse_moment(value: str, field: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            _("%(field)s 应为 ISO 8601 时间。") % {"field": field}, field=field
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _service(topic: Any) -> dict[str, Any]:
    return {
        "service_code": topic.code,
        "service_name": topic.name,
        "description": topic.description,
        "metadata": bool(topic.attributes),
        "type": "realtime",
        "keywords": topic.keywords,
        "group": topic.group,
    }


def _attribute(definition: dict, order: int) -> dict[str, Any]:
    values = [
        {"key": str(option["key"]), "name": str(option.get("name", option["key"]))}
        for option in definition.get("values", [])
    ]
    out = {
        "variable": bool(definition.get("variable", True)),
        "code": definition["code"],
        "datatype": definition.get("datatype", "string"),
        "required": bool(definition.get("required", False)),
        "datatype_description": definition.get("datatype_description", ""),
        "order": definition.get("order", order),
        "description": definition.get("description", definition["code"]),
    }
    if values:
        out["values"] = values
    return out


def request_out(complaint: Complaint, *, notes: bool = False) -> dict[str, Any]:
    """One request as GeoReport v2 lists it, with nothing that identifies the person asking;
    `notes` needs it read with its history (`selectors.open311_requests(notes=True)`)."""
    names = [complaint.contact_name, complaint.respondent]
    expected = (
        dt.datetime.combine(complaint.due, dt.time(23, 59, 59), tzinfo=SHANGHAI)
        if complaint.due
        else None
    )
    out = {
        "service_request_id": complaint.number,
        "status": "closed" if complaint.status in OPEN311_CLOSED else "open",
        "status_notes": complaint.get_status_display(),
        "service_name": complaint.topic.name if complaint.topic_id else "",
        "service_code": complaint.topic.code if complaint.topic_id else "",
        "description": anonymise(complaint.content, names=names),
        "agency_responsible": complaint.department.name
        if complaint.department_id
        else "",
        "service_notice": "",
        "requested_datetime": _moment(complaint.received_at),
        "updated_datetime": _moment(complaint.updated_at),
        "expected_datetime": _moment(expected),
        "address": complaint.address,
        "address_id": "",
        "zipcode": "",
        "lat": float(complaint.lat) if complaint.lat is not None else None,
        "long": float(complaint.long) if complaint.long is not None else None,
        "media_url": "",
    }
    if notes:
        out["notes"] = [
            {
                "datetime": _moment(update.at),
                "summary": anonymise(
                    update.summary or update.get_kind_display(), names=names
                ),
                "type": update.kind,
                "status": "closed" if update.status in OPEN311_CLOSED else "open",
            }
            for update in complaint.updates.all()
        ]
    return out


def _refusal(fmt: str, exc: DomainError) -> HttpResponse:
    # The specification names 400 and 404; 403 and 429 keep their meaning.
    status = exc.status_code if exc.status_code in (400, 403, 404, 429) else 400
    return error(fmt, status, exc.message)


@require_safe
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    endpoint = request.build_absolute_uri(
        reverse("open311:discovery", args=[fmt])
    ).rsplit("/discovery", 1)[0]
    data = {
        "changeset": "2026-01-01T00:00:00+08:00",
        "contact": _("12345政务服务便民热线"),
        "key_service": "",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint,
                "changeset": "2026-01-01T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(data, fmt, root="discovery")


@require_safe
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return render(
        [_service(topic) for topic in selectors.topics()], fmt, root="services"
    )


@require_safe
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    try:
        topic = selectors.topic(code)
    except NotFound as exc:
        return error(fmt, 404, exc.message)
    attributes = [
        _attribute(definition, order)
        for order, definition in enumerate(topic.attributes, start=1)
    ]
    return render(
        {"service_code": topic.code, "attributes": attributes},
        fmt,
        root="service_definition",
    )


def _page_number(value: str, field: str, default: int, maximum: int) -> int:
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise InvalidInput(
            _("%(field)s 应为 1 到 %(max)s 的整数。")
            % {"field": field, "max": maximum},
            field=field,
        )
    return int(value)


def _list_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.GET
    ids = [
        part.strip()
        for part in params.get("service_request_id", "").split(",")
        if part.strip()
    ]
    notes = params.get("extensions") == "true"
    found = selectors.open311_requests(
        ids=ids,
        service_code=params.get("service_code", "")[:40],
        start=_parse_moment(params.get("start_date", ""), "start_date"),
        end=_parse_moment(params.get("end_date", ""), "end_date"),
        status=params.get("status", ""),
        notes=notes,
    )
    page = _page_number(params.get("page", ""), "page", 1, 10**6)
    size = _page_number(
        params.get("page_size", ""), "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE
    )
    total = found.count()
    rows = list(found[(page - 1) * size : page * size])
    response = render(
        [request_out(c, notes=notes) for c in rows],
        fmt,
        root="service_requests",
    )
    response["X-Total-Count"] = str(total)
    if page * size < total:
        query = urlencode({**params.dict(), "page": page + 1, "page_size": size})
        response["Link"] = (
            f'<{request.build_absolute_uri(request.path)}?{query}>; rel="next"'
        )
    return response


def _api_user(request: HttpRequest) -> Any:
    key = request.POST.get("api_key", "")
    user = ApiTokenAuth().authenticate(request, key) if key else None
    if user is None:
        raise PermissionDenied(_("需要有效的 api_key。"))
    return user


def _attributes_from(post: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in post:
        if key.startswith("attribute[") and key.endswith("]"):
            code = key[len("attribute[") : -1]
            given = post.getlist(key)
            values[code] = given if len(given) > 1 else given[0]
    return values


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    actor = _api_user(request)
    post = request.POST
    topic = selectors.topic(post.get("service_code", ""))
    if (
        not (post.get("lat") and post.get("long"))
        and not post.get("address_string")
        and not post.get("address_id")
    ):
        raise InvalidInput(
            _("请提供位置：lat 和 long、address_string 或 address_id 之一。"),
            field="lat",
        )
    description = post.get("description", "").strip()
    contact_name = f"{post.get('last_name', '')}{post.get('first_name', '')}".strip()
    complaint = services.complaint_submit(
        actor=actor,
        kind=Kind.COMPLAINT,
        source=Source.OPEN311,
        topic=topic,
        title=(description.splitlines()[0][:30] if description else topic.name),
        content=description or topic.name,
        address=post.get("address_string", "") or post.get("address_id", ""),
        lat=post.get("lat") or None,
        long=post.get("long") or None,
        contact_name=contact_name,
        contact_phone=post.get("phone", ""),
        contact_email=post.get("email", ""),
        attributes=_attributes_from(post),
        uploads=request.FILES.getlist("media"),
        idempotency_key=post.get("device_id", "")[:64] or None,
    )
    notice = (
        _("请于 %(due)s 前留意答复。") % {"due": complaint.due}
        if complaint.due
        else _("已登记，等待分派。")
    )
    return render(
        [
            {
                "service_request_id": complaint.number,
                "service_notice": notice,
                "account_id": None,
            }
        ],
        fmt,
        root="service_requests",
        status=201,
    )


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    try:
        if request.method == "POST":
            return _post_request(request, fmt)
        return _list_requests(request, fmt)
    except DomainError as exc:
        return _refusal(fmt, exc)


@require_safe
def request_detail(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    notes = request.GET.get("extensions") == "true"
    found = selectors.open311_requests(ids=[number], notes=notes).first()
    if found is None:
        return error(fmt, 404, _("没有找到该诉求。"))
    return render(
        [request_out(found, notes=notes)],
        fmt,
        root="service_requests",
    )


def tokens(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """Requests are numbered at once (type realtime), so no token is ever issued."""
    return error(fmt, 404, _("没有找到该令牌。"))
