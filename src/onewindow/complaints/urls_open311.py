"""Open311 GeoReport v2 (mounted at /open311/v2/)."""

from django.urls import re_path

from onewindow.complaints import open311

FMT = r"\.(?P<fmt>json|xml)$"
app_name = "open311"
urlpatterns = [
    re_path(r"^discovery" + FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + FMT, open311.services_list, name="services"),
    re_path(
        r"^services/(?P<code>[-a-zA-Z0-9_]{1,40})" + FMT,
        open311.service_definition,
        name="service",
    ),
    re_path(r"^requests" + FMT, open311.requests_view, name="requests"),
    re_path(
        r"^requests/(?P<number>[A-Z0-9]{1,20})" + FMT,
        open311.request_detail,
        name="request",
    ),
    re_path(
        r"^tokens/(?P<token>[-a-zA-Z0-9_]{1,64})" + FMT, open311.tokens, name="token"
    ),
]
