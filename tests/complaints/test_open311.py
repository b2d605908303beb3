"""Open311 GeoReport v2 responses against the specification (GeoReport/v2/index.md): the field
names and types of services, service definitions, requests and errors, in JSON and XML; posting
with an api_key and a location; the 90-day span; and the extensions (pagination, media upload,
update history). Public GETs carry no personal data."""

import datetime as dt
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from onewindow.accounts.services import api_token_create
from onewindow.complaints import services
from onewindow.complaints.models import Complaint
from tests.cases.conftest import make_png

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
ATTRIBUTE_FIELDS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
}
DATATYPES = {
    "string",
    "number",
    "datetime",
    "text",
    "singlevaluelist",
    "multivaluelist",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def iso8601_with_zone(value: str) -> bool:
    moment = dt.datetime.fromisoformat(value)
    return moment.tzinfo is not None


def xml(response) -> ElementTree.Element:
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)


@pytest.fixture
def api_key(hotline):
    return api_token_create(actor=hotline.citizen, name="open311")[1]


def test_discovery_names_the_specification_and_formats(client, hotline):
    data = client.get(f"{BASE}/discovery.json").json()
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"} and endpoint[
        "url"
    ].endswith("/open311/v2")
    assert xml(client.get(f"{BASE}/discovery.xml")).tag == "discovery"


def test_service_list_in_json_and_xml(client, hotline):
    services_json = client.get(f"{BASE}/services.json").json()
    assert {s["service_code"] for s in services_json} == {"noise", "roads"}
    for service in services_json:
        assert set(service) == SERVICE_FIELDS and service["type"] in {
            "realtime",
            "batch",
            "blackbox",
        }
        assert isinstance(service["metadata"], bool)
    roads = next(s for s in services_json if s["service_code"] == "roads")
    assert roads["metadata"] is True
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and [child.tag for child in root] == [
        "service",
        "service",
    ]
    assert {element.tag for element in root[0]} == SERVICE_FIELDS
    assert root.find("service[service_code='roads']/metadata").text == "true"


def test_service_definition(client, hotline):
    definition = client.get(f"{BASE}/services/roads.json").json()
    assert definition["service_code"] == "roads"
    attribute = definition["attributes"][0]
    assert ATTRIBUTE_FIELDS <= set(attribute) and attribute["datatype"] in DATATYPES
    assert attribute["values"] == [
        {"key": "s", "name": "小"},
        {"key": "l", "name": "大"},
    ]
    root = xml(client.get(f"{BASE}/services/roads.xml"))
    assert root.tag == "service_definition"
    assert root.find("attributes/attribute/values/value/key").text == "s"
    missing = client.get(f"{BASE}/services/nothing.json")
    assert missing.status_code == 404 and set(missing.json()[0]) == {
        "code",
        "description",
    }
    assert (
        xml(client.get(f"{BASE}/services/nothing.xml")).find("error/code").text == "404"
    )


def test_posting_a_request_needs_an_api_key_and_a_location(
    client, hotline, api_key, world
):
    body = {
        "service_code": "roads",
        "lat": "27.7",
        "long": "106.9",
        "attribute[size]": "l",
        "description": "遵义路人行道破损\n有坑",
        "first_name": "三",
        "last_name": "张",
        "phone": "13800138000",
    }
    refused = client.post(f"{BASE}/requests.json", body)
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403
    nowhere = client.post(
        f"{BASE}/requests.json", {**body, "api_key": api_key, "lat": "", "long": ""}
    )
    assert nowhere.status_code == 400
    unknown = client.post(
        f"{BASE}/requests.xml", {**body, "api_key": api_key, "service_code": "x"}
    )
    assert unknown.status_code == 404 and xml(unknown).tag == "errors"
    created = client.post(f"{BASE}/requests.json", {**body, "api_key": api_key})
    assert created.status_code == 201, created.content
    [answer] = created.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    complaint = Complaint.objects.get(number=answer["service_request_id"])
    assert complaint.source == "open311" and complaint.attributes == {"size": "l"}
    assert (
        complaint.complainant == hotline.citizen and str(complaint.lat) == "27.700000"
    )
    as_xml = client.post(
        f"{BASE}/requests.xml", {**body, "api_key": api_key, "attribute[size]": "s"}
    )
    assert xml(as_xml).find("request/service_request_id").text.startswith("G")


def test_requests_list_fields_status_mapping_and_no_personal_data(
    client, hotline, submit
):
    complaint = submit(
        content="我是张三，电话13800138000，工地夜间施工。", address="红花岗区中华南路"
    )
    services.complaint_answer(
        actor=hotline.other_staff, complaint=complaint, answer="已处理"
    )
    services.complaint_rate(actor=hotline.citizen, complaint=complaint, rating=1)
    submit(title="另一件", content="噪音")
    rows = client.get(f"{BASE}/requests.json").json()
    assert len(rows) == 2
    for row in rows:
        assert set(row) == REQUEST_FIELDS and row["status"] in {"open", "closed"}
        assert iso8601_with_zone(row["requested_datetime"]) and iso8601_with_zone(
            row["expected_datetime"]
        )
    closed = client.get(f"{BASE}/requests.json", {"status": "closed"}).json()
    assert [r["service_request_id"] for r in closed] == [complaint.number]
    assert closed[0]["agency_responsible"] == "遵义市民政局"
    body = client.get(f"{BASE}/requests.json").content.decode()
    for secret in ("张三", "13800138000"):
        assert secret not in body
    root = xml(
        client.get(f"{BASE}/requests.xml", {"service_request_id": complaint.number})
    )
    assert (
        root.tag == "service_requests" and root.find("request/status").text == "closed"
    )
    single = client.get(f"{BASE}/requests/{complaint.number}.json").json()
    assert single[0]["service_request_id"] == complaint.number
    assert client.get(f"{BASE}/requests/G000.json").status_code == 404


def test_date_span_and_filters(client, hotline, submit):
    submit()
    too_long = client.get(
        f"{BASE}/requests.json",
        {
            "start_date": "2026-01-01T00:00:00+08:00",
            "end_date": "2026-06-01T00:00:00+08:00",
        },
    )
    assert too_long.status_code == 400 and too_long.json()[0]["code"] == 400
    assert (
        client.get(f"{BASE}/requests.json", {"start_date": "yesterday"}).status_code
        == 400
    )
    assert client.get(f"{BASE}/requests.json", {"status": "pending"}).status_code == 400
    assert client.get(f"{BASE}/requests.json", {"service_code": "roads"}).json() == []


def test_pagination_extension(client, hotline, submit):
    for index in range(3):
        submit(title=f"第{index}件")
    first = client.get(f"{BASE}/requests.json", {"page_size": 2})
    assert (
        len(first.json()) == 2
        and first["X-Total-Count"] == "3"
        and 'rel="next"' in first["Link"]
    )
    second = client.get(f"{BASE}/requests.json", {"page_size": 2, "page": 2})
    assert len(second.json()) == 1 and "Link" not in second
    assert client.get(f"{BASE}/requests.json", {"page_size": 5000}).status_code == 400


def test_update_history_extension(client, hotline, submit, world):
    complaint = submit()
    services.complaint_transfer(
        actor=hotline.other_staff,
        complaint=complaint,
        department=world.market,
        reason="属综合执法职责，张三反映",
    )
    plain = client.get(f"{BASE}/requests/{complaint.number}.json").json()[0]
    assert "notes" not in plain
    notes = client.get(
        f"{BASE}/requests/{complaint.number}.json", {"extensions": "true"}
    ).json()[0]["notes"]
    assert [note["type"] for note in notes] == ["received", "dispatched", "transferred"]
    assert all(set(note) == {"datetime", "summary", "type", "status"} for note in notes)
    assert "张三" not in notes[-1]["summary"]
    root = xml(
        client.get(f"{BASE}/requests/{complaint.number}.xml", {"extensions": "true"})
    )
    assert len(root.findall("request/notes/note")) == 3


def test_media_upload_extension(hotline, api_key):
    client = Client()
    photo = SimpleUploadedFile("坑.png", make_png(5), "image/png")
    created = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": api_key,
            "service_code": "noise",
            "address_string": "中华南路",
            "media": photo,
        },
    )
    assert created.status_code == 201, created.content
    assert Complaint.objects.get().media.count() == 1
    fake = SimpleUploadedFile("坑.png", b"MZ\x90\x00not a png", "image/png")
    refused = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": api_key,
            "service_code": "noise",
            "address_string": "中华南路",
            "media": fake,
        },
    )
    assert refused.status_code == 400 and Complaint.objects.count() == 1
