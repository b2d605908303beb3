"""A new draft comes with the applicant's licences: every material a licence type replaces gets
the applicant's newest valid licence of that type attached by reference when the draft starts,
through the case service (same checks, same audit entry). Licences not in force, or someone
else's, are left alone; the applicant may still remove one and upload a file instead."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse

from onewindow.cases import services as cases
from onewindow.cases.models import Case
from onewindow.core.models import AuditEntry
from onewindow.licences import services
from tests.cases.conftest import make_png
from tests.catalogue.conftest import form_data
from tests.licences.conftest import OTHER_ID

pytestmark = pytest.mark.django_db


def test_a_draft_starts_with_the_newest_held_licence_attached(
    holder, issue, reuse_item
):
    older = issue(valid_from="2025-06-01", issued_on="2025-06-01")
    licence = issue()
    case = cases.case_start(actor=holder, item=reuse_item)
    assert [
        (m.material_key, m.licence_number, m.file) for m in case.materials.all()
    ] == [("permit", licence.number, None)]
    assert older.number != licence.number
    attached = AuditEntry.objects.get(action="cases.attach", object_id=str(case.pk))
    assert attached.actor == holder
    assert json.loads(attached.changes)["after"]["licence"] == licence.number


@pytest.mark.parametrize(
    "state", ["expired", "not yet valid", "revoked", "suspended", "cancelled"]
)
def test_a_licence_not_in_force_is_not_attached(
    world, holder, issue, reuse_item, state
):
    if state == "expired":
        issue(valid_from="2024-01-01", issued_on="2024-01-01", valid_until="2025-12-31")
    elif state == "not yet valid":
        issue(valid_from="2027-01-01", issued_on="2026-12-01")
    else:
        change = {
            "revoked": services.licence_revoke,
            "suspended": services.licence_suspend,
            "cancelled": services.licence_cancel,
        }[state]
        change(actor=world.editor, licence=issue(), reason="测试")
    case = cases.case_start(actor=holder, item=reuse_item)
    assert not case.materials.exists()


def test_someone_elses_licence_is_not_attached(holder, issue, reuse_item):
    issue(holder_id=OTHER_ID, holder_name="李四")
    case = cases.case_start(actor=holder, item=reuse_item)
    assert not case.materials.exists()
    assert not AuditEntry.objects.filter(action="cases.attach").exists()


def test_an_item_without_licence_backed_materials_is_unaffected(holder, issue, item):
    issue()
    case = cases.case_start(actor=holder, item=item)
    assert not case.materials.exists()
    assert not AuditEntry.objects.filter(action="cases.attach").exists()


def _draft_form(client, case: Case) -> dict[str, list[str]]:
    url = reverse("cases:draft", args=[case.pk])
    page = client.get(url)
    assert page.status_code == 200
    return form_data(page.content.decode(), url)


def test_the_portal_shows_it_attached_and_the_applicant_may_upload_instead(
    client_as, holder, issue, reuse_item
):
    licence = issue()
    applicant = client_as(holder)
    started = applicant.post(
        reverse("cases:apply", kwargs={"impl_code": reuse_item.impl_code})
    )
    assert started.status_code == 302
    case = Case.objects.get(pk=resolve(started.url).kwargs["pk"])
    url = reverse("cases:draft", args=[case.pk])
    page = applicant.get(url).content.decode()
    assert f"电子证照 {licence.number}（按编号调用）" in page
    assert "调用我的电子证照" not in page  # nothing left to offer

    attached = case.materials.get(material_key="permit")
    removed = applicant.post(
        url, {**_draft_form(applicant, case), "remove": attached.pk}
    )
    assert removed.status_code == 302 and not case.materials.exists()
    page = applicant.get(url).content.decode()
    assert f"调用我的电子证照：户外广告设置许可证（{licence.number}）" in page

    scan = SimpleUploadedFile("许可证.png", make_png(3), content_type="image/png")
    uploaded = applicant.post(
        url,
        {**_draft_form(applicant, case), "action": "upload", "material-permit": scan},
    )
    assert uploaded.status_code == 302
    permit = case.materials.get(material_key="permit")
    assert permit.licence_number == "" and permit.file.original_name == "许可证.png"
