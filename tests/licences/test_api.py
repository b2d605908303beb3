"""/api/licences/: issuing, scoped queries, sharing and public verification as JSON; refusals
are 4xx with a translated detail and change nothing."""

import io
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from onewindow.licences import services
from onewindow.licences.models import Licence, LicenceAccess
from tests.licences.conftest import HOLDER_ID, OTHER_ID

pytestmark = pytest.mark.django_db

API = "/api/licences"


def test_a_department_issues_and_anyone_verifies(
    world, client_as, licence_type, holder
):
    staff = client_as(world.editor)
    body = {
        "licence_type": "outdoor_ad_permit",
        "holder_id": HOLDER_ID,
        "holder_name": "张三",
        "fields": {"location": "汇川区上海路1号", "lit": True},
        "legacy_number": "旧证001",
    }
    issued = staff.post(f"{API}/", body, content_type="application/json")
    assert issued.status_code == 201, issued.content
    number = issued.json()["number"]
    verified = Client().get(f"{API}/verify/{number}")
    assert verified.status_code == 200
    result = verified.json()
    assert result["valid"] and [c["result"] for c in result["checks"]] == ["valid"] * 3
    assert result["facts"]["holder.id"] == HOLDER_ID[:4] + "*" * 10 + HOLDER_ID[-4:]
    revoked = staff.post(
        f"{API}/department/{number}/revoke",
        {"reason": "违法设置"},
        content_type="application/json",
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    after = Client().get(f"{API}/verify/{number}").json()
    assert not after["valid"] and [
        c["name"] for c in after["checks"] if c["result"] == "invalid"
    ] == ["status"]


def test_bad_issue_input_is_a_400_with_the_field(world, client_as, licence_type):
    staff = client_as(world.editor)
    body = {
        "licence_type": "outdoor_ad_permit",
        "holder_id": "123",
        "holder_name": "张三",
        "fields": {"location": "x"},
    }
    refused = staff.post(f"{API}/", body, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["field"] == "holder_id"
    assert not Licence.objects.exists()


def test_other_departments_cannot_issue_or_read_the_departments_licences(
    world, client_as, issue, people
):
    licence = issue()
    outsider = client_as(people.other_admin)
    body = {
        "licence_type": "outdoor_ad_permit",
        "holder_id": HOLDER_ID,
        "holder_name": "张三",
        "fields": {"location": "x"},
    }
    assert (
        outsider.post(f"{API}/", body, content_type="application/json").status_code
        == 404
    )
    assert outsider.get(f"{API}/department/{licence.number}").status_code == 404
    assert outsider.get(f"{API}/department").json() == []
    assert client_as(people.stranger).get(f"{API}/mine").json() == []
    assert (
        client_as(people.stranger).get(f"{API}/mine/{licence.number}/data").status_code
        == 404
    )


def test_the_holder_downloads_the_file_and_a_shared_copy(client_as, issue, people):
    licence = issue()
    holder = client_as(people.holder)
    assert [row["number"] for row in holder.get(f"{API}/mine").json()] == [
        licence.number
    ]
    data = holder.get(f"{API}/mine/{licence.number}/data")
    assert (
        data.status_code == 200
        and data.content == licence.current_version.document.encode()
    )
    shared = holder.post(
        f"{API}/mine/{licence.number}/share",
        {"hide": ["field.location"]},
        content_type="application/json",
    )
    assert shared.status_code == 200
    verified = (
        Client()
        .post(f"{API}/verify", shared.content, content_type="application/json")
        .json()
    )
    assert (
        verified["valid"]
        and verified["hidden_facts"] == 1
        and "field.location" not in verified["facts"]
    )
    tampered = data.content.replace("中华南路".encode(), "北京路".encode())
    result = (
        Client().post(f"{API}/verify", tampered, content_type="application/json").json()
    )
    assert not result["valid"] and result["checks"][0]["result"] == "invalid"


@pytest.fixture
def reuse_case(holder, reuse_item):
    """submit(licence) → the holder's application to 民政局 with the licence attached by
    reference (when the draft starts)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from onewindow.cases import services as cases
    from tests.cases.conftest import make_png

    def submit(licence):
        case = cases.case_start(actor=holder, item=reuse_item)
        assert (
            case.materials.get(material_key="permit").licence_number == licence.number
        )
        cases.case_attach(
            actor=holder,
            case=case,
            material_key="application",
            uploaded_file=SimpleUploadedFile("申请表.png", make_png(7), "image/png"),
        )
        return cases.case_submit(
            actor=holder, case=case, idempotency_key="licences-lookup-1"
        )

    return submit


def test_a_lookup_needs_a_case_the_staff_member_handles_and_is_logged(
    world, client_as, issue, holder, reuse_case
):
    licence = issue()
    case = reuse_case(licence)
    clerk = client_as(world.outsider)  # 民政局, the case's department
    missing = clerk.post(
        f"{API}/lookup/{licence.number}",
        {"case_number": "", "purpose": "核验许可证"},
        content_type="application/json",
    )
    assert missing.status_code == 400 and missing.json()["field"] == "case_number"
    wrong = clerk.post(
        f"{API}/lookup/{licence.number}",
        {"case_number": "NOPE-1", "purpose": "核验许可证"},
        content_type="application/json",
    )
    assert wrong.status_code == 403
    no_purpose = clerk.post(
        f"{API}/lookup/{licence.number}",
        {"case_number": case.number, "purpose": " "},
        content_type="application/json",
    )
    assert no_purpose.status_code == 400 and no_purpose.json()["field"] == "purpose"
    unstorable = clerk.post(
        f"{API}/lookup/{licence.number}",
        {"case_number": "\x00", "purpose": "核验许可证"},
        content_type="application/json",
    )
    assert unstorable.status_code == 400
    assert unstorable.json()["detail"] == "提交的内容中含有无法保存的字符。"
    assert not LicenceAccess.objects.exists()
    found = clerk.post(
        f"{API}/lookup/{licence.number}",
        {"case_number": case.number, "purpose": "核验户外广告设置许可"},
        content_type="application/json",
    )
    assert found.status_code == 200, found.content
    log = client_as(holder).get(f"{API}/mine/{licence.number}/accesses").json()
    assert [
        (row["kind"], row["case_number"], row["purpose"], row["department"])
        for row in log
    ] == [("lookup", case.number, "核验户外广告设置许可", world.other.name)]
    market_clerk = client_as(world.clerk)  # not the case's department
    assert (
        market_clerk.post(
            f"{API}/lookup/{licence.number}",
            {"case_number": case.number, "purpose": "x"},
            content_type="application/json",
        ).status_code
        == 403
    )


def test_a_lookup_of_someone_elses_licence_is_not_found(
    world, client_as, issue, reuse_case
):
    case = reuse_case(issue())
    stranger_licence = issue(holder_id=OTHER_ID, holder_name="李四")
    response = client_as(world.outsider).post(
        f"{API}/lookup/{stranger_licence.number}",
        {"case_number": case.number, "purpose": "核验"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not LicenceAccess.objects.exists()


def test_guessing_numbers_is_rate_limited(settings, issue):
    settings.LICENCE_VERIFY_MISSES_PER_HOUR = 3
    licence = issue()
    cache.clear()
    anonymous = Client()
    for attempt in range(3):
        assert (
            anonymous.get(
                f"{API}/verify/520300-2026-AAAAAAAAAAA{attempt + 2}"
            ).status_code
            == 404
        )
    refused = anonymous.get(f"{API}/verify/{licence.number}")
    assert refused.status_code == 429 and "一小时" in refused.json()["detail"]
    assert (
        Client(REMOTE_ADDR="10.0.0.9").get(f"{API}/verify/{licence.number}").status_code
        == 200
    )


def test_lookups_per_minute_are_limited(settings, issue):
    settings.LICENCE_VERIFY_PER_MINUTE = 2
    licence = issue()
    anonymous = Client()
    assert [
        anonymous.get(f"{API}/verify/{licence.number}").status_code for _ in range(3)
    ] == [200, 200, 429]


def test_the_registry_and_status_list_are_public(world, issue):
    licence = issue()
    registry = Client().get(f"{API}/issuers").json()
    assert [(k["issuer_uscc"], k["status"]) for k in registry] == [
        (world.market.uscc, "active")
    ]
    credential = Client().get(f"{API}/status-lists/{world.market.uscc}").json()
    assert credential["length"] == 1 and credential["encodedLists"][
        "revocation"
    ].startswith("u")
    assert licence.status_index == 0


def test_bulk_import_dry_run_then_for_real(world, client_as, licence_type):
    staff = client_as(world.editor)
    rows = [
        {
            "holder_id": HOLDER_ID,
            "holder_name": "张三",
            "设置地点": "红花岗区1号",
            "area": "8",
        },
        {
            "holder_id": OTHER_ID,
            "holder_name": "李四",
            "location": "红花岗区2号",
            "valid_until": "2027-06-30",
        },
    ]
    upload = io.BytesIO(json.dumps(rows, ensure_ascii=False).encode())
    upload.name = "licences.json"
    dry = staff.post(
        f"{API}/import", {"licence_type": "outdoor_ad_permit", "file": upload}
    ).json()
    assert (dry["ok"], dry["dry_run"], dry["rows"], dry["numbers"]) == (
        True,
        True,
        2,
        [],
    )
    assert not Licence.objects.exists()
    bad = io.BytesIO("holder_id,holder_name,location\n123,王五,某地\n".encode())
    bad.name = "licences.csv"
    report = staff.post(
        f"{API}/import",
        {"licence_type": "outdoor_ad_permit", "file": bad, "dry_run": "false"},
    ).json()
    assert (
        not report["ok"]
        and report["errors"][0]["row"] == 1
        and report["errors"][0]["field"] == "holder_id"
    )
    assert not Licence.objects.exists()
    upload.seek(0)
    real = staff.post(
        f"{API}/import",
        {"licence_type": "outdoor_ad_permit", "file": upload, "dry_run": "false"},
    ).json()
    assert real["ok"] and len(real["numbers"]) == 2
    imported = Licence.objects.get(holder_id=HOLDER_ID)
    assert imported.fields == {"location": "红花岗区1号", "area": 8}
    assert (
        Licence.objects.get(holder_id=OTHER_ID).valid_until.isoformat() == "2027-06-30"
    )


def test_the_openapi_schema_lists_the_licence_operations():
    paths = Client().get("/api/openapi.json").json()["paths"]
    assert "/api/licences/verify/{number}" in paths and "/api/licences/import" in paths


def test_a_department_administrator_rotates_the_key(world, client_as, issue):
    licence = issue()
    body = {"department_uscc": world.market.uscc, "algorithm": "ed25519"}
    assert (
        client_as(world.outsider)
        .post(f"{API}/keys/rotate", body, content_type="application/json")
        .status_code
        == 403
    )
    rotated = client_as(world.editor).post(
        f"{API}/keys/rotate", body, content_type="application/json"
    )
    assert (
        rotated.status_code == 201
        and rotated.json()["key_id"] != licence.current_version.key.key_id
    )
    assert Client().get(f"{API}/verify/{licence.number}").json()["valid"]


def _failed_checks(number: str, client: Client) -> list[str]:
    result = client.get(reverse("api:verify_number", kwargs={"number": number})).json()
    return [c["name"] for c in result["checks"] if c["result"] != "valid"]


def test_every_status_change_is_seen_by_the_next_verification(world, issue):
    """Nothing about a licence's state is kept between verifications: the same client (and
    database connection, with its prepared statement) sees each change at once."""
    licence, neighbour = issue(), issue()
    anonymous = Client()
    assert _failed_checks(licence.number, anonymous) == []
    services.licence_suspend(actor=world.editor, licence=licence, reason="整改期间暂停")
    assert _failed_checks(licence.number, anonymous) == ["status"]
    assert _failed_checks(neighbour.number, anonymous) == []
    services.licence_reinstate(actor=world.editor, licence=licence, reason="整改完成")
    assert _failed_checks(licence.number, anonymous) == []
    services.licence_revoke(actor=world.editor, licence=licence, reason="违法设置")
    assert _failed_checks(licence.number, anonymous) == ["status"]
    services.signing_key_revoke(
        actor=world.editor, key=neighbour.current_version.key, reason="密钥泄露"
    )
    assert _failed_checks(neighbour.number, anonymous) == ["issuer"]
