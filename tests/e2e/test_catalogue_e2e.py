"""A service item from the department to the citizen, in a real browser.

A department administrator creates an item from a basic item and writes its guide, a legal
reviewer approves it, the platform administrator publishes it in a batch, and a citizen finds it
by a Chinese search and reads the guide with its flowchart. Screenshots of every stage are kept
in artifacts/e2e/catalogue-*.png.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from onewindow.accounts.demo import DEMO_LOGINS
from onewindow.accounts.models import User
from onewindow.catalogue import services
from onewindow.catalogue.models import ImplementationItem, PublicationBatch
from tests.e2e.browser import DESKTOP, artifacts_dir, login_as_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BASIC_CODE = "XK99902000"
STANDARD = {
    "name": "户外广告设置许可",
    "item_type": "01",
    "legal_basis": "《城市市容和环境卫生管理条例》第十一条",
    "exercise_level": "3",
    "legal_limit": {"amount": 20, "unit": "working_day"},
    "conditions": "设置地点符合本市户外广告设施设置规划。",
    "materials": [{"key": "application", "name": "户外广告设置申请表"}],
}
ITEM_NAME = "遵义市户外广告设置许可"


def login(username: str) -> dict:
    return next(entry for entry in DEMO_LOGINS if entry["username"] == username)


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / f"catalogue-{name}.png"), full_page=True)


@pytest.fixture
def open_page(browser):
    """``open_page()``: a page in a new browser context (another person at another computer),
    whose console errors (CSP violations among them) are collected in ``errors``."""
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
def basic_item(demo_data):
    admin = User.objects.get(username="admin")
    return services.basic_item_create(actor=admin, basic_code=BASIC_CODE, standard=STANDARD)


def test_an_item_goes_from_the_department_through_review_and_a_batch_to_the_citizen(
    page, live_server, basic_item, open_page, console_errors
):
    base = live_server.url

    # 1. The department administrator creates the item from the basic catalogue.
    login_as_role(page, base, login("deptadmin"))
    page.get_by_role("navigation", name="工作台导航").get_by_role("link", name="事项管理").click()
    expect(page.locator("main h1")).to_have_text("事项管理")
    shot(page, "01-items")
    page.get_by_role("link", name="新增事项").click()
    page.get_by_placeholder("按名称或基本编码查找基本目录事项").fill("户外广告")
    page.get_by_role("button", name="查找").click()
    page.get_by_label(re.compile(BASIC_CODE)).check()
    shot(page, "02-create")
    page.get_by_role("button", name="新增并编辑办事指南").click()
    expect(page.locator("main h1")).to_contain_text("编辑办事指南")

    # 2. … writes the guide: name, conditions, one more material, and the change note.
    # The notice for a promised limit not cut by half follows the typing, once the page's
    # deferred script has run (the load event; the heading can show before it, on a busy machine).
    page.wait_for_load_state("load")
    flag = page.locator("[data-compression-flag]")
    expect(flag).to_be_hidden()
    page.locator("#id_promised_limit_amount").fill("15")
    expect(flag).to_be_visible()
    page.locator("#id_promised_limit_amount").fill("10")
    expect(flag).to_be_hidden()
    page.locator("#id_name").fill(ITEM_NAME)
    page.locator("#id_conditions").fill("1. 设置地点符合本市户外广告设施设置规划；\n2. 设施结构安全、牢固。")
    page.get_by_role("button", name="添加材料").click()
    page.locator('[name="materials-1-name"]').fill("场地使用证明")
    page.locator('[name="materials-1-content"]').fill("房屋产权证明或场地租赁合同。")
    page.locator("#id_change_note").fill("新增户外广告设置许可事项。")
    page.get_by_role("button", name="保存").first.click()
    expect(page.locator(".messages")).to_contain_text("已保存")
    # Name, conditions and materials now differ from the basic item's standard: say why.
    for element, reason in (
        ("name", "按本市实施机关名称规范事项名称。"),
        ("conditions", "补充设施安全要求。"),
        ("materials", "增加场地使用证明。"),
    ):
        page.locator(f'[name="difference_{element}"]').fill(reason)
    page.get_by_role("button", name="保存").first.click()
    expect(page.locator(".messages")).to_contain_text("已保存")
    shot(page, "03-editor")

    # 3. … and submits it to legal review.
    page.get_by_role("link", name="查看本版本的变更并提交法制审核").click()
    page.get_by_role("button", name="提交法制审核").click()
    expect(page.locator(".messages")).to_contain_text("已提交法制审核")
    shot(page, "04-submitted")

    # 4. The legal reviewer finds it in the review queue and approves it.
    legal = open_page()
    login_as_role(legal, base, login("legal"))
    legal.goto(f"{base}/workbench/catalogue/")
    queue = legal.locator("section", has=legal.get_by_role("heading", name=re.compile("待法制审核")))
    queue.get_by_role("row", name=re.compile(ITEM_NAME)).get_by_role("link", name="审核").click()
    expect(legal.locator("main h1")).to_have_text(ITEM_NAME)
    shot(legal, "05-review")
    legal.locator("textarea[name=approve-opinion]").fill("设定依据充分，同意。")
    legal.get_by_role("button", name="审核通过").click()
    expect(legal.locator(".messages")).to_contain_text("法制审核已通过")
    shot(legal, "06-approved")

    # 5. The platform administrator opens a June/December batch and schedules the version in it.
    admin = open_page()
    login_as_role(admin, base, login("admin"))
    admin.goto(f"{base}/workbench/catalogue/batches/")
    today = timezone.localdate()
    if today.month in services.BATCH_MONTHS:
        admin.locator("#id_publish_on").fill(today.isoformat())
    admin.get_by_role("button", name="建立批次").click()
    expect(admin.locator(".messages")).to_contain_text("已建立发布批次")
    batch_url = admin.url
    admin.goto(f"{base}/workbench/catalogue/?q=户外广告")
    admin.get_by_role("row", name=re.compile(ITEM_NAME)).get_by_role("link", name="第 1 版").click()
    admin.locator("select[name=schedule-batch]").select_option(index=1)
    admin.get_by_role("button", name="列入发布批次").click()
    expect(admin.locator(".messages")).to_contain_text("已列入发布批次")

    # 6. … and publishes the batch. A batch is due on its date (the sweep that publishes due
    # batches, and the refusal before the date, are tested in tests/catalogue); when today is
    # not in June or December the batch is moved to today directly in the database.
    batch = PublicationBatch.objects.get(kind="regular", status="open")
    if batch.publish_on != today:
        PublicationBatch.objects.filter(pk=batch.pk).update(publish_on=today)
    admin.goto(batch_url)
    expect(admin.get_by_role("row", name=re.compile(ITEM_NAME))).to_be_visible()
    admin.get_by_role("button", name="发布本批次").click()
    expect(admin.locator(".messages")).to_contain_text("已发布")
    shot(admin, "07-batch-published")
    item = ImplementationItem.objects.get(basic_item=basic_item)
    assert item.current_version is not None and item.name == ITEM_NAME

    # 7. A citizen (no sign-in needed) searches the catalogue in Chinese and reads the guide.
    citizen = open_page()
    citizen.goto(f"{base}/catalogue/")
    citizen.locator("input[name=q]").fill("户外广告")
    citizen.locator("input[name=q]").press("Enter")
    result = citizen.get_by_role("link", name=re.compile(ITEM_NAME)).first
    expect(result).to_be_visible()
    shot(citizen, "08-search")
    result.click()
    expect(citizen).to_have_url(re.compile(f"/catalogue/items/{item.impl_code}/"))
    expect(citizen.locator("main h1")).to_contain_text(ITEM_NAME)
    flowchart = citizen.locator(".guide-flowchart svg")
    expect(flowchart).to_be_visible()
    expect(citizen.get_by_text("场地使用证明").first).to_be_visible()
    flowchart.scroll_into_view_if_needed()
    shot(citizen, "09-guide")

    assert console_errors == [] and open_page.errors == []
