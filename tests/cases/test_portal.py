"""The applicant portal: apply online, my cases, the case page, the public progress lookup and
filing by village agents, driven through the test client as a browser would."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse

from onewindow.cases import documents, services
from onewindow.cases.choices import CaseStatus, Channel, DocumentKind
from onewindow.cases.models import Case, CaseEvent, CaseMaterial
from onewindow.core.testing.access_matrix import AccessCase, assert_access_matrix
from tests.cases.conftest import make_png
from tests.catalogue.conftest import form_data

ADDRESS = "红花岗区中华南路88号"


def png(name: str = "现场照片.png", seed: int = 1) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_png(seed), content_type="image/png")


def draft_url(case: Case) -> str:
    return reverse("cases:draft", args=[case.pk])


def detail_url(case: Case) -> str:
    return reverse("cases:detail", args=[case.pk])


def text(response) -> str:
    return response.content.decode()


def start(client: Client, item) -> Case:
    """"开始申报" on the item's apply page: the draft is created on the server and opened."""
    response = client.post(reverse("cases:apply", kwargs={"impl_code": item.impl_code}))
    assert response.status_code == 302, text(response)
    return Case.objects.get(pk=resolve(response.url).kwargs["pk"])


def page_form(client: Client, case: Case) -> dict[str, list[str]]:
    """What the browser would post from the draft page as it is shown now."""
    response = client.get(draft_url(case))
    assert response.status_code == 200
    return form_data(text(response), draft_url(case))


def post(client: Client, case: Case, data: dict, *, action: str = "save", **files):
    return client.post(draft_url(case), {**data, "action": action, **files})


def assert_no_inline_code(page: str) -> None:
    assert "<style" not in page and " style=" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []


def ready(client: Client, item) -> tuple[Case, dict[str, list[str]]]:
    """A draft through the pages: form filled in and every required material uploaded."""
    case = start(client, item)
    data = page_form(client, case)
    data["f-location"] = [ADDRESS]
    response = post(client, case, data, action="upload", **{
        "material-application": png("申请表.png", 1), "material-site_photos": [png("近景.png", 2), png("远景.png", 3)],
    })
    assert response.status_code == 302, text(response)
    return case, page_form(client, case)


# --- apply online ---------------------------------------------------------------------------------


def test_apply_save_upload_submit_and_receipt(world, item, client_as):
    citizen = client_as(world.citizen)
    apply_page = citizen.get(reverse("cases:apply", kwargs={"impl_code": item.impl_code}))
    assert apply_page.status_code == 200
    assert item.name in text(apply_page) and "设置地点现状照片" in text(apply_page)
    assert_no_inline_code(text(apply_page))

    case = start(citizen, item)
    assert (case.status, case.applicant, case.channel) == (CaseStatus.DRAFT, world.citizen, Channel.ONLINE)
    page = citizen.get(draft_url(case))
    assert page.status_code == 200
    html = text(page)
    assert "设置地点" in html and "户外广告设置申请表" in html and 'name="idempotency_key"' in html
    assert_no_inline_code(html)

    # Save the form as typed.
    data = form_data(html, draft_url(case))
    data["f-location"] = [ADDRESS]
    response = post(citizen, case, data)
    assert response.status_code == 302 and response.url == draft_url(case)
    case.refresh_from_db()
    assert case.form_data["location"] == ADDRESS and case.status == CaseStatus.DRAFT

    # Upload several files per material; the form is saved with them.
    response = post(citizen, case, page_form(citizen, case), action="upload", **{
        "material-application": png("申请表.png", 1), "material-site_photos": [png("近景.png", 2), png("远景.png", 3)],
    })
    assert response.status_code == 302
    assert sorted(case.materials.values_list("material_key", flat=True)) == [
        "application", "site_photos", "site_photos"]
    html = text(citizen.get(draft_url(case)))
    assert "近景.png" in html and "远景.png" in html
    # The form's upload field of the site photos shows the files attached to that material.
    assert "已上传 2 个文件" in html

    # Remove one file.
    far = case.materials.get(file__original_name="远景.png")
    response = citizen.post(draft_url(case), {**page_form(citizen, case), "remove": far.pk})
    assert response.status_code == 302 and not CaseMaterial.objects.filter(pk=far.pk).exists()

    # Submit: the receipt page shows the number and query code and links the receipt PDF.
    response = post(citizen, case, page_form(citizen, case), action="submit")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED and case.number
    assert response.status_code == 302 and response.url == reverse("cases:receipt", args=[case.pk])
    receipt_page = citizen.get(response.url)
    html = text(receipt_page)
    assert case.number in html and case.query_code in html
    receipt = case.documents.get(kind=DocumentKind.RECEIPT)
    pdf_url = reverse("cases:document", args=[case.pk, receipt.pk])
    assert f'href="{pdf_url}"' in html
    pdf = citizen.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")

    # My cases lists it with its status and the working days left to the acceptance deadline.
    mine = text(citizen.get(reverse("cases:mine")))
    assert case.number in mine and "待受理" in mine and "剩余" in mine and "case-deadline--" in mine
    # The case page shows the timeline and the documents.
    detail = text(citizen.get(detail_url(case)))
    assert "提交申请" in detail and pdf_url in detail and ADDRESS in detail
    assert_no_inline_code(detail)
    # A submitted case is no longer edited: the draft address leads to the case page.
    assert citizen.get(draft_url(case)).url == detail_url(case)


def test_a_draft_resumes_in_another_session(world, item, client_as):
    first = client_as(world.citizen)
    case = start(first, item)
    data = page_form(first, case)
    data["f-location"] = [ADDRESS]
    post(first, case, data, action="upload", **{"material-application": png("申请表.png", 5)})

    second = client_as(world.citizen)  # another device: a new session
    assert first.session.session_key != second.session.session_key
    mine = text(second.get(reverse("cases:mine")))
    assert draft_url(case) in mine
    html = text(second.get(draft_url(case)))
    assert f'value="{ADDRESS}"' in html and "申请表.png" in html


def test_the_same_submission_key_twice_makes_one_case(world, item, client_as):
    citizen = client_as(world.citizen)
    case, data = ready(citizen, item)
    first = post(citizen, case, data, action="submit")
    again = post(citizen, case, data, action="submit")  # a double click, or a resend after a lost answer
    receipt = reverse("cases:receipt", args=[case.pk])
    assert (first.status_code, first.url) == (302, receipt)
    assert (again.status_code, again.url) == (302, receipt)
    assert Case.objects.filter(applicant=world.citizen, number__isnull=False).count() == 1
    assert case.documents.filter(kind=DocumentKind.RECEIPT).count() == 1
    assert CaseEvent.objects.filter(case=case, action="submit").count() == 1
    # Another key on the submitted case is refused, and says why.
    other = post(citizen, case, {**data, "idempotency_key": ["another-key-0001"]}, action="submit")
    assert other.status_code == 409 and "不能提交申请" in text(other)


def test_a_file_of_the_wrong_type_is_refused_and_nothing_is_attached(world, item, client_as):
    citizen = client_as(world.citizen)
    case = start(citizen, item)
    data = page_form(citizen, case)
    data["f-location"] = [ADDRESS]
    script = SimpleUploadedFile("申请表.exe", b"MZ\x90\x00 not a document", content_type="application/octet-stream")
    response = post(citizen, case, data, action="upload", **{
        "material-site_photos": png("近景.png", 2), "material-application": script})
    assert response.status_code == 400
    html = text(response)
    assert "不支持“.exe”类型的文件" in html and "户外广告设置申请表" in html
    assert 'aria-invalid="true"' in html
    case.refresh_from_db()
    # Nothing kept: not the good file posted with it, not the form typed with it.
    assert not case.materials.exists() and case.form_data == {}
    # A PNG named .pdf is refused as well.
    fake = SimpleUploadedFile("申请表.pdf", make_png(9), content_type="application/pdf")
    response = post(citizen, case, data, action="upload", **{"material-application": fake})
    assert response.status_code == 400 and "文件内容与扩展名不符" in text(response)
    assert not case.materials.exists()


def test_a_form_field_failing_the_schema_shows_the_error_and_changes_nothing(world, item, client_as):
    citizen = client_as(world.citizen)
    case, data = ready(citizen, item)
    saved = Case.objects.get(pk=case.pk).form_data
    data["f-location"] = ["地" * 201]
    response = post(citizen, case, data, action="submit", **{"material-application": png("第二页.png", 7)})
    assert response.status_code == 400
    html = text(response)
    assert "不能超过 200 个字" in html and "申请表有 1 处需要修改" in html
    assert 'id="f-location-error"' in html
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT and case.number is None and case.form_data == saved
    assert case.materials.count() == 3  # the file posted with the refused submission was not kept
    # A required field left empty is named too.
    data["f-location"] = [""]
    response = post(citizen, case, data, action="submit")
    assert response.status_code == 400 and "必须填写" in text(response)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DRAFT


def test_missing_materials_are_named_and_the_case_stays_a_draft(world, item, client_as):
    citizen = client_as(world.citizen)
    case = start(citizen, item)
    data = page_form(citizen, case)
    data["f-location"] = [ADDRESS]
    response = post(citizen, case, data, action="submit")
    assert response.status_code == 400
    assert "还缺少这些材料：户外广告设置申请表、设置地点现状照片" in text(response)
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT and case.form_data == {}


def test_deferral_needs_the_signed_commitment_and_deferred_materials_follow_acceptance(world, item, client_as):
    citizen = client_as(world.citizen)
    case = start(citizen, item)
    data = page_form(citizen, case)
    assert "容缺受理承诺" in text(citizen.get(draft_url(case)))
    data.update({"f-location": [ADDRESS], "deferral": ["site_photos"]})
    response = post(citizen, case, data, action="submit", **{"material-application": png("申请表.png", 1)})
    assert response.status_code == 400 and "容缺受理须由申请人签署承诺" in text(response)
    assert not Case.objects.get(pk=case.pk).materials.exists()

    data["sign_commitment"] = ["yes"]
    response = post(citizen, case, data, action="submit", **{"material-application": png("申请表.png", 1)})
    assert response.status_code == 302, text(response)
    case.refresh_from_db()
    assert case.deferral_requested == ["site_photos"] and "设置地点现状照片" in case.commitment

    # The window accepts with the photos missing (容缺); the applicant hands them in from the case page.
    case = services.case_accept(actor=world.clerk, case=case)
    deferred = case.deferred_materials.get()
    page = text(citizen.get(detail_url(case)))
    assert "容缺材料" in page and str(deferred.due) in page and 'name="material-site_photos"' in page
    response = citizen.post(reverse("cases:materials", args=[case.pk]),
                            {"action": "upload", "material-site_photos": png("近景.png", 4)})
    assert response.status_code == 302
    deferred.refresh_from_db()
    assert deferred.supplied_at is not None
    # Only the 容缺 material may be handed in after acceptance.
    response = citizen.post(reverse("cases:materials", args=[case.pk]),
                            {"action": "upload", "material-application": png("补充.png", 5)})
    assert response.status_code == 409 and "受理后只能补交容缺受理时列明的材料" in text(response)


# --- access ---------------------------------------------------------------------------------------


def test_outsiders_get_404_on_the_case_pages_and_on_material_files(world, filed_case, portal_outsider, client):
    case = filed_case()
    document = case.documents.first()
    token = case.materials.exclude(file=None).first().file.token

    def url(name, *extra):
        return lambda objects: reverse(name, args=[objects["case"].pk, *extra])

    file_url = reverse("core:file_download", args=[token])
    cells = []
    for actor, expect in (("anonymous", "login"), ("outsider", 404), ("owner", "allowed")):
        cells += [
            AccessCase(actor=actor, url=url("cases:detail"), obj="case", expect=expect),
            AccessCase(actor=actor, url=url("cases:receipt"), obj="case", expect=expect),
            AccessCase(actor=actor, url=url("cases:document", document.pk), obj="case", expect=expect),
            AccessCase(actor=actor, url=file_url, obj="material", expect=expect),
        ]
    cells += [
        AccessCase(actor="outsider", url=url("cases:draft"), obj="case", expect=404),
        AccessCase(actor="outsider", method="post", url=url("cases:withdraw"), data={"reason": "不想办了"},
                   obj="case", expect=404),
        AccessCase(actor="outsider", method="post", url=url("cases:materials"),
                   data={"action": "upload"}, obj="case", expect=404),
    ]
    assert_access_matrix(client, cells, {"anonymous": None, "outsider": portal_outsider, "owner": world.citizen},
                         {"case": case})
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    outsider_page = text(Client().get(reverse("cases:mine")))  # anonymous: a login redirect, no data
    assert case.number not in outsider_page


# --- public progress lookup ------------------------------------------------------------------------


def test_progress_lookup_shows_progress_without_personal_data(world, filed_case):
    world.citizen.real_name = "张三丰"
    world.citizen.save(update_fields=["real_name"])
    case = filed_case()
    anonymous = Client()
    # The QR code on every document opens the lookup with the number and code filled in.
    qr = urlsplit(documents.progress_url(case, "https://zwfw.example.gov.cn"))
    response = anonymous.get(f"{qr.path}?{qr.query}")
    assert response.status_code == 200
    html = text(response)
    assert case.item.name in html and case.department.name in html and "待受理" in html and "剩余" in html
    assert "张三丰" not in html and ADDRESS not in html and "现场照片" not in html
    assert_no_inline_code(html)
    # The code is not case-sensitive.
    response = anonymous.get(reverse("cases:progress"), {"number": case.number, "code": case.query_code.lower()})
    assert response.status_code == 200 and case.item.name in text(response)


def test_a_wrong_code_answers_like_a_wrong_number(world, filed_case):
    case = filed_case()
    anonymous = Client()
    wrong_code = "Z" * 6 if case.query_code != "Z" * 6 else "Y" * 6
    by_code = anonymous.get(reverse("cases:progress"), {"number": case.number, "code": wrong_code})
    by_number = anonymous.get(reverse("cases:progress"), {"number": case.number + "9", "code": case.query_code})
    assert by_code.status_code == by_number.status_code == 404
    for response in (by_code, by_number):
        assert "办件编号或查询码不正确" in text(response) and case.item.name not in text(response)


def test_failed_lookups_are_capped_per_client_address(world, filed_case):
    from onewindow.cases.views import PROGRESS_FAILURE_LIMIT

    case = filed_case()
    guesser, neighbour = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="203.0.113.8")
    right = {"number": case.number, "code": case.query_code}
    for attempt in range(PROGRESS_FAILURE_LIMIT):
        response = guesser.get(reverse("cases:progress"), {"number": case.number, "code": f"{attempt:06d}"})
        assert response.status_code == 404
    refused = guesser.get(reverse("cases:progress"), right)
    assert refused.status_code == 429 and "查询失败次数过多" in text(refused) and case.item.name not in text(refused)
    assert neighbour.get(reverse("cases:progress"), right).status_code == 200


# --- village agents ---------------------------------------------------------------------------------


def test_an_agent_files_for_a_citizen_who_sees_the_case_too(world, item, portal_agent, portal_resident, client_as):
    agent = client_as(portal_agent)
    form_page = agent.get(reverse("cases:agent_file"), {"item": item.impl_code})
    assert form_page.status_code == 200 and f'value="{item.impl_code}"' in text(form_page)
    base = {"impl_code": item.impl_code, "id_number": portal_resident.id_number,
            "consent": "王芳当面委托代办，同意代为提交材料。"}
    wrong = agent.post(reverse("cases:agent_file"), {**base, "real_name": "王小芳"})
    assert wrong.status_code == 400 and "证件号码与姓名不符" in text(wrong)
    assert not Case.objects.exists()

    response = agent.post(reverse("cases:agent_file"),
                          {**base, "real_name": "王芳", "consent_file": png("委托书.png", 11)})
    assert response.status_code == 302
    case = Case.objects.get()
    assert response.url == draft_url(case)
    assert (case.applicant, case.filed_by, case.channel) == (portal_resident, portal_agent, Channel.AGENT)
    assert case.agent_consent_file is not None

    # The agent fills in the same application page and submits.
    data = page_form(agent, case)
    data["f-location"] = [ADDRESS]
    post(agent, case, data, action="upload", **{
        "material-application": png("申请表.png", 12), "material-site_photos": png("近景.png", 13)})
    response = post(agent, case, page_form(agent, case), action="submit")
    assert response.status_code == 302, text(response)
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED

    # The agent's "my cases" lists it with the applicant; the citizen sees it in theirs.
    mine = text(agent.get(reverse("cases:mine")))
    assert case.number in mine and "王芳" in mine
    assert case.number in text(client_as(portal_resident).get(reverse("cases:mine")))


def test_only_agents_file_for_others(world, item, client_as):
    response = client_as(world.citizen).get(reverse("cases:agent_file"))
    assert response.status_code == 403
    # A clerk is staff but no agent either; staff cannot apply in their own name.
    assert client_as(world.clerk).get(reverse("cases:agent_file")).status_code == 403
    refused = client_as(world.clerk).post(reverse("cases:apply", kwargs={"impl_code": item.impl_code}))
    assert refused.status_code == 403 and not Case.objects.exists()


# --- after submission ---------------------------------------------------------------------------------


def test_withdraw_needs_a_reason(world, filed_case, client_as):
    case = filed_case()
    citizen = client_as(world.citizen)
    assert "撤回申请" in text(citizen.get(detail_url(case)))
    response = citizen.post(reverse("cases:withdraw", args=[case.pk]), {"reason": " "})
    assert response.status_code == 400 and "撤回须写明原因" in text(response)
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    response = citizen.post(reverse("cases:withdraw", args=[case.pk]), {"reason": "设置地点有变，暂不申请。"})
    assert response.status_code == 302 and response.url == detail_url(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN and case.ended_reason == "设置地点有变，暂不申请。"
    page = text(citizen.get(detail_url(case)))
    assert "已撤回" in page and "设置地点有变，暂不申请。" in page and 'action="' + reverse(
        "cases:withdraw", args=[case.pk]) not in page


def test_a_one_time_notice_is_answered_from_the_case_page(world, filed_case, client_as):
    case = filed_case()
    services.case_request_supplement(actor=world.clerk, case=case, missing=[
        {"material_key": "site_photos", "reason": "请补充夜间照明效果照片。"},
    ], note="其余材料齐全。")
    citizen = client_as(world.citizen)
    page = text(citizen.get(detail_url(case)))
    assert "补正告知" in page and "请补充夜间照明效果照片。" in page and "其余材料齐全。" in page
    assert 'name="material-site_photos"' in page and "提交补正材料" in page
    # The application page in this state submits supplements, not a new application.
    assert 'value="supply"' in text(citizen.get(draft_url(case)))

    response = citizen.post(reverse("cases:materials", args=[case.pk]),
                            {"action": "supply", "material-site_photos": png("夜景.png", 21)})
    assert response.status_code == 302 and response.url == detail_url(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert case.supplement_notices.get().answered_at is not None
    assert case.materials.filter(material_key="site_photos").count() == 3
    page = text(citizen.get(detail_url(case)))
    assert "提交补正材料" in page and "已补正" in page  # on the timeline and in the notice record


def test_the_result_shows_on_the_case_page(world, delivered_case, client_as):
    case = delivered_case(decision="approved")
    page = text(client_as(world.citizen).get(detail_url(case)))
    assert "准予许可" in page and case.result_number in page and "窗口领取" in page
    assert "准予许可决定书" in page


# --- navigation -----------------------------------------------------------------------------------------


def test_navigation_offers_my_cases_when_signed_in_and_the_lookup_to_everyone(world, portal_agent, client_as):
    home = reverse("core:home")
    anonymous = text(Client().get(home))
    assert f'href="{reverse("cases:progress")}"' in anonymous and f'href="{reverse("cases:mine")}"' not in anonymous
    citizen = text(client_as(world.citizen).get(home))
    assert f'href="{reverse("cases:mine")}"' in citizen
    workbench = text(client_as(portal_agent).get(reverse("core:workbench")))
    assert f'href="{reverse("cases:agent_file")}"' in workbench and f'href="{reverse("cases:mine")}"' in workbench
    clerk = text(client_as(world.clerk).get(reverse("core:workbench")))
    assert f'href="{reverse("cases:agent_file")}"' not in clerk


@pytest.mark.parametrize("name", ["cases:mine", "cases:progress"])
def test_portal_pages_carry_no_inline_code(world, client_as, name):
    assert_no_inline_code(text(client_as(world.citizen).get(reverse(name))))


# --- in an enterprise's name, and with e-licences ---------------------------------------------------------


def test_an_enterprise_handler_applies_in_the_enterprises_name(world, item, make_user, client_as):
    from onewindow.accounts.choices import AccountKind
    from onewindow.accounts.models import Enterprise, EnterpriseHandler
    from onewindow.core.identifiers import make_uscc

    handler = make_user("portal_handler", kind=AccountKind.ENTERPRISE, real_name="赵磊")
    enterprise = Enterprise.objects.create(
        name="遵义黔北茶业有限公司", uscc=make_uscc("9", "1", "520302", "QY520301"), legal_rep_name="张伟",
        legal_rep_id_number="520302198503121110", registered_address="遵义市红花岗区中华南路88号")
    EnterpriseHandler.objects.create(enterprise=enterprise, user=handler)
    browser = client_as(handler)
    apply_url = reverse("cases:apply", kwargs={"impl_code": item.impl_code})
    assert "以“遵义黔北茶业有限公司”的名义申请" in text(browser.get(apply_url))

    refused = browser.post(apply_url, {"enterprise": str(enterprise.pk + 1000)})
    assert refused.status_code == 400 and not Case.objects.exists()
    response = browser.post(apply_url, {"enterprise": str(enterprise.pk)})
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.applicant, case.enterprise) == (handler, enterprise)
    assert "遵义黔北茶业有限公司" in text(browser.get(draft_url(case)))


def test_a_valid_e_licence_is_attached_by_reference(world, basic, publish, monkeypatch, client_as):
    from onewindow.cases import hooks
    from onewindow.catalogue import services as catalogue
    from tests.catalogue.conftest import STANDARD, item_content

    world.citizen.id_number = "520302199007252226"
    world.citizen.save(update_fields=["id_number"])
    materials = [dict(material) for material in STANDARD["materials"]]
    materials[0]["licence_type"] = "outdoor_ad_form"
    version = catalogue.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                    content=item_content(materials=materials, differences={
                                        "materials": "本市已将申请表纳入电子证照库，可按编号调用。"}))
    item = type(publish(version).item).objects.get(pk=version.item_id)

    class Library:
        def valid_licences(self, *, holder_ids, licence_type):
            if licence_type != "outdoor_ad_form" or world.citizen.id_number not in holder_ids:
                return []
            return [hooks.LicenceRecord(number="DZZZ-2026-0001", licence_type=licence_type, name="户外广告设置申请表（电子）",
                                        holder_id=world.citizen.id_number)]

    monkeypatch.setattr(hooks, "licence_sources", [Library()])
    citizen = client_as(world.citizen)
    case = start(citizen, item)
    html = text(citizen.get(draft_url(case)))
    assert "调用我的电子证照：户外广告设置申请表（电子）（DZZZ-2026-0001）" in html
    response = citizen.post(draft_url(case), {**page_form(citizen, case), "licence": "application|DZZZ-2026-0001"})
    assert response.status_code == 302
    attached = case.materials.get()
    assert (attached.licence_number, attached.file) == ("DZZZ-2026-0001", None)
    # A number the library does not know for the applicant is refused.
    response = citizen.post(draft_url(case), {**page_form(citizen, case), "licence": "application|DZZZ-2026-9999"})
    assert response.status_code == 400 and "没有找到申请人名下有效的该类电子证照" in text(response)
    assert case.materials.count() == 1
