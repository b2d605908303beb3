"""A smart item (老年人优待证办理) from the online application to its result in one step, in a
real browser: the demo's elderly resident applies, the rules decide at submission, and the case
page shows the approval with the explanation of every rule. Then the department administrator
sees the rules and their examples on the workbench, and a rule naming a field the form does not
have is refused there. Screenshots go to artifacts/e2e/smart-*.png."""

import pytest
from playwright.sync_api import expect

from onewindow.accounts.demo import DEMO_LOGINS, DEMO_PASSWORD
from onewindow.accounts.models import User
from onewindow.cases.choices import CaseStatus, Decision
from onewindow.cases.models import Case
from onewindow.smart import demo as smart_demo
from tests.cases.conftest import make_png
from tests.e2e.browser import artifacts_dir, login_as_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ITEM = smart_demo.ELDERLY_CARD


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / f"smart-{name}.png"), full_page=True)


def post(page, button) -> None:
    with page.expect_navigation():
        button.click()


def test_an_elderly_resident_is_approved_at_once_with_the_rules_explained(
    page, asgi_live_server, demo_data, tmp_path
):
    base = asgi_live_server.url
    item = smart_demo.smart_item(ITEM)
    photo = tmp_path / "证件照.png"
    photo.write_bytes(make_png(7))
    scan = tmp_path / "身份证.png"
    scan.write_bytes(make_png(8))

    login_as_role(page, base, {"username": smart_demo.ELDER, "password": DEMO_PASSWORD})
    page.goto(f"{base}/catalogue/items/{item.impl_code}/")
    page.get_by_role("link", name="在线办理").click()
    post(page, page.get_by_role("button", name="开始申报"))
    expect(page.locator("main h1")).to_have_text(f"填写申请：{ITEM}")
    # Name and ID number come from the verified identity; the rest is two choices and two files.
    expect(page.locator("#f-id_number")).to_have_value(
        User.objects.get(username=smart_demo.ELDER).id_number
    )
    page.get_by_label("本市户籍").check()
    page.get_by_label("仅申领电子证").check()
    page.get_by_label("选择“居民身份证”的文件（可多选）").set_input_files([str(scan)])
    page.get_by_label("选择“近期免冠彩色证件照”的文件（可多选）").set_input_files(
        [str(photo)]
    )
    shot(page, "01-form")
    post(page, page.get_by_role("button", name="提交申请"))
    shot(page, "02-submitted")

    case = Case.objects.get(applicant__username=smart_demo.ELDER, item=item)
    assert (case.status, case.decision, case.decided_by) == (
        CaseStatus.COMPLETED,
        Decision.APPROVED,
        None,
    )
    page.goto(f"{base}/cases/mine/")
    page.get_by_role("link", name=case.number).click()
    facts = page.locator("main")
    expect(facts).to_contain_text("准予")
    expect(facts).to_contain_text(
        "【符合】年满60周岁：老年人优待证发放对象为年满60周岁的老年人"
    )
    expect(facts).to_contain_text("【符合】本市户籍：本市户籍的老年人直接办理")
    expect(facts).to_contain_text(case.result_number)
    shot(page, "03-decided")


def test_the_department_administrator_sees_and_checks_the_rules(
    page, asgi_live_server, demo_data
):
    base = asgi_live_server.url
    item = smart_demo.smart_item(ITEM)
    admin = next(entry for entry in DEMO_LOGINS if entry["username"] == "admin")

    login_as_role(page, base, admin)
    page.goto(f"{base}/workbench/smart/")
    expect(page.locator("main")).to_contain_text(ITEM)
    page.goto(f"{base}/workbench/smart/items/{item.pk}/")
    expect(page.locator("main")).to_contain_text("年满60周岁")
    post(page, page.get_by_role("button", name="修改规则（建立新版本草稿）"))
    expect(page.locator("#example-results")).to_contain_text("✓ 自动准予")
    page.locator("#rules").fill(
        '[{"name": "收入", "condition": {"<": [{"var": "form.income"}, 1]}, "explanation": "x"}]'
    )
    post(page, page.get_by_role("button", name="保存并试算示例"))
    expect(page.locator("#rule-set-error")).to_have_text(
        "规则“收入”：引用了不存在的字段“form.income”。"
    )
    shot(page, "04-refused")
