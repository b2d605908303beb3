"""The written documents of a case as PDFs: every kind, built through the services, drawn from
its frozen facts, with the issuing department, the seal line and the progress QR code."""

import datetime as dt
import re
import urllib.parse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path
from django.utils import timezone

from onewindow.cases import documents, services
from onewindow.cases.choices import DocumentKind
from onewindow.cases.models import Case, CaseDocument
from onewindow.core import files

BASE = "https://zwfw.example.gov.cn"

# The public progress lookup the QR code points at, under the name the case pages give it.
urlpatterns = [path("cases/", include(([path("progress/", lambda request: HttpResponse(), name="progress")], "cases")))]
pytestmark = pytest.mark.urls(__name__)


class NoRoutes:
    urlpatterns: list = []


@pytest.fixture
def issued(world, filed_case, delivered_case):
    """One document of every kind, each issued by the service that issues it."""
    deferred = filed_case(photos=False, deferral=["site_photos"], commitment="本人承诺在期限内补交设置地点现状照片。")
    deferred = services.case_accept(actor=world.clerk, case=deferred)
    services.case_terminate(case=deferred, reason="容缺材料（设置地点现状照片）逾期未补交。")
    services.case_request_supplement(
        actor=world.clerk, case=filed_case(),
        missing=[{"material_key": "site_photos", "reason": "照片须显示设置地点全貌"},
                 {"material_key": "", "reason": "申请表设置地点须写明门牌号"}],
        note="请一并补正。",
    )
    services.case_refuse(actor=world.clerk, case=filed_case(), reasons="不属于本机关职权范围",
                         basis="《中华人民共和国行政许可法》第三十二条第一款第（二）项")
    delivered_case(decision="approved")
    delivered_case(decision="denied")
    found = {}
    for document in CaseDocument.objects.select_related("case").order_by("id"):
        found.setdefault(document.kind, document)
    assert set(found) == set(DocumentKind.values)
    return found


def test_every_kind_has_a_layout():
    assert set(documents.LAYOUTS) == set(DocumentKind.values)


@pytest.mark.parametrize("kind", DocumentKind.values)
def test_each_kind_renders_a_valid_pdf_with_issuer_number_date_seal_and_progress_link(world, issued, kind):
    document = issued[kind]
    pdf = documents.render_pdf(document, base_url=BASE)
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 1  # one page each
    assert f"({document.number})".encode() in pdf  # the document number is the PDF's subject
    # The platform's own upload checks accept it: a well-formed PDF without active content.
    stored = files.store_upload(actor=world.citizen, purpose="test.document",
                                uploaded_file=SimpleUploadedFile(f"{document.number}.pdf", pdf))
    assert stored.kind == "pdf"

    # What it says: issuer, number, date, seal line and the progress link of the case.
    case = document.case
    content = documents.document_content(document, base_url=BASE)
    assert content.title == DocumentKind(kind).label and content.number == document.number
    assert (content.department, content.department_uscc) == (world.market.name, world.market.uscc)
    today = timezone.localdate(document.issued_at)
    assert content.date == f"{today.year}年{today.month}月{today.day}日"
    expected_seal = "行政审批专用章" if kind in ("approval", "denial", "termination") else "受理专用章"
    assert content.seal == expected_seal
    assert dict(content.heading_rows)["办件编号"] == case.number
    assert content.opening.startswith("citizen：") and "户外广告设置许可" in content.opening
    url = urllib.parse.urlsplit(content.qr_data)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{BASE}/cases/progress/"
    assert urllib.parse.parse_qs(url.query) == {"number": [case.number], "code": [case.query_code]}


def _blocks(content):
    return {block.heading: block for block in content.blocks}


def test_the_supplement_notice_lists_everything_missing_at_once(issued):
    content = documents.document_content(issued["supplement"])
    table = _blocks(content)["需要补正的材料和事项"]
    assert table.header == ("序号", "材料或事项", "补正要求")
    assert table.table == (("1", "设置地点现状照片", "照片须显示设置地点全貌"),
                           ("2", "申请表及其他事项", "申请表设置地点须写明门牌号"))
    assert _blocks(content)["说明"].text == "请一并补正。"
    assert "一并补正" in content.closing


def test_the_deferral_notice_says_what_how_by_when_the_consequence_and_the_commitment(issued):
    document = issued["deferral"]
    due = document.case.deferred_materials.get().due
    blocks = _blocks(documents.document_content(document))
    assert blocks["容缺的材料"].items == ("设置地点现状照片",)
    rows = dict(next(b for b in blocks.values() if b.kind == "rows").rows)
    assert rows["补交期限"] == f"{due.year}年{due.month}月{due.day}日"
    assert "上传" in rows["补交方式"]
    assert "终止办理" in blocks["逾期未补交的后果"].text
    assert blocks["申请人承诺"].text == "本人承诺在期限内补交设置地点现状照片。"


def test_the_receipt_names_the_materials_asked_to_be_deferred(issued):
    receipt = issued["receipt"]
    content = documents.document_content(receipt)
    assert set(dict(content.blocks[0].rows)) == {"申请时间", "受理决定期限"}
    # The facts hold the material's key; the case's guide version gives its name.
    assert receipt.facts["deferral"] == ["site_photos"]
    assert content.blocks[1].items == ("设置地点现状照片",)


def test_refusal_and_denial_give_reasons_basis_and_the_remedies(issued):
    for kind, reason in (("refusal", "不予受理的理由"), ("denial", "不予许可的理由")):
        blocks = _blocks(documents.document_content(issued[kind]))
        assert blocks[reason].text
        assert "第" in blocks["法律依据"].text
        assert "行政复议" in blocks["救济途径"].text and "行政诉讼" in blocks["救济途径"].text


def test_approval_and_acceptance_state_the_result_and_the_dates(issued):
    approval = _blocks(documents.document_content(issued["approval"]))
    assert approval["决定意见"].text == "同意设置。"
    acceptance = documents.document_content(issued["acceptance"])
    case = issued["acceptance"].case
    rows = dict(acceptance.blocks[0].rows)
    due = case.promised_due
    assert rows["承诺办结日期"] == f"{due.year}年{due.month}月{due.day}日" and "法定办结日期" in rows
    termination = _blocks(documents.document_content(issued["termination"]))
    assert "逾期未补交" in termination["终止办理的理由"].text


def test_acceptance_on_receipt_says_why(world, filed_case):
    case = filed_case()
    Case.objects.filter(pk=case.pk).update(acceptance_due=timezone.localdate() - dt.timedelta(days=1))
    services.accept_on_receipt_sweep()
    document = CaseDocument.objects.get(case=case, kind="acceptance")
    text = documents.document_content(document).blocks[0].text
    assert "第三十二条" in text and "即为受理" in text


def test_the_pdf_shows_the_facts_frozen_at_issue_not_todays(issued):
    document = issued["denial"]
    before = documents.document_content(document)
    Case.objects.filter(pk=document.case_id).update(decision_opinion="后来改过的理由")
    document = CaseDocument.objects.get(pk=document.pk)
    assert documents.document_content(document) == before


def test_progress_url_waits_for_the_progress_page(issued):
    case = issued["receipt"].case
    assert documents.progress_url(case, BASE + "/").startswith(f"{BASE}/cases/progress/?number=")
    with override_settings(ROOT_URLCONF=NoRoutes):
        assert documents.progress_url(case, BASE) is None
        content = documents.document_content(issued["receipt"], base_url=BASE)
        assert content.qr_data is None
        assert documents.render_pdf(issued["receipt"], base_url=BASE).startswith(b"%PDF-")


def test_without_a_base_url_the_setting_is_used_and_without_both_no_qr_code(issued, settings):
    settings.ONEWINDOW_PUBLIC_URL = "https://hall.example.cn/"
    content = documents.document_content(issued["acceptance"])
    assert content.qr_data.startswith("https://hall.example.cn/cases/progress/?")
    settings.ONEWINDOW_PUBLIC_URL = ""
    content = documents.document_content(issued["acceptance"])
    assert content.qr_data is None and content.query_code == issued["acceptance"].case.query_code
    assert documents.render_pdf(issued["acceptance"]).startswith(b"%PDF-")
