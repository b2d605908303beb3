"""一件事 in Chromium: one application for two departments' items, filled in and handed in once,
one acceptance by the lead window, the member departments deciding in parallel, the results
delivered together, and the applicant following it all.

The members are decided through the services: the member departments' own review and decision
screens are the ordinary case workbench, walked in test_cases_e2e.py.
"""

import copy
import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import ChiefRepresentativeAuthorisation, RoleAssignment, User
from onewindow.cases import services as cases
from onewindow.cases.models import Case, JointCase
from onewindow.catalogue import services as catalogue
from onewindow.catalogue.models import ImplementationItem
from onewindow.core.models import Department
from tests.catalogue.conftest import STANDARD, item_content
from tests.e2e.browser import artifacts_dir, login_as_role, off_the_loop
from tests.e2e.test_cases_e2e import login, open_page, photo, post, scan  # noqa: F401  (open_page: fixture)

pytestmark = pytest.mark.e2e

LEAD = "遵义市市场监督管理局"
OTHER = "国家税务总局遵义市税务局"
STEPS = [{"key": "accept", "name": "受理", "kind": "accept", "role": "window_clerk", "limit_days": 1},
         {"key": "review", "name": "审查", "kind": "review", "role": "reviewer", "limit_days": 1},
         {"key": "decide", "name": "决定", "kind": "decide", "role": "approver", "limit_days": 1}]


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / f"joint-{name}.png"), full_page=True)


def _item(department: Department, basic_code: str, name: str, fields: list, materials: list) -> ImplementationItem:
    admin, legal = User.objects.get(username="admin"), User.objects.get(username="legal")
    standard = {**copy.deepcopy(STANDARD), "name": name, "materials": materials}
    basic = catalogue.basic_item_create(actor=admin, basic_code=basic_code, standard=standard)
    content = item_content(name=name, materials=materials, steps=STEPS, form={"fields": fields},
                           promised_limit={"amount": 2, "unit": "working_day", "note": ""})
    version = catalogue.item_create(actor=admin, basic_item=basic, department=department, content=content)
    version = catalogue.version_update(actor=admin, version=version, content=version.content, change_note="演示")
    version = catalogue.version_approve(actor=legal, version=catalogue.version_submit(actor=admin, version=version))
    catalogue.version_publish_urgent(actor=admin, version=version, reason="演示")
    return ImplementationItem.objects.get(pk=version.item_id)


def _deciders(department: Department) -> tuple[User, User]:
    today = dt.date.today()
    reviewer = User.objects.create_user(username=f"rev-{department.pk}", kind=AccountKind.STAFF, real_name="审查员")
    approver = User.objects.create_user(username=f"app-{department.pk}", kind=AccountKind.STAFF, real_name="首席代表")
    RoleAssignment.objects.create(user=reviewer, role=Role.REVIEWER, department=department)
    RoleAssignment.objects.create(user=approver, role=Role.APPROVER, department=department)
    ChiefRepresentativeAuthorisation.objects.create(
        representative=approver, department=department, scope_text="全部事项", all_items=True,
        document_number=f"演授〔2026〕{department.pk}号", signatory="局长", signed_on=today - dt.timedelta(days=9),
        valid_from=today - dt.timedelta(days=9), valid_until=today + dt.timedelta(days=365))
    return reviewer, approver


def _composite() -> dict:
    lead, other = Department.objects.get(name=LEAD), Department.objects.get(name=OTHER)
    identity = {"key": "rep_id", "name": "法定代表人身份证明", "required": True}
    registration = _item(lead, "XK09101000", "企业设立登记（联办演示）", [
        {"key": "company_name", "label": "企业名称", "type": "text", "required": True}],
        [{"key": "charter", "name": "公司章程", "required": True}, identity])
    invoices = _item(other, "XK09102000", "发票领用（联办演示）", [
        {"key": "company_name", "label": "企业名称", "type": "text", "required": True},
        {"key": "invoice_count", "label": "首次领用份数", "type": "number", "required": True}],
        [{**identity, "key": "legal_rep_id"}])
    admin = User.objects.get(username="admin")
    composite = catalogue.composite_save(actor=admin, composite_service=None, code="YJS-E2E", name="开办企业（联办演示）",
                                         lead_department=lead, items=[registration, invoices], joint_limit_days=2)
    catalogue.composite_publish(actor=admin, composite_service=composite)
    return {lead.pk: _deciders(lead), other.pk: _deciders(other)}


def _decide_members(joint_pk: int, deciders: dict) -> None:
    for case in Case.objects.filter(joint_id=joint_pk):
        reviewer, approver = deciders[case.department_id]
        cases.step_claim(actor=reviewer, case=case)
        cases.step_pass(actor=reviewer, case=case, opinion="材料齐全。")
        cases.case_decide(actor=approver, case=case, decision="approved", opinion="准予。")


def test_one_thing_from_one_application_to_every_result_delivered_together(
    page, asgi_live_server, demo_data, open_page, tmp_path, console_errors
):
    base = asgi_live_server.url
    deciders = off_the_loop(_composite)

    # 1. The citizen finds the one thing, starts it, fills in the shared name once and hands in
    # the identity document once for both departments.
    login_as_role(page, base, login("citizen1"))
    page.goto(f"{base}/cases/joint/")
    page.get_by_role("link", name="开办企业（联办演示）").click()
    expect(page.locator("main h1")).to_have_text("开办企业（联办演示）")
    expect(page.locator("main")).to_contain_text("国家税务总局遵义市税务局")
    post(page, page.get_by_role("button", name="开始申请"))
    expect(page.locator(".messages")).to_contain_text("共用的信息只需填写一次")
    page.locator("#f-company_name").fill("遵义黔北新茶科技有限公司")
    page.locator("#f-invoice_count").fill("25")
    page.get_by_label("选择“公司章程”的文件（可多选）").set_input_files(
        [str(scan(tmp_path, "公司章程.pdf", "公司章程", "第一条 公司名称：遵义黔北新茶科技有限公司"))])
    page.get_by_label("选择“法定代表人身份证明”的文件（可多选）").set_input_files(
        [str(photo(tmp_path, "身份证.png", (200, 180, 140)))])
    shot(page, "01-application")
    post(page, page.get_by_role("button", name="提交申请"))
    expect(page.locator(".messages")).to_contain_text("将由牵头部门统一受理")
    expect(page.locator("[data-joint-status]")).to_have_text("待受理")
    expect(page.locator("tr[data-member]")).to_have_count(2)
    joint = JointCase.objects.get(applicant__username="citizen1", composite__code="YJS-E2E")
    assert re.fullmatch(r"YJS-E2E\d{12}", joint.number)

    # 2. The lead department's window accepts both at once from its joint-case queue.
    clerk = open_page()
    login_as_role(clerk, base, login("clerk"))
    clerk.goto(f"{base}/workbench/cases/")
    clerk.get_by_role("link", name="一件事联办").first.click()
    clerk.get_by_role("link", name=joint.number).click()
    post(clerk, clerk.get_by_role("button", name="统一受理全部事项"))
    expect(clerk.locator("[data-joint-status]")).to_have_text("并联办理中")
    expect(clerk.locator("tr[data-member]").filter(has_text="审查中")).to_have_count(2)
    shot(clerk, "02-accepted")

    # 3. Both departments decide (their own workbench); the lead window delivers both results.
    off_the_loop(_decide_members, joint.pk, deciders)
    clerk.reload()
    expect(clerk.locator("[data-joint-status]")).to_have_text("已办结")
    post(clerk, clerk.get_by_role("button", name="统一送达全部结果"))
    expect(clerk.locator("[data-joint-status]")).to_have_text("已送达")
    shot(clerk, "03-delivered")

    # 4. The citizen sees the joint case delivered, and each member with its result.
    page.reload()
    expect(page.locator("[data-joint-status]")).to_have_text("已送达")
    expect(page.locator("tr[data-member]").filter(has_text="已送达")).to_have_count(2)
    shot(page, "04-citizen")
    assert console_errors == []
