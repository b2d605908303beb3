"""The staff workbench for cases: the queues of each role, the case page and every action posted
from it, window intake, file previews and downloads, and the live counters over a websocket."""

import datetime as dt
import io
import json
import re
import zipfile

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.cases import live, services
from onewindow.cases.choices import CaseStatus, Channel, StepStatus
from onewindow.cases.models import Case, CaseEvent, CaseMaterial, CaseStep, SupplementNotice
from onewindow.catalogue import services as catalogue
from onewindow.core.errors import DomainError
from onewindow.core.identifiers import make_id_number
from onewindow.core.testing.access_matrix import login_as
from tests.cases.conftest import item_content, make_png
from tests.catalogue.conftest import form_data

SPECIALS = [
    {"kind": "2", "name": "现场勘察", "max_days": 5, "basis": "《遵义市户外广告设置管理办法》第十条"},
    {"kind": "1", "name": "延长审批", "max_days": 10, "basis": "《中华人民共和国行政许可法》第四十二条"},
]
# A minimal PDF the upload checks accept: one empty page.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def text(response) -> str:
    return response.content.decode()


def png(name: str = "扫描件.png", seed: int = 1) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_png(seed), content_type="image/png")


def case_url(case) -> str:
    return reverse("cases_workbench:case", args=[case.pk])


def action_url(case, action: str) -> str:
    return reverse("cases_workbench:case_action", args=[case.pk, action])


def queue_url(name: str, **params) -> str:
    url = reverse("cases_workbench:queue", args=[name])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def page_form(client: Client, case, action: str) -> dict[str, list[str]]:
    """What a browser posts from the case page's form for `action`, as the page shows it now."""
    response = client.get(case_url(case))
    assert response.status_code == 200, text(response)
    return form_data(text(response), action_url(case, action))


def act(client: Client, case, action: str, **typed):
    """Post an action form of the case page, with what the user typed over what it shows."""
    data = page_form(client, case, action)
    data.update({key: value if isinstance(value, list) else [value] for key, value in typed.items()})
    return client.post(action_url(case, action), data)


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


def assert_no_inline_code(page: str) -> None:
    assert "<style" not in page and " style=" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []


@pytest.fixture
def make_item(world, basic, publish):
    """make_item(suffix, **guide changes) → another published item of the market department."""

    def make(suffix, **changes):
        version = catalogue.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                        impl_code=f"{world.market.uscc}{suffix}", content=item_content(**changes))
        return type(publish(version).item).objects.get(pk=version.item_id)

    return make


@pytest.fixture
def special_item(make_item):
    """The advertising item with a site inspection and an extension in its guide."""
    return make_item("SPECIAL", special_procedures=SPECIALS, result_name="户外广告设置许可证")


@pytest.fixture
def light_item(make_item):
    """An item with nothing to upload and one optional form field: cheap to file many times."""
    return make_item("LIGHT", materials=[], form={"fields": [{"key": "note", "label": "备注", "type": "text"}]},
                     differences={"materials": "网上核验申请人身份和设置地点，无需提交材料。"})


@pytest.fixture
def submit(world):
    """submit(item, applicant=None) → a case submitted online with its form and materials."""
    counter = iter(range(1, 100_000))

    def make(item, applicant=None):
        applicant = applicant or world.citizen
        case = services.case_start(actor=applicant, item=item)
        materials = {m["key"] for m in item.current_version.content.get("materials", [])}
        if "application" in materials:
            services.case_save_form(actor=applicant, case=case, data={"location": "红花岗区中华南路88号"})
        for key in sorted(materials):
            services.case_attach(actor=applicant, case=case, material_key=key,
                                 uploaded_file=png(f"{key}.png", next(counter)))
        return services.case_submit(actor=applicant, case=case, idempotency_key=f"wb-{next(counter):08d}")

    return make


@pytest.fixture
def resident(make_user):
    return make_user("resident", kind=AccountKind.CITIZEN, real_name="王小明",
                     id_number=make_id_number("520302", dt.date(1975, 3, 8), 21))


@pytest.fixture
def stranger(world, make_user):
    """Staff of another department (民政局): sees none of the market department's cases."""
    user = make_user("stranger", kind=AccountKind.STAFF, otp=True, real_name="陈外")
    for role in (Role.WINDOW_CLERK, Role.REVIEWER):
        RoleAssignment.objects.create(user=user, role=role, department=world.other)
    return user


# --- queues -----------------------------------------------------------------------------------------


def test_each_role_sees_its_queues_and_nothing_of_another_department(
    world, special_item, submit, reviewer, approver, stranger, client_as,
):
    waiting = submit(special_item)
    in_review = services.case_accept(actor=world.clerk, case=submit(special_item))
    claimed = services.case_accept(actor=world.clerk, case=submit(special_item))
    services.step_claim(actor=reviewer, case=claimed)
    at_decision = services.case_accept(actor=world.clerk, case=submit(special_item))
    services.step_pass(actor=reviewer, case=at_decision, opinion="符合规划。")
    paused = services.case_accept(actor=world.clerk, case=submit(special_item))
    services.case_start_special(actor=reviewer, case=paused, name="现场勘察", reason="须核实设置地点。")
    clerk, reviewing, approving, outsider = (client_as(u) for u in (world.clerk, reviewer, approver, stranger))

    def numbers(client, name):
        response = client.get(queue_url(name))
        assert response.status_code == 200, text(response)
        return set(re.findall(r'class="cwb-number">([0-9A-Z]+)<', text(response)))

    assert numbers(clerk, "acceptance") == {waiting.number}
    assert numbers(reviewing, "steps") == {in_review.number, claimed.number}
    assert numbers(reviewing, "mine") == {claimed.number}
    assert numbers(approving, "steps") == {at_decision.number}
    assert numbers(reviewing, "paused") == {paused.number}
    for name in ("acceptance", "steps", "mine", "paused", "completion", "archive"):
        assert numbers(outsider, name) == set()
    assert numbers(reviewing, "acceptance") == set()  # not a window clerk
    # The home page counts each queue the role works on.
    home = text(reviewing.get(reverse("cases_workbench:home")))
    assert re.search(r"待办环节</span> <span class=\"badge cwb-queue__count\">2<", home)
    assert re.search(r"我的环节</span> <span class=\"badge cwb-queue__count\">1<", home)
    assert "待受理" not in home  # the acceptance queue is the window's
    counters = text(clerk.get(reverse("cases_workbench:counters")))
    assert re.search(r"待受理</span> <span class=\"badge cwb-queue__count\">1<", counters)
    # Another department's staff: 404 on the case page and on every action, nothing changes.
    assert outsider.get(case_url(waiting)).status_code == 404
    for case, action in ((waiting, "accept"), (waiting, "refuse"), (in_review, "claim"), (at_decision, "decide")):
        response = outsider.post(action_url(case, action), {"step": "", "reasons": "x", "basis": "y"})
        assert response.status_code == 404
    assert fresh(waiting).status == CaseStatus.SUBMITTED
    assert not CaseEvent.objects.filter(actor=stranger).exists()
    assert client_as(world.citizen).get(reverse("cases_workbench:home")).status_code == 403
    assert Client().get(reverse("cases_workbench:home")).status_code == 302


def test_queue_filters_colour_and_remaining_days(world, special_item, light_item, submit, resident, client_as):
    overdue = submit(special_item)
    Case.objects.filter(pk=overdue.pk).update(acceptance_due=timezone.localdate() - dt.timedelta(days=1))
    near = submit(light_item, resident)
    Case.objects.filter(pk=near.pk).update(acceptance_due=timezone.localdate())
    normal = submit(light_item)
    clerk = client_as(world.clerk)

    def numbers(**params):
        response = clerk.get(queue_url("acceptance", **params))
        assert response.status_code == 200
        return set(re.findall(r'class="cwb-number">([0-9A-Z]+)<', text(response)))

    assert numbers() == {overdue.number, near.number, normal.number}
    assert numbers(urgency="overdue") == {overdue.number}
    assert numbers(urgency="near") == {near.number}
    assert numbers(urgency="normal") == {normal.number}
    assert numbers(urgency="paused") == set()
    assert numbers(item=light_item.pk) == {near.number, normal.number}
    assert numbers(q="王小") == {near.number}
    assert numbers(q=normal.number[-6:]) == {normal.number}
    assert numbers(channel="window") == set()
    assert numbers(channel="online") == {overdue.number, near.number, normal.number}
    assert numbers(urgency="bogus", item="x") == {overdue.number, near.number, normal.number}
    page = text(clerk.get(queue_url("acceptance")))
    row = re.search(rf'<tr class="cwb-row cwb-row--overdue">.*?{overdue.number}.*?</tr>', page, re.S)
    assert row and "已超期" in row.group(0)
    assert '<tr class="cwb-row cwb-row--near">' in page and "临近期限" in page


def test_queue_pages_take_the_same_queries_for_5_or_55_cases(world, light_item, submit, reviewer, client_as):
    """50 cases a page; the number of queries does not grow with the rows shown (no N+1)."""
    cases = [submit(light_item) for _ in range(5)]
    clerk, reviewing = client_as(world.clerk), client_as(reviewer)
    for case in cases[:2]:
        services.case_accept(actor=world.clerk, case=case)

    def measure(client, url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        # The working-day calendar checks its revision at most once a second, whenever that falls.
        return len([q for q in queries if "core_calendarrevision" not in q["sql"]]), text(response)

    small_acceptance, _ = measure(clerk, queue_url("acceptance"))
    small_steps, _ = measure(reviewing, queue_url("steps"))
    cases += [submit(light_item) for _ in range(50)]
    for case in cases[5:30]:
        services.case_accept(actor=world.clerk, case=case)
    large_acceptance, page = measure(clerk, queue_url("acceptance"))
    assert page.count('class="cwb-number"') == 28 and "第 1 / 1 页" not in page
    large_steps, page = measure(reviewing, queue_url("steps"))
    assert page.count('class="cwb-number"') == 27
    assert (large_acceptance, large_steps) == (small_acceptance, small_steps)
    for _ in range(30):
        services.case_accept(actor=world.clerk, case=submit(light_item))
    full, page = measure(reviewing, queue_url("steps"))
    assert page.count('class="cwb-number"') == 50 and "第 1 / 2 页" in page
    second, page = measure(reviewing, queue_url("steps", page=2))
    assert page.count('class="cwb-number"') == 7
    assert full == second == small_steps
    assert full <= 35


# --- the case page and its actions --------------------------------------------------------------------


def test_the_case_page_shows_everything_of_the_case(world, special_item, submit, resident, client_as):
    case = services.case_accept(actor=world.clerk, case=submit(special_item, resident))
    page = text(client_as(world.clerk).get(case_url(case)))
    assert_no_inline_code(page)
    assert case.number in page and "户外广告设置许可" in page
    assert resident.id_number_masked in page and resident.id_number not in page
    assert "网上申报" in page and "设置地点" in page and "红花岗区中华南路88号" in page
    assert str(case.promised_due) in page and str(case.legal_due) in page and "剩余" in page
    assert "审查" in page and "待认领" in page
    assert "受理通知书" in page and "收件回执" in page
    # Images are shown through the download URL, which checks who may read them.
    photo = case.materials.filter(material_key="site_photos").first()
    assert f'<img src="{reverse("core:file_download", args=[photo.file.token])}"' in page
    assert "<strong>提交申请</strong>" in page and "<strong>受理</strong>" in page  # the timeline
    # In review the window may only record a visit; the step is the reviewers'.
    assert action_url(case, "record_visit") in page
    for action in ("accept", "claim", "pass_step", "decide"):
        assert action_url(case, action) not in page


def test_a_case_runs_through_every_action_posted_from_the_page(
    world, special_item, submit, reviewer, approver, make_user, client_as,
):
    colleague = make_user("colleague", kind=AccountKind.STAFF, otp=True, real_name="周同事")
    RoleAssignment.objects.create(user=colleague, role=Role.REVIEWER, department=world.market)
    case = submit(special_item)
    clerk, reviewing, approving = client_as(world.clerk), client_as(reviewer), client_as(approver)

    assert act(clerk, case, "record_visit").status_code == 302
    assert fresh(case).visits == 1
    assert act(clerk, case, "accept").status_code == 302
    assert fresh(case).status == CaseStatus.IN_REVIEW
    assert act(reviewing, case, "claim").status_code == 302
    assert CaseStep.objects.get(case=case, status=StepStatus.CLAIMED).assignee == reviewer
    response = act(reviewing, case, "transfer", to=str(colleague.pk), reason="休假")
    assert response.status_code == 302
    assert CaseStep.objects.get(case=case, status=StepStatus.CLAIMED).assignee == colleague
    response = act(client_as(colleague), case, "transfer", to="pool", reason="请他人办理")
    assert response.status_code == 302
    assert CaseStep.objects.get(case=case, status=StepStatus.WAITING).assignee is None
    response = act(reviewing, case, "start_special", name="现场勘察", reason="核实设置地点。")
    assert response.status_code == 302 and fresh(case).status == CaseStatus.SPECIAL
    response = act(reviewing, case, "end_special", result="现场与申请一致。")
    assert response.status_code == 302 and fresh(case).status == CaseStatus.IN_REVIEW
    response = act(approving, case, "extend", days="3", reason="需征求规划部门意见。")
    assert response.status_code == 302 and fresh(case).extension_days == 3
    assert act(reviewing, case, "pass_step", opinion="符合设置规划。").status_code == 302
    assert CaseStep.objects.get(case=case, status=StepStatus.WAITING).kind == "decide"
    response = act(approving, case, "return_step", to_key="review", reason="请补充核实照片。")
    assert response.status_code == 302
    assert CaseStep.objects.get(case=case, status=StepStatus.WAITING).key == "review"
    assert act(reviewing, case, "pass_step", opinion="已核实。").status_code == 302
    response = act(approving, case, "decide", decision="approved", opinion="同意设置。")
    assert response.status_code == 302, text(response)
    assert (fresh(case).status, fresh(case).decision) == (CaseStatus.DECIDED, "approved")
    assert act(clerk, case, "complete").status_code == 302
    response = act(clerk, case, "deliver", method="post", address="遵义市红花岗区中华南路88号", recipient="张三",
                   carrier="中国邮政", tracking_number="EMS123456789")
    assert response.status_code == 302
    delivered = fresh(case)
    assert (delivered.status, delivered.delivery_method, delivered.tracking_number) == (
        CaseStatus.DELIVERED, "post", "EMS123456789")
    assert act(clerk, case, "archive").status_code == 302
    assert fresh(case).status == CaseStatus.ARCHIVED
    page = text(clerk.get(case_url(case)))
    for label in ("受理", "认领环节", "转办", "启动特别程序", "结束特别程序", "延长审批期限", "通过本环节",
                  "退回前一环节", "作出决定", "办结", "送达", "归档"):
        assert f"<strong>{label}</strong>" in page, label
    package = clerk.get(reverse("cases_workbench:archive_export", args=[case.pk]))
    assert package.status_code == 200 and package["Content-Type"] == "application/zip"
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(package.content)).namelist()


def test_refusal_supplement_denial_and_decision_on_the_spot(
    world, special_item, make_item, submit, reviewer, approver, client_as,
):
    clerk = client_as(world.clerk)
    refused = submit(special_item)
    assert act(clerk, refused, "refuse", reasons="不属于本机关职权范围",
               basis="《中华人民共和国行政许可法》第三十二条").status_code == 302
    assert fresh(refused).status == CaseStatus.NOT_ACCEPTED

    noticed = submit(special_item)
    page = text(clerk.get(case_url(noticed)))
    assert "再次告知将被标记" not in page
    response = act(clerk, noticed, "request_supplement", **{
        "missing-site_photos": "1", "reason-site_photos": "照片须显示设置地点全貌",
        "free_reason": ["申请表须写明门牌号", "", ""]})
    assert response.status_code == 302
    notice = SupplementNotice.objects.get(case=noticed)
    assert [(m["material_key"], m["reason"]) for m in notice.missing] == [
        ("site_photos", "照片须显示设置地点全貌"), ("", "申请表须写明门牌号")]
    services.case_supply(actor=world.citizen, case=noticed)
    page = text(clerk.get(case_url(noticed)))
    assert "再次告知将被标记并报送电子监察" in page  # the visible warning before a second notice
    assert act(clerk, noticed, "request_supplement", **{
        "missing-application": "1", "reason-application": "漏签字"}).status_code == 302
    assert SupplementNotice.objects.filter(case=noticed).order_by("id").last().repeated

    denied = services.case_accept(actor=world.clerk, case=submit(special_item))
    services.step_pass(actor=reviewer, case=denied, opinion="设置地点位于禁设区域。")
    response = act(client_as(approver), denied, "decide", decision="denied", reasons="设置地点位于禁设区域。",
                   basis="《遵义市户外广告设置管理办法》第十条")
    assert response.status_code == 302
    assert (fresh(denied).decision, fresh(denied).denial_filing.basis) == ("denied", "《遵义市户外广告设置管理办法》第十条")

    steps = [{"key": "accept", "name": "受理", "kind": "accept", "role": "window_clerk", "limit_days": 0},
             {"key": "decide", "name": "当场决定", "kind": "decide", "role": "window_clerk", "limit_days": 0}]
    immediate = make_item("SPOT", case_type="1", steps=steps, promised_limit={"amount": 0, "unit": "working_day"})
    spot = submit(immediate)
    assert action_url(spot, "decide_on_spot") in text(clerk.get(case_url(spot)))
    assert act(clerk, spot, "decide_on_spot", decision="approved", opinion="当场准予。").status_code == 302
    assert fresh(spot).status == CaseStatus.COMPLETED


def test_an_illegal_or_invalid_action_is_refused_with_its_message_and_changes_nothing(
    world, special_item, submit, reviewer, client_as,
):
    case = submit(special_item)
    clerk = client_as(world.clerk)
    stale = page_form(clerk, case, "accept")
    assert act(clerk, case, "accept").status_code == 302
    events = CaseEvent.objects.filter(case=case).count()
    # The same page, posted again: the case is in review now.
    response = clerk.post(action_url(case, "accept"), stale)
    assert response.status_code == 409
    assert "该办件当前为“审查中”，不能受理。" in text(response)
    assert CaseEvent.objects.filter(case=case).count() == events
    # Not the reviewer's to accept or refuse (the form is not even offered): 409 / 403.
    other = submit(special_item)
    response = client_as(reviewer).post(action_url(other, "refuse"), {"reasons": "x", "basis": "y"})
    assert response.status_code == 403 and "您没有权限不予受理。" in text(response)
    # Bad input: the message, 400, what was typed is still there, nothing changes.
    response = act(clerk, other, "refuse", reasons="材料虚假", basis=" ")
    assert response.status_code == 400
    page = text(response)
    assert "不予受理须写明法律依据。" in page and "材料虚假</textarea>" in page
    assert fresh(other).status == CaseStatus.SUBMITTED
    response = act(clerk, other, "accept", deferred_due="not-a-date")
    assert response.status_code == 400 and "请填写有效的日期" in text(response)
    assert fresh(other).status == CaseStatus.SUBMITTED
    assert clerk.post(action_url(other, "no_such_action"), {}).status_code == 404
    assert clerk.get(action_url(other, "accept")).status_code == 405


def test_a_form_rendered_for_an_earlier_step_is_refused(world, special_item, submit, reviewer, approver, client_as):
    case = services.case_accept(actor=world.clerk, case=submit(special_item))
    reviewing = client_as(reviewer)
    review_page = page_form(reviewing, case, "pass_step")
    special_page = page_form(reviewing, case, "start_special")
    # Meanwhile the step is passed (another tab, another colleague).
    services.step_pass(actor=reviewer, case=case, opinion="符合规划。")
    events = CaseEvent.objects.filter(case=case).count()
    response = reviewing.post(action_url(case, "pass_step"), {**review_page, "opinion": ["再次通过"]})
    assert response.status_code == 409 and "该环节已由他人办理，请刷新后查看。" in text(response)
    response = client_as(approver).post(action_url(case, "start_special"),
                                        {**special_page, "name": ["现场勘察"], "reason": ["核实"]})
    assert response.status_code == 409 and "该环节已由他人办理，请刷新后查看。" in text(response)
    response = reviewing.post(action_url(case, "claim"), {})
    assert response.status_code == 400 and "页面缺少环节信息" in text(response)
    assert CaseEvent.objects.filter(case=case).count() == events
    assert fresh(case).status == CaseStatus.IN_REVIEW


# --- files ---------------------------------------------------------------------------------------------


def test_material_previews_documents_and_their_scope(world, special_item, stranger, client_as):
    citizen = world.citizen
    case = services.case_start(actor=citizen, item=special_item)
    services.case_save_form(actor=citizen, case=case, data={"location": "遵义市"})
    pdf = services.case_attach(actor=citizen, case=case, material_key="application",
                               uploaded_file=SimpleUploadedFile("申请表.pdf", PDF, "application/pdf"))
    services.case_attach(actor=citizen, case=case, material_key="site_photos", uploaded_file=png())
    case = services.case_submit(actor=citizen, case=case, idempotency_key="wb-preview-01")
    clerk = client_as(world.clerk)
    preview = reverse("cases_workbench:material_preview", args=[case.pk, pdf.pk])
    assert f'<iframe src="{preview}"' in text(clerk.get(case_url(case)))
    response = clerk.get(preview)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PDF
    document = case.documents.get()
    pdf_url = reverse("cases_workbench:document_pdf", args=[case.pk, document.pk])
    response = clerk.get(pdf_url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("attachment;")
    outsider = client_as(stranger)
    for url in (preview, pdf_url, reverse("cases_workbench:archive_export", args=[case.pk])):
        assert outsider.get(url).status_code == 404
    assert outsider.get(reverse("core:file_download", args=[pdf.file.token])).status_code == 404
    # Not archived yet: nothing to export, said so.
    response = clerk.get(reverse("cases_workbench:archive_export", args=[case.pk]))
    assert response.status_code == 409 and "尚未归档" in text(response)


# --- window intake -----------------------------------------------------------------------------------


def test_window_intake_from_identity_check_to_acceptance(world, item, resident, stranger, client_as):
    clerk = client_as(world.clerk)
    intake = reverse("cases_workbench:intake")
    page = text(clerk.get(intake))
    assert_no_inline_code(page)
    assert f'<option value="{item.pk}"' in page
    response = clerk.post(intake, {"item": item.pk, "id_number": resident.id_number, "real_name": "王小"})
    assert response.status_code == 400 and "证件号码与姓名不符" in text(response)
    assert not Case.objects.exists()
    response = clerk.post(intake, {"item": item.pk, "id_number": resident.id_number, "real_name": "王小明"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.applicant, case.filed_by, case.channel, case.visits) == (resident, world.clerk, Channel.WINDOW, 1)
    url = reverse("cases_workbench:intake_case", args=[case.pk])
    assert response.url == url
    assert client_as(stranger).get(url).status_code == 404  # not a clerk of this item: 403 at most, never the data
    page = text(clerk.get(url))
    assert resident.id_number_masked in page and "设置地点" in page
    data = form_data(page, url)
    # Submitting without the photos: refused by name, the draft keeps what was typed.
    response = clerk.post(url, {**data, "f-location": "红花岗区中华南路88号", "action": "submit",
                                "material-application": png("申请表.png", 11)})
    assert response.status_code == 400 and "设置地点现状照片" in text(response)
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT and case.form_data["location"] == "红花岗区中华南路88号"
    assert case.materials.count() == 1
    data = form_data(text(clerk.get(url)), url)
    response = clerk.post(url, {**data, "action": "submit", "f-photos": [png("近景.png", 12), png("远景.png", 13)]})
    assert response.status_code == 302 and response.url == case_url(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and case.accepted_by == world.clerk and case.number
    assert len(case.form_data["photos"]) == 2
    assert CaseMaterial.objects.filter(case=case, material_key="site_photos").count() == 2
    assert [e.action for e in case.events.order_by("id")] == ["file_at_window", "submit", "accept"]
    assert clerk.get(url).url == case_url(case)  # no longer a draft: to the case page


def test_window_intake_with_deferral_and_an_immediate_item(world, item, make_item, resident, client_as):
    clerk = client_as(world.clerk)
    case = services.case_file_at_window(actor=world.clerk, item=item, id_number=resident.id_number,
                                        real_name=resident.real_name)
    url = reverse("cases_workbench:intake_case", args=[case.pk])
    data = form_data(text(clerk.get(url)), url)
    due = timezone.localdate()
    response = clerk.post(url, {**data, "f-location": "遵义市", "action": "submit", "deferral": "site_photos",
                                "commitment": "本人承诺在期限内补交现场照片。", "deferred_due": due.isoformat(),
                                "material-application": png("申请表.png", 21)})
    assert response.status_code == 302, text(response)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW and case.deferral_requested == ["site_photos"]
    assert list(case.deferred_materials.values_list("material_key", "due")) == [("site_photos", due)]
    page = text(clerk.get(case_url(case)))
    assert "容缺受理，须于" in page and "容缺受理通知书" in page

    steps = [{"key": "accept", "name": "受理", "kind": "accept", "role": "window_clerk", "limit_days": 0},
             {"key": "decide", "name": "当场决定", "kind": "decide", "role": "window_clerk", "limit_days": 0}]
    immediate = make_item("SPOT", case_type="1", steps=steps, promised_limit={"amount": 0, "unit": "working_day"})
    spot = services.case_file_at_window(actor=world.clerk, item=immediate, id_number=resident.id_number,
                                        real_name=resident.real_name)
    url = reverse("cases_workbench:intake_case", args=[spot.pk])
    page = text(clerk.get(url))
    assert "提交并受理" not in page and "即办件" in page
    response = clerk.post(url, {**form_data(page, url), "f-location": "遵义市", "action": "submit",
                                "material-application": png("申请表.png", 22),
                                "material-site_photos": png("照片.png", 23)})
    assert response.status_code == 302
    assert fresh(spot).status == CaseStatus.SUBMITTED
    assert act(clerk, spot, "decide_on_spot", decision="approved", opinion="当场准予。").status_code == 302
    assert fresh(spot).status == CaseStatus.COMPLETED


def test_a_file_can_be_removed_from_a_window_draft(world, item, resident, client_as):
    case = services.case_file_at_window(actor=world.clerk, item=item, id_number=resident.id_number,
                                        real_name=resident.real_name)
    clerk = client_as(world.clerk)
    url = reverse("cases_workbench:intake_case", args=[case.pk])
    data = form_data(text(clerk.get(url)), url)
    assert clerk.post(url, {**data, "action": "save", "material-application": png()}).status_code == 302
    material = case.materials.get()
    assert f'form="detach-{material.pk}"' in text(clerk.get(url))
    remove = reverse("cases_workbench:intake_detach", args=[case.pk])
    assert clerk.post(remove, {"material": material.pk}).status_code == 302
    assert not case.materials.exists()
    assert clerk.post(remove, {"material": material.pk}).status_code == 404


# --- live counters ---------------------------------------------------------------------------------


class Socket(ApplicationCommunicator):
    """A websocket client of the ASGI application, as channels.testing.WebsocketCommunicator
    (whose package needs daphne, which the platform does not use)."""

    def __init__(self, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        from onewindow.config.asgi import application

        super().__init__(application, {"type": "websocket", "path": path, "query_string": b"", "headers": headers,
                                       "subprotocols": []})

    async def connect(self, timeout: float = 3) -> tuple[bool, object]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept"
        return True, response.get("subprotocol")

    async def receive_json_from(self, timeout: float = 3) -> object:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 3) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def _connect(user, *, origin: bytes = b"http://localhost") -> Socket:
    """A websocket to the workbench counters with the session of `user` (None: anonymous)."""
    headers = [(b"origin", origin), (b"host", b"localhost")]
    if user is not None:
        client = Client()
        login_as(client, user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        headers.append((b"cookie", cookie.encode()))
    return Socket("/ws/workbench/cases/", headers)


@pytest.mark.django_db(transaction=True)
def test_staff_pages_hear_about_changes_in_their_department(world, item, submit, other_clerk):
    case = submit(item)
    clerk, outsider = _connect(world.clerk), _connect(other_clerk)

    async def scenario():
        assert (await clerk.connect())[0] and (await outsider.connect())[0]
        assert await clerk.receive_nothing()
        await database_sync_to_async(services.case_accept)(actor=world.clerk, case=case)
        assert await clerk.receive_json_from(timeout=5) == {"type": "counters.changed"}
        assert await outsider.receive_nothing()
        await clerk.disconnect()
        await outsider.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_change_made_through_the_served_api_reaches_the_open_pages(world, item, submit):
    """Requests are handled on threads beside the server's event loop; the counters still reach
    the websockets that loop serves."""
    from onewindow.accounts.services import api_token_create
    from onewindow.config.asgi import application

    case = submit(item)
    token = api_token_create(actor=world.clerk, name="窗口")[1]
    clerk = _connect(world.clerk)
    accept = ApplicationCommunicator(application, {
        "type": "http", "http_version": "1.1", "method": "POST", "scheme": "http", "root_path": "",
        "path": f"/api/cases/{case.pk}/accept", "raw_path": f"/api/cases/{case.pk}/accept".encode(),
        "query_string": b"", "server": ("localhost", 80), "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"localhost"), (b"authorization", f"Bearer {token}".encode()),
                    (b"content-type", b"application/json"), (b"content-length", b"2")],
    })

    async def scenario():
        assert (await clerk.connect())[0]
        await accept.send_input({"type": "http.request", "body": b"{}", "more_body": False})
        started = await accept.receive_output(10)
        assert started["type"] == "http.response.start" and started["status"] == 200
        body, more = b"", True
        while more:
            chunk = await accept.receive_output(10)
            body, more = body + chunk["body"], chunk.get("more_body", False)
        assert json.loads(body)["status"] == "in_review"
        assert await clerk.receive_json_from(timeout=5) == {"type": "counters.changed"}
        await clerk.disconnect()

    async_to_sync(scenario)()
    assert fresh(case).status == CaseStatus.IN_REVIEW


def test_a_request_thread_sends_the_counters_on_the_server_loop(monkeypatch):
    """The in-memory layer's queues belong to the loop of the consumers: a message put there from
    another thread would wait until something else woke that loop, here never."""
    import asyncio
    import threading

    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    server = threading.Thread(target=loop.run_forever, daemon=True)
    server.start()
    try:
        channel = asyncio.run_coroutine_threadsafe(layer.new_channel(), loop).result()
        asyncio.run_coroutine_threadsafe(layer.group_add(live.department_group(7), channel), loop).result()
        received = asyncio.run_coroutine_threadsafe(layer.receive(channel), loop)
        monkeypatch.setattr(live, "_server_loop", None)
        live.serve_from(loop)
        live.case_changed(7)
        assert received.result(timeout=5) == {"type": "counters.changed"}
    finally:
        loop.call_soon_threadsafe(loop.stop)
        server.join()
        loop.close()


@pytest.mark.django_db(transaction=True)
def test_citizens_anonymous_visitors_and_unverified_staff_are_refused(world, make_user):
    unverified = make_user("noverify", kind=AccountKind.STAFF, real_name="未验证")
    RoleAssignment.objects.create(user=unverified, role=Role.WINDOW_CLERK, department=world.market)

    refused = [_connect(user) for user in (None, world.citizen, unverified)]
    # A page of another site cannot open one, even with the clerk's cookie.
    foreign = _connect(world.clerk, origin=b"https://evil.example")
    clerk = _connect(world.clerk)

    async def scenario():
        for socket in [*refused, foreign]:
            connected, _code = await socket.connect()
            assert not connected
        assert (await clerk.connect())[0]
        await clerk.disconnect()

    async_to_sync(scenario)()


def test_the_page_listens_and_falls_back_to_polling(world, client_as):
    page = text(client_as(world.clerk).get(reverse("cases_workbench:home")))
    assert 'data-live-counters data-socket-path="/ws/workbench/cases/"' in page
    assert f'hx-get="{reverse("cases_workbench:counters")}"' in page
    assert 'hx-trigger="cases-counters-changed from:body"' in page
    assert "onewindow/cases-workbench.js" in page
    workbench = text(client_as(world.clerk).get(reverse("core:workbench")))
    assert f'href="{reverse("cases_workbench:home")}"' in workbench
    assert f'href="{reverse("cases_workbench:intake")}"' in workbench


@pytest.mark.django_db
def test_the_counters_are_told_once_per_transaction_and_department(monkeypatch, django_capture_on_commit_callbacks):
    told = []
    monkeypatch.setattr(live, "case_changed", told.append)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            live.case_changed_on_commit(7)
            live.case_changed_on_commit(7)
            try:
                with transaction.atomic():
                    live.case_changed_on_commit(8)
                    raise DomainError("the change in this savepoint is refused")
            except DomainError:
                pass
            live.case_changed_on_commit(9)
            live.case_changed_on_commit(9)
    assert told == [7, 9]
