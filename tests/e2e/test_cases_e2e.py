"""A food licence (食品经营许可) from the online application to the delivered result, in a real browser.

An enterprise handler applies through the portal (form, several files per material, a draft
saved and resumed on another device), the window clerk asks for supplements with one notice,
the handler supplies them, the clerk accepts, the reviewer passes the review step, the chief
representative approves, the clerk completes and delivers by post, and the handler sees the
result and the documents. Two shorter paths: 容缺 (a material handed in after acceptance) and a
refusal. Each person works in a browser context of their own; staff sign in with the second
factor. Screenshots of every stage are kept in artifacts/e2e/cases-*.png. The README's
screenshots of the workbench and of the case page are taken too, and written to
docs/screenshot-workbench.png and docs/screenshot-case.png when ONEWINDOW_README_SCREENSHOTS=1
(a plain test run leaves the checkout as it was).
"""

import os
import re
import shutil
import struct
import zlib
from pathlib import Path
from urllib.parse import urljoin

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from onewindow.accounts.demo import DEMO_LOGINS
from onewindow.accounts.models import User
from onewindow.cases.models import Case, CaseStep
from onewindow.catalogue.models import ImplementationItem
from onewindow.core import workdays
from onewindow.core.pdf import PdfDocument
from tests.e2e.browser import DESKTOP, artifacts_dir, login_as_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs"
DEPARTMENT = "遵义市市场监督管理局"
ITEM = "食品经营许可"
# The food licence's materials, by the names its guide gives them.
APPLICATION = "食品经营许可申请书"
BUSINESS_LICENCE = "营业执照或者其他主体资格证明文件"
LAYOUT = "与食品经营相适应的主要设备设施、经营布局、操作流程等文件"
RULES = "食品安全自查、从业人员健康管理、进货查验记录、食品安全事故处置等保证食品安全的规章制度目录清单"
MANAGER_ID = "法定代表人（负责人）身份证明"
AUTHORISATION = "授权委托书及经办人身份证明"


def login(username: str) -> dict:
    return next(entry for entry in DEMO_LOGINS if entry["username"] == username)


def shot(page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(artifacts_dir() / f"cases-{name}.png"), full_page=full_page)


def readme_shot(page, name: str, *, full_page: bool = False) -> None:
    """A README screenshot, kept in artifacts/e2e/ and, when asked for, written to docs/."""
    path = artifacts_dir() / f"cases-readme-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("ONEWINDOW_README_SCREENSHOTS") == "1":
        shutil.copyfile(path, DOCS / f"screenshot-{name}.png")


def scan(folder: Path, name: str, title: str, *lines: str) -> Path:
    """A one-page PDF with Chinese text, as a scanner would produce it."""
    document = PdfDocument(title=title)
    document.title(title)
    for line in lines:
        document.paragraph(line)
    path = folder / name
    path.write_bytes(document.build())
    return path


def photo(folder: Path, name: str, colour: tuple[int, int, int]) -> Path:
    """A small valid PNG of one colour (a photographed page, as far as the checks care)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    width = height = 24
    rows = b"".join(b"\x00" + bytes(colour) * width for _row in range(height))
    path = folder / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


@pytest.fixture
def open_page(browser):
    """``open_page()``: a page in a new browser context (another person, or another device),
    whose console errors (CSP violations among them) are collected in ``open_page.errors``."""
    contexts = []
    errors: list[str] = []

    def make():
        context = browser.new_context(**DESKTOP)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    make.errors = errors
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def food_item(demo_data) -> ImplementationItem:
    return ImplementationItem.objects.get(name=ITEM, department__name=DEPARTMENT)


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """The applicant's scanned materials: PDFs and photographed pages."""
    return {
        "application": scan(tmp_path, "食品经营许可申请书.pdf", "食品经营许可申请书", "申请人：遵义黔北茶业有限公司",
                            "经营场所：红花岗区中华南路88号一楼"),
        "licence": scan(tmp_path, "营业执照副本.pdf", "营业执照（副本）", "统一社会信用代码见正本"),
        "layout_plan": photo(tmp_path, "平面布局图.png", (40, 120, 200)),
        "equipment": scan(tmp_path, "设备设施清单.pdf", "主要设备设施清单", "冷藏柜 2 台；消毒柜 1 台；排油烟设施 1 套"),
        "layout_marked": photo(tmp_path, "平面布局图（标注面积）.png", (60, 160, 90)),
        "rules": scan(tmp_path, "食品安全管理制度目录.pdf", "食品安全管理制度目录", "一、从业人员健康管理制度",
                      "二、进货查验记录制度", "三、食品安全事故处置方案"),
        "id_front": photo(tmp_path, "法定代表人身份证（正面）.png", (220, 200, 160)),
        "id_back": photo(tmp_path, "法定代表人身份证（背面）.png", (200, 180, 140)),
        "authorisation": scan(tmp_path, "授权委托书.pdf", "授权委托书", "兹委托赵磊办理食品经营许可申请事宜。"),
    }


# --- the applicant's side -------------------------------------------------------------------------


def start_application(page, base: str, item: ImplementationItem, enterprise: str) -> None:
    """From the guide's "在线办理" to a new draft in the enterprise's name."""
    page.goto(f"{base}/catalogue/items/{item.impl_code}/")
    page.get_by_role("link", name="在线办理").click()
    expect(page.locator("main h1")).to_have_text(f"网上申报：{ITEM}")
    page.get_by_label(f"以“{enterprise}”的名义申请").check()
    with page.expect_navigation():
        page.get_by_role("button", name="开始申报").click()
    expect(page.locator("main h1")).to_have_text(f"填写申请：{ITEM}")
    expect(page.locator(".messages")).to_contain_text("已创建申请草稿")


def fill_form(page, *, premises: str, staff: list[User]) -> None:
    """The application form: address, choices, and one row of the staff table per person."""
    page.locator("#f-premises-region").fill("520302")
    page.locator("#f-premises-detail").fill(premises)
    page.get_by_label("餐饮服务经营者").check()
    page.get_by_label("热食类食品制售").check()
    page.get_by_label("冷食类食品制售").check()
    page.locator("[data-form-field=online]").get_by_label("否").check()
    table = page.locator("[data-form-field=staff]")
    for index, person in enumerate(staff):
        if index >= table.locator("tbody tr").count():
            table.get_by_role("button", name="添加一行").click()
        row = table.locator("tbody tr").nth(index)
        row.get_by_label("姓名").fill(person.real_name)
        row.get_by_label("身份证号码").fill(person.id_number)
        row.get_by_label("联系电话").fill(person.phone)


def choose_files(page, material: str, *paths: Path) -> None:
    page.get_by_label(f"选择“{material}”的文件（可多选）").set_input_files([str(path) for path in paths])


def post(page, button) -> None:
    """Click a button that posts its form, and wait for the page the server answers with."""
    with page.expect_navigation():
        button.click()


def case_number_on(page, item: ImplementationItem) -> str:
    number = page.locator(".case-facts--receipt dd.case-code").first.inner_text().strip()
    assert re.fullmatch(re.escape(item.impl_code) + r"\d{8}\d{4,}", number), number
    return number


def open_my_case(page, base: str, number: str) -> None:
    page.goto(f"{base}/cases/mine/")
    page.get_by_role("link", name=number).click()
    expect(page.locator("main .case-facts").first).to_contain_text(number)


def assert_pdf(page, link) -> None:
    """The link serves a PDF to this signed-in person."""
    response = page.request.get(urljoin(page.url, link.get_attribute("href")))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")


# --- the staff side ---------------------------------------------------------------------------------


def open_from_queue(page, base: str, queue: str, number: str) -> None:
    """Open the case from one of the workbench queues, reached through the queue badges."""
    page.goto(f"{base}/workbench/cases/")
    page.get_by_role("navigation", name="办件队列").get_by_role("link", name=re.compile(queue)).click()
    expect(page.locator("main h1")).to_have_text(queue)
    page.get_by_role("row", name=re.compile(number)).get_by_role("link", name=number).click()
    expect(page.locator("main h1")).to_contain_text(number)


def queue_count(page, queue: str):
    """The counter on a queue's badge."""
    badge = page.get_by_role("navigation", name="办件队列").get_by_role("link", name=re.compile(queue))
    return badge.locator(".cwb-queue__count")


def action(page, name: str):
    """The form of one action on the workbench case page."""
    return page.locator("form.cwb-action", has=page.get_by_role("heading", name=name, exact=True))


def act(page, name: str) -> None:
    """Take one action on the workbench case page: its form's button bears the action's name."""
    post(page, action(page, name).get_by_role("button", name=name, exact=True))


# --- the tests ---------------------------------------------------------------------------------------


def test_a_food_licence_from_the_online_application_to_the_delivered_result(
    page, asgi_live_server, food_item, files, open_page, console_errors
):
    base = asgi_live_server.url
    handler1 = User.objects.get(username="handler1")
    citizen1 = User.objects.get(username="citizen1")

    # 1. The enterprise's handler starts the application from the guide, in the enterprise's name.
    login_as_role(page, base, login("handler1"))
    start_application(page, base, food_item, "遵义黔北茶业有限公司")
    # The operator's name and credit code come from the verified enterprise.
    expect(page.locator("#f-operator_name")).to_have_value("遵义黔北茶业有限公司")
    expect(page.locator("#f-uscc")).not_to_have_value("")

    # … fills in part of the form, attaches the layout (two files, in the form's upload field)
    # and the application, and saves the draft.
    fill_form(page, premises="中华南路88号一楼", staff=[handler1])
    page.locator("#f-layout_file").set_input_files([str(files["layout_plan"]), str(files["equipment"])])
    choose_files(page, APPLICATION, files["application"])
    shot(page, "01-draft")
    post(page, page.get_by_role("button", name="保存草稿").last)
    expect(page.locator(".messages")).to_contain_text("材料已添加，草稿已保存。")
    layout = page.locator("#case-material-layout")
    expect(layout.get_by_role("link", name="平面布局图.png")).to_be_visible()
    expect(layout.get_by_role("link", name="设备设施清单.pdf")).to_be_visible()

    # 2. On another device the handler finds the draft under 我的办件 and carries on: what was
    # typed and uploaded is there.
    applicant = open_page()
    login_as_role(applicant, base, login("handler1"))
    applicant.goto(f"{base}/cases/mine/")
    drafts = applicant.locator("section", has=applicant.get_by_role("heading", name="未提交的申请"))
    drafts.get_by_role("link", name=re.compile("继续填写")).click()
    expect(applicant.locator("main h1")).to_have_text(f"填写申请：{ITEM}")
    expect(applicant.locator("#f-premises-detail")).to_have_value("中华南路88号一楼")
    expect(applicant.get_by_label("餐饮服务经营者")).to_be_checked()
    expect(applicant.locator("#f-staff-0-name")).to_have_value(handler1.real_name)
    expect(applicant.locator("#case-material-application").get_by_role("link", name="食品经营许可申请书.pdf")) \
        .to_be_visible()

    # … adds a second food safety manager (a row added in the browser) and the other
    # materials, several files for the ID card, and submits.
    fill_form(applicant, premises="中华南路88号一楼", staff=[handler1, citizen1])
    choose_files(applicant, BUSINESS_LICENCE, files["licence"])
    choose_files(applicant, RULES, files["rules"])
    choose_files(applicant, MANAGER_ID, files["id_front"], files["id_back"])
    post(applicant, applicant.get_by_role("button", name="提交申请"))

    # 3. The receipt: the case number, the query code and the 收件回执.
    expect(applicant.locator("main h1")).to_have_text("申请已提交")
    number = case_number_on(applicant, food_item)
    expect(applicant.locator(".case-facts--receipt")).to_contain_text("遵义市市场监督管理局")
    assert_pdf(applicant, applicant.get_by_role("link", name="下载收件回执（PDF）"))
    shot(applicant, "02-receipt")

    # 4. The window clerk finds it in the acceptance queue and, with one notice, asks for
    # everything missing: the authorisation and a layout plan with the areas marked.
    clerk = open_page()
    login_as_role(clerk, base, login("clerk"))
    open_from_queue(clerk, base, "待受理", number)
    expect(clerk.locator(".cwb-status-line")).to_contain_text("待受理")
    materials = clerk.locator("section", has=clerk.get_by_role("heading", name="申请材料"))
    for name in ("平面布局图.png", "设备设施清单.pdf", "法定代表人身份证（正面）.png", "法定代表人身份证（背面）.png"):
        expect(materials.get_by_role("link", name=name)).to_be_visible()
    # A photographed page can be looked at on the page itself.
    preview = materials.locator("details", has=clerk.get_by_alt_text(re.compile("平面布局图.png")))
    preview.locator("summary").click()
    image = preview.get_by_role("img")
    expect(image).to_be_visible()
    clerk.wait_for_function("img => img.complete && img.naturalWidth === 24", arg=image.element_handle())
    # … and a PDF in the browser's viewer, in a frame.
    pdf_preview = materials.locator("details", has=clerk.locator("iframe[title$='设备设施清单.pdf']"))
    with clerk.expect_response(re.compile(r"/materials/\d+/preview/$")) as shown:
        pdf_preview.locator("summary").click()
    assert shown.value.status == 200 and shown.value.headers["content-type"] == "application/pdf"
    staff_table = clerk.locator("section", has=clerk.get_by_role("heading", name="申请表")).get_by_role("table")
    expect(staff_table).to_contain_text(citizen1.real_name)
    notice = action(clerk, "一次性告知补正")
    notice.get_by_role("checkbox", name=AUTHORISATION).check()
    notice.get_by_label(f"“{AUTHORISATION}”的补正要求").fill("由经办人代为办理的，须提交法定代表人签字的授权委托书。")
    notice.get_by_role("checkbox", name=LAYOUT).check()
    notice.get_by_label(f"“{LAYOUT}”的补正要求").fill("平面布局图未标明各功能区面积，请标注后重新上传。")
    notice.get_by_label("其他事项 1").fill("申请书须写明经营场所的使用面积。")
    shot(clerk, "03-supplement-notice")
    act(clerk, "一次性告知补正")
    expect(clerk.locator(".messages")).to_contain_text("已一次性告知需要补正的全部内容。")
    expect(clerk.locator(".cwb-status-line")).to_contain_text("待补正")

    # The clerk keeps the workbench open: its queue counters follow the department's cases live.
    clerk.goto(f"{base}/workbench/cases/")
    waiting = queue_count(clerk, "待受理")
    before = int(waiting.inner_text())

    # 5. The handler sees the notice on the case page, hands in what it lists and submits.
    open_my_case(applicant, base, number)
    expect(applicant.locator(".case-status")).to_have_text("待补正")
    told = applicant.locator(".case-notice")
    expect(told).to_contain_text("授权委托书")
    expect(told).to_contain_text("平面布局图未标明各功能区面积")
    expect(told).to_contain_text("经营场所的使用面积")
    choose_files(applicant, AUTHORISATION, files["authorisation"])
    choose_files(applicant, LAYOUT, files["layout_marked"])
    shot(applicant, "04-supply")
    post(applicant, applicant.get_by_role("button", name="提交补正材料"))
    expect(applicant.locator(".messages")).to_contain_text("补正材料已提交")
    expect(applicant.locator(".case-status")).to_have_text("待受理")
    expect(applicant.locator("section", has=applicant.get_by_role("heading", name="补正告知记录"))) \
        .to_contain_text("已补正")

    # 6. The clerk's acceptance counter went up without reloading the page; the case is back in
    # the queue, and the clerk accepts it: the 受理通知书 is issued.
    expect(waiting).to_have_text(str(before + 1))
    open_from_queue(clerk, base, "待受理", number)
    expect(materials.get_by_role("link", name="授权委托书.pdf")).to_be_visible()
    expect(materials.get_by_role("link", name="平面布局图（标注面积）.png")).to_be_visible()
    act(clerk, "受理")
    expect(clerk.locator(".messages")).to_contain_text("已受理，承诺办结日期为")
    expect(clerk.locator(".cwb-status-line")).to_contain_text("审查中")
    clerk_documents = clerk.locator("section", has=clerk.get_by_role("heading", name="文书"))
    assert_pdf(clerk, clerk_documents.get_by_role("link", name="受理通知书"))
    shot(clerk, "05-accepted")

    # 7. The reviewer claims the review step from the pool and passes it with an opinion.
    reviewer = open_page()
    login_as_role(reviewer, base, login("reviewer"))
    reviewer.goto(f"{base}/workbench/cases/queues/steps/")
    row = reviewer.get_by_role("row", name=re.compile(number))
    expect(row).to_contain_text("审查")
    expect(row).to_contain_text("待认领")
    post(reviewer, row.get_by_role("button", name="认领"))
    expect(reviewer.locator(".messages")).to_contain_text("已认领“审查”环节。")
    action(reviewer, "通过本环节").get_by_label("审查意见").fill("材料齐全，经营场所布局符合要求，建议准予许可。")
    act(reviewer, "通过本环节")
    expect(reviewer.locator(".messages")).to_contain_text("本环节已通过，转入“决定”。")

    # 8. The chief representative takes the decision step and approves.
    approver = open_page()
    login_as_role(approver, base, login("approver"))
    open_from_queue(approver, base, "待办环节", number)
    act(approver, "认领环节")
    expect(approver.locator(".messages")).to_contain_text("已认领“决定”环节。")
    decide = action(approver, "作出决定")
    decide.get_by_label("准予许可", exact=True).check()
    decide.get_by_label("准予许可的决定意见").fill("符合《中华人民共和国食品安全法》第三十五条规定，准予许可。")
    shot(approver, "06-decide")
    act(approver, "作出决定")
    expect(approver.locator(".messages")).to_contain_text("已作出决定：准予许可。")
    expect(approver.locator(".cwb-status-line")).to_contain_text("已决定")

    # 9. The clerk completes the case and sends the result by post with a tracking number.
    open_from_queue(clerk, base, "待办结送达", number)
    act(clerk, "办结")
    expect(clerk.locator(".messages")).to_contain_text("已办结")
    deliver = action(clerk, "送达")
    deliver.get_by_label("快递送达").check()
    deliver.get_by_label("送达地址").fill("贵州省遵义市红花岗区中华南路88号")
    deliver.get_by_label("收件人").fill(handler1.real_name)
    deliver.get_by_label("物流公司").fill("中国邮政EMS")
    deliver.get_by_label("物流单号").fill("EA123456789CN")
    act(clerk, "送达")
    expect(clerk.locator(".messages")).to_contain_text("已送达（快递送达）。")
    expect(clerk.locator(".cwb-status-line")).to_contain_text("已送达")
    shot(clerk, "07-delivered")

    # 10. The handler sees the result, how it was sent, the documents and the whole timeline.
    open_my_case(applicant, base, number)
    expect(applicant.locator(".case-status").first).to_have_text("已送达")
    result = applicant.locator("section", has=applicant.get_by_role("heading", name="办理结果"))
    expect(result).to_contain_text("准予许可")
    expect(result).to_contain_text("第三十五条")
    expect(result).to_contain_text("EA123456789CN")
    documents = applicant.locator("section", has=applicant.get_by_role("heading", name="文书"))
    for kind in ("收件回执", "补正告知书", "受理通知书", "准予许可决定书"):
        expect(documents.get_by_role("link", name=f"{kind}（PDF）")).to_be_visible()
    assert_pdf(applicant, documents.get_by_role("link", name="准予许可决定书（PDF）"))
    timeline = applicant.locator(".case-timeline")
    for label in ("提交申请", "一次性告知补正", "提交补正材料", "受理", "作出决定", "办结", "送达"):
        expect(timeline.get_by_text(label, exact=True)).to_be_visible()
    shot(applicant, "08-result")

    assert console_errors == [] and open_page.errors == []


def test_a_deferrable_material_is_handed_in_after_acceptance(page, asgi_live_server, food_item, files, open_page,
                                                             console_errors):
    """容缺受理: the handler applies without the rules list, signing the commitment; the clerk
    accepts with a supply deadline; the handler hands the list in from the case page."""
    base = asgi_live_server.url
    handler2 = User.objects.get(username="handler2")

    login_as_role(page, base, login("handler2"))
    start_application(page, base, food_item, "遵义湘江建材商贸有限公司")
    fill_form(page, premises="凤凰路22号", staff=[handler2])
    page.locator("#f-layout_file").set_input_files([str(files["layout_plan"])])
    choose_files(page, APPLICATION, files["application"])
    choose_files(page, BUSINESS_LICENCE, files["licence"])
    choose_files(page, MANAGER_ID, files["id_front"])
    # Asking for 容缺 brings up the commitment to sign.
    commitment = page.get_by_role("region", name="容缺受理承诺")
    expect(commitment).to_be_hidden()
    page.locator("#case-material-rules").get_by_label("申请容缺：先受理，受理后在期限内补交").check()
    expect(commitment).to_be_visible()
    commitment.get_by_label("我已阅读并签署以上承诺").check()
    shot(page, "11-deferral-commitment")
    post(page, page.get_by_role("button", name="提交申请"))
    expect(page.locator("main h1")).to_have_text("申请已提交")
    number = case_number_on(page, food_item)

    # The clerk sees the request and the commitment, and accepts with a supply deadline.
    clerk = open_page()
    login_as_role(clerk, base, login("clerk"))
    open_from_queue(clerk, base, "待受理", number)
    accept = action(clerk, "受理")
    expect(accept).to_contain_text("申请人申请对以下材料容缺受理")
    expect(accept).to_contain_text(RULES)
    case = Case.objects.get(number=number)
    supply_by = workdays.add_working_days(timezone.localdate(), 2, region=case.region).date
    accept.get_by_label("容缺材料补交期限").fill(supply_by.isoformat())
    shot(clerk, "12-deferral-accept")
    act(clerk, "受理")
    expect(clerk.locator(".messages")).to_contain_text("已受理")
    clerk_documents = clerk.locator("section", has=clerk.get_by_role("heading", name="文书"))
    assert_pdf(clerk, clerk_documents.get_by_role("link", name="容缺受理通知书"))
    expect(clerk.locator("section", has=clerk.get_by_role("heading", name="申请材料"))) \
        .to_contain_text(f"容缺受理，须于 {supply_by.isoformat()} 前补交。")

    # The handler sees the deadline and the 容缺受理通知书, and hands the list in.
    open_my_case(page, base, number)
    deferred = page.get_by_role("region", name="容缺材料")
    expect(deferred).to_contain_text(f"须在 {supply_by.isoformat()} 前补交，逾期将终止办理")
    documents = page.locator("section", has=page.get_by_role("heading", name="文书"))
    assert_pdf(page, documents.get_by_role("link", name="容缺受理通知书（PDF）"))
    choose_files(page, RULES, files["rules"])
    shot(page, "13-deferral-supply")
    post(page, deferred.get_by_role("button", name="上传"))
    expect(page.locator(".messages")).to_contain_text("材料已提交。")
    supplied = timezone.localdate(case.deferred_materials.get().supplied_at).isoformat()
    expect(page.get_by_role("region", name="容缺材料")).to_contain_text(f"已于 {supplied} 补交")
    expect(page.locator("#case-material-rules").get_by_role("link", name="食品安全管理制度目录.pdf")).to_be_visible()

    # … which the clerk now sees as handed in.
    clerk.reload()
    expect(clerk.locator("section", has=clerk.get_by_role("heading", name="申请材料"))) \
        .to_contain_text(f"容缺受理，已于 {supplied} 补交。")

    assert console_errors == [] and open_page.errors == []


def test_the_window_refuses_an_application_with_reasons_and_legal_basis(page, asgi_live_server, food_item, files,
                                                                         open_page, console_errors):
    base = asgi_live_server.url
    handler1 = User.objects.get(username="handler1")

    login_as_role(page, base, login("handler1"))
    start_application(page, base, food_item, "遵义黔北茶业有限公司")
    fill_form(page, premises="中华南路92号", staff=[handler1])
    page.locator("#f-layout_file").set_input_files([str(files["layout_plan"])])
    for material, key in ((APPLICATION, "application"), (BUSINESS_LICENCE, "licence"), (RULES, "rules"),
                          (MANAGER_ID, "id_front")):
        choose_files(page, material, files[key])
    post(page, page.get_by_role("button", name="提交申请"))
    number = case_number_on(page, food_item)

    clerk = open_page()
    login_as_role(clerk, base, login("clerk"))
    open_from_queue(clerk, base, "待受理", number)
    refuse = action(clerk, "不予受理")
    refuse.get_by_label("不予受理理由").fill("申请的经营场所位于住宅楼内，依法不属于可以从事餐饮服务的场所。")
    refuse.get_by_label("法律依据").fill("《中华人民共和国行政许可法》第三十二条第一款第（二）项")
    act(clerk, "不予受理")
    expect(clerk.locator(".messages")).to_contain_text("已作出不予受理决定。")
    expect(clerk.locator(".cwb-status-line")).to_contain_text("不予受理")

    open_my_case(page, base, number)
    expect(page.locator(".case-status").first).to_have_text("不予受理")
    result = page.locator("section", has=page.get_by_role("heading", name="办理结果"))
    expect(result).to_contain_text("不予受理")
    expect(result).to_contain_text("经营场所位于住宅楼内")
    expect(result).to_contain_text("第三十二条第一款")
    documents = page.locator("section", has=page.get_by_role("heading", name="文书"))
    assert_pdf(page, documents.get_by_role("link", name="不予受理决定书（PDF）"))
    shot(page, "21-refused")

    assert console_errors == [] and open_page.errors == []


def test_readme_screenshots_of_the_workbench_and_the_case_page(page, asgi_live_server, demo_data, open_page,
                                                               console_errors):
    """The README's screenshots: the reviewer's queue of review steps, coloured by deadline
    (1280×800), and an applicant's delivered case with its documents and timeline."""
    base = asgi_live_server.url
    demo = {case.idempotency_key: case for case in Case.objects.filter(idempotency_key__startswith="demo-food-")}

    # The window accepts the demo application still waiting: its review step opens.
    login_as_role(page, base, login("clerk"))
    page.goto(f"{base}/workbench/cases/{demo['demo-food-0001'].pk}/")
    act(page, "受理")
    expect(page.locator(".messages")).to_contain_text("已受理")

    # The demo's other two review steps as they stand some days on: one overdue, one due on
    # the next working day.
    today = timezone.localdate()
    region = demo["demo-food-0003"].region
    CaseStep.objects.filter(case=demo["demo-food-0003"], status="waiting").update(
        due=workdays.add_working_days(today, -2, region=region).date)
    CaseStep.objects.filter(case=demo["demo-food-0005"], status="waiting").update(
        due=workdays.add_working_days(today, 1, region=region).date)

    # The reviewer claims the one due next and looks at the queue: overdue first, in red.
    reviewer = open_page()
    login_as_role(reviewer, base, login("reviewer"))
    reviewer.goto(f"{base}/workbench/cases/queues/steps/")
    post(reviewer, reviewer.get_by_role("row", name=re.compile(demo["demo-food-0005"].number))
         .get_by_role("button", name="认领"))
    expect(reviewer.locator(".messages")).to_contain_text("已认领")
    reviewer.goto(f"{base}/workbench/cases/queues/steps/")
    rows = reviewer.locator("tbody tr")
    expect(rows).to_have_count(3)
    for index, (key, urgency) in enumerate((("0003", "已超期"), ("0005", "临近期限"), ("0001", "正常"))):
        expect(rows.nth(index).locator(".cwb-number")).to_have_text(demo[f"demo-food-{key}"].number)
        expect(rows.nth(index).locator(".cwb-urgency")).to_have_text(urgency)
    # The table fits the page: the deadline columns are in sight without scrolling sideways.
    assert reviewer.evaluate("document.querySelector('.cwb-table-wrap').scrollWidth"
                             " <= document.querySelector('.cwb-table-wrap').clientWidth")
    readme_shot(reviewer, "workbench")
    reviewer.get_by_role("link", name=demo["demo-food-0005"].number).click()
    expect(reviewer.locator("main h1")).to_contain_text(demo["demo-food-0005"].number)
    expect(reviewer.locator(".cwb-facts").first).to_contain_text("临近期限")
    shot(reviewer, "31-workbench-case", full_page=False)

    # The applicant's delivered case: the result, the documents and the timeline.
    applicant = open_page()
    login_as_role(applicant, base, login("handler2"))
    open_my_case(applicant, base, demo["demo-food-0006"].number)
    expect(applicant.locator(".case-status").first).to_have_text("已送达")
    documents = applicant.locator("section", has=applicant.get_by_role("heading", name="文书"))
    expect(documents.get_by_role("link", name="准予许可决定书（PDF）")).to_be_visible()
    expect(applicant.locator(".case-timeline")).to_contain_text("送达")
    readme_shot(applicant, "case", full_page=True)

    assert console_errors == [] and open_page.errors == []
