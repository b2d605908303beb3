"""Evaluation and the 12345 hotline in a real browser.

A bad review: the applicant of a delivered case rates it 非常不满意 on the portal; the chief
representative who decided it (the rectification's handler) calls the applicant back and records
the fix before the deadline; the supervisor finds the item closed. A complaint: the 12345
operator takes a call and dispatches it to the department, the window clerk answers it, and the
operator records the caller's rating from the call-back. Each person works in a browser context
of their own; staff sign in with the second factor. Screenshots go to artifacts/e2e/feedback-*.png.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from onewindow.accounts.demo import DEMO_LOGINS
from onewindow.cases.models import Case
from onewindow.complaints import demo as complaints_demo
from onewindow.complaints.models import Complaint
from onewindow.evaluation.models import Rectification
from tests.e2e.browser import DESKTOP, artifacts_dir, login_as_role, off_the_loop

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEPARTMENT = "遵义市市场监督管理局"


def login(username: str) -> dict:
    return next(entry for entry in DEMO_LOGINS if entry["username"] == username)


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / f"feedback-{name}.png"), full_page=True)


@pytest.fixture
def open_page(browser):
    contexts = []

    def make():
        context = browser.new_context(**DESKTOP)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def test_a_very_bad_review_is_called_back_fixed_and_seen_closed(
    page, asgi_live_server, demo_data, open_page
):
    base = asgi_live_server.url
    case = Case.objects.get(idempotency_key="demo-food-0006")
    login_as_role(page, base, login(case.applicant.username))
    page.goto(f"{base}/evaluation/cases/{case.pk}/")
    page.get_by_label("非常不满意").check()
    page.get_by_label("办事效率").select_option("5")
    page.fill("textarea[name=comment]", "材料被退回两次，每次说法不一样。")
    with page.expect_navigation():
        page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#current-rating")).to_contain_text("非常不满意")
    shot(page, "rated")
    item = Rectification.objects.get(evaluation__case=case)
    assert item.handler == case.decided_by and item.call_back_required

    handler = open_page()
    login_as_role(handler, base, login(case.decided_by.username))
    handler.goto(f"{base}/evaluation/rectifications/")
    with handler.expect_navigation():
        handler.locator("#rectifications a").first.click()
    expect(handler.locator("#rectification-status")).to_have_text("待回访")
    form = handler.locator("#form-call-back")
    form.locator("select[name=reached]").select_option("1")
    form.locator("textarea[name=note]").fill("已电话联系申请人致歉，了解退回经过。")
    with handler.expect_navigation():
        form.get_by_role("button").click()
    expect(handler.locator("#rectification-status")).to_have_text("待整改")
    fix = handler.locator("#form-fix")
    fix.locator("select[name=outcome]").select_option("fixed")
    fix.locator("textarea[name=result]").fill("统一补正口径，编制一次性告知清单。")
    with handler.expect_navigation():
        fix.get_by_role("button").click()
    expect(handler.locator("#rectification-status")).to_have_text("已整改")
    shot(handler, "fixed")
    item.refresh_from_db()
    assert item.status == "closed" and not item.closed_late

    supervisor = open_page()
    login_as_role(supervisor, base, login("supervisor"))
    supervisor.goto(f"{base}/evaluation/rectifications/?status=closed")
    expect(supervisor.locator("#rectifications .rectification-status")).to_have_text(
        "已整改"
    )
    shot(supervisor, "supervisor")


def test_a_hotline_call_goes_to_the_department_is_answered_and_rated(
    page, asgi_live_server, demo_data, open_page
):
    base = asgi_live_server.url
    # `onewindow demo` opened the city's 12345 centre and its categories: loading again adds nothing.
    assert off_the_loop(complaints_demo.load) == {"centres": 0, "topics": 0, "rules": 0}
    # The platform administrator may work the hotline screen.
    login_as_role(page, base, login("admin"))
    page.goto(f"{base}/complaints/hotline/")
    form = page.locator("#hotline-form")
    form.locator("select[name=kind]").select_option("complaint")
    form.locator("input[name=title]").fill("食品店无证经营")
    form.locator("textarea[name=content]").fill("来电反映中华南路一食品店无证经营。")
    form.locator("input[name=contact_name]").fill("来电市民")
    form.locator("input[name=contact_phone]").fill("13700000000")
    with page.expect_navigation():
        form.get_by_role("button").click()
    expect(page.locator("#complaint-status")).to_have_text("待分派")
    page.locator("#form-dispatch select[name=department]").select_option(
        label=DEPARTMENT
    )
    with page.expect_navigation():
        page.locator("#form-dispatch button").click()
    expect(page.locator("#complaint-department")).to_have_text(DEPARTMENT)
    complaint = Complaint.objects.get()

    clerk = open_page()
    login_as_role(clerk, base, login("clerk"))
    clerk.goto(f"{base}" + reverse("complaints:work"))
    with clerk.expect_navigation():
        clerk.locator("#complaints a", has_text=complaint.number).click()
    clerk.locator("#form-answer textarea[name=answer]").fill(
        "已现场核查，责令停止经营并依法立案。"
    )
    with clerk.expect_navigation():
        clerk.locator("#form-answer button").click()
    expect(clerk.locator("#complaint-status")).to_have_text("已答复")
    shot(clerk, "answered")

    page.goto(f"{base}" + reverse("complaints:work_detail", args=[complaint.pk]))
    page.locator("#form-rate").get_by_label("满意", exact=True).check()
    with page.expect_navigation():
        page.locator("#form-rate button").click()
    expect(page.locator("#complaint-status")).to_have_text("已办结")
    expect(page.locator("#complaint-rating")).to_have_text("满意")
    shot(page, "rated-complaint")
    complaint.refresh_from_db()
    assert (
        complaint.status == "closed"
        and complaint.rating == 2
        and complaint.source == "hotline"
    )
