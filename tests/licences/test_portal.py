"""The web pages: the holder's directory and downloads, the public verification page, the staff
lookup page; outsiders get 404 and nothing changes."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from onewindow.licences import services
from onewindow.licences.models import LicenceAccess

pytestmark = pytest.mark.django_db


def test_the_holder_sees_downloads_and_shares_a_licence(client_as, issue, people):
    licence = issue()
    holder = client_as(people.holder)
    mine = holder.get(reverse("licences:mine"))
    assert mine.status_code == 200 and licence.number in mine.content.decode()
    detail = holder.get(reverse("licences:detail", args=[licence.number]))
    page = detail.content.decode()
    assert (
        detail.status_code == 200
        and "红花岗区中华南路88号" in page
        and "还没有人调用过" in page
    )
    pdf = holder.get(reverse("licences:pdf", args=[licence.number]))
    assert (
        pdf.status_code == 200
        and pdf.content.startswith(b"%PDF")
        and pdf["Content-Type"] == "application/pdf"
    )
    data = holder.get(reverse("licences:data", args=[licence.number]))
    assert data.content == licence.current_version.document.encode()
    shared = holder.post(
        reverse("licences:share", args=[licence.number]),
        {"hide": ["holder.id", "field.area"]},
    )
    assert shared.status_code == 200 and b"field.area" not in shared.content
    assert LicenceAccess.objects.filter(licence=licence, kind="download").count() == 3
    log = holder.get(reverse("licences:detail", args=[licence.number])).content.decode()
    assert "shared copy" in log


def test_outsiders_get_404_from_the_holders_pages(client_as, issue, people):
    licence = issue()
    for user in (people.stranger, people.other_admin):
        client = client_as(user)
        for name in ("licences:detail", "licences:pdf", "licences:data"):
            assert client.get(reverse(name, args=[licence.number])).status_code == 404
    assert not LicenceAccess.objects.exists()


def test_hiding_a_fact_needed_for_verification_is_refused(client_as, issue, people):
    licence = issue()
    refused = client_as(people.holder).post(
        reverse("licences:share", args=[licence.number]), {"hide": ["number"]}
    )
    assert refused.status_code == 400


def _verdict(response) -> str:
    return re.search(r'data-verdict="(\w+)"', response.content.decode()).group(1)


def test_the_public_page_verifies_by_number_and_shows_which_check_failed(world, issue):
    licence = issue()
    anonymous = Client()
    page = anonymous.get(reverse("licences:verify_number", args=[licence.number]))
    assert page.status_code == 200 and _verdict(page) == "valid"
    assert licence.holder_id not in page.content.decode()  # masked
    services.licence_revoke(actor=world.editor, licence=licence, reason="违法设置")
    page = anonymous.get(reverse("licences:verify_number", args=[licence.number]))
    text = page.content.decode()
    assert _verdict(page) == "invalid"
    assert 'data-check="status" data-result="invalid"' in text and "已吊销" in text
    assert 'data-check="integrity" data-result="valid"' in text


def test_the_public_page_verifies_an_uploaded_file(issue):
    licence = issue()
    raw = licence.current_version.document.encode()
    anonymous = Client()
    good = anonymous.post(
        reverse("licences:verify"), {"file": SimpleUploadedFile("l.json", raw)}
    )
    assert _verdict(good) == "valid"
    bad = anonymous.post(
        reverse("licences:verify"),
        {"file": SimpleUploadedFile("l.json", raw.replace(b"88", b"89", 1))},
    )
    assert (
        _verdict(bad) == "invalid"
        and 'data-check="integrity" data-result="invalid"' in bad.content.decode()
    )
    assert anonymous.post(reverse("licences:verify"), {}).status_code == 400


def test_the_number_form_and_an_unknown_number(issue):
    anonymous = Client()
    redirected = anonymous.get(
        reverse("licences:verify"), {"number": " 520300-2026-abc "}
    )
    assert redirected.status_code == 302 and redirected.url.endswith(
        "/520300-2026-ABC/"
    )
    missing = anonymous.get(reverse("licences:verify_number", args=["520300-2026-ABC"]))
    assert missing.status_code == 404 and "没有编号为" in missing.content.decode()


def test_the_staff_lookup_page_refuses_without_a_case(client_as, issue, world):
    licence = issue()
    page = client_as(world.outsider).post(
        reverse("licences:lookup"),
        {"number": licence.number, "case_number": "", "purpose": "核验"},
    )
    assert page.status_code == 400 and "办件编号" in page.content.decode()
    assert not LicenceAccess.objects.exists()
