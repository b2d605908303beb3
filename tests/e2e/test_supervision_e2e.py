"""Electronic supervision in a real browser: a case left untouched turns yellow, then red, as
working days pass (supervision's clock is moved; the warning sweep runs as the worker would);
the supervisor sees it on the board, drills down to the case and its audit trail, issues a
notice (督办); the department's head answers it, and the supervisor sees the answer.
Screenshots of each stage are kept in artifacts/e2e/supervision-*.png."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from onewindow.accounts.demo import DEMO_LOGINS
from onewindow.cases.choices import CaseStatus
from onewindow.cases.models import Case
from onewindow.core import workdays
from onewindow.supervision import clock, services
from onewindow.supervision.colours import Palette
from tests.e2e.browser import DESKTOP, artifacts_dir, login_as_role, off_the_loop

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(username: str) -> dict:
    return next(entry for entry in DEMO_LOGINS if entry["username"] == username)


def shot(page, name: str) -> None:
    page.screenshot(
        path=str(artifacts_dir() / f"supervision-{name}.png"), full_page=True
    )


def first_day(case: Case, colour: str) -> dt.date:
    """The first working day on which the case's signal has this colour."""
    start = timezone.localdate()
    for n in range(60):
        day = workdays.add_working_days(start, n).date
        palette = Palette(day)
        palette.load(item_ids={case.item_id}, region_ids={case.region_id})
        if (
            palette.colour(
                case.promised_due,
                limit_days=case.item.promised_days,
                item_id=case.item_id,
                region_id=case.region_id,
            )
            == colour
        ):
            return day
    raise AssertionError(f"{case.number} never turns {colour}")


def test_an_untouched_case_turns_yellow_then_red_and_is_supervised(
    demo_data, asgi_live_server, browser, monkeypatch
):
    base = asgi_live_server.url
    case = (
        Case.objects.select_related("item")
        .filter(status=CaseStatus.IN_REVIEW)
        .order_by("pk")
        .first()
    )
    errors: list[str] = []

    def person(username: str):
        context = browser.new_context(**DESKTOP)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                errors.append(message.text) if message.type == "error" else None
            ),
        )
        login_as_role(page, base, login(username))
        return page

    def move_to(day: dt.date) -> None:
        """Supervision's clock reads this day (the live server runs in this process), and the
        worker's warning sweep runs."""
        moment = dt.datetime.combine(day, dt.time(10, 0), tzinfo=workdays.SHANGHAI)
        monkeypatch.setattr(clock, "now", lambda: moment)
        off_the_loop(services.warnings_refresh)

    supervisor = person("supervisor")
    move_to(timezone.localdate())
    supervisor.goto(f"{base}/supervision/warnings/")
    expect(supervisor.locator("main h1")).to_have_text("监察看板")
    green = int(supervisor.get_by_test_id("count-green").inner_text())
    assert green >= 1

    move_to(first_day(case, "yellow"))
    supervisor.goto(
        f"{base}/supervision/warnings/departments/{case.department_id}/?kind=case"
    )
    row = supervisor.locator("tr", has_text=case.number)
    expect(row.locator(".sv-light")).to_have_text("黄牌")
    shot(supervisor, "yellow")

    move_to(first_day(case, "red"))
    supervisor.goto(f"{base}/supervision/warnings/")
    expect(supervisor.get_by_test_id("count-red")).not_to_have_text("0")
    red_list = supervisor.get_by_test_id("signal-list").first
    expect(red_list).to_contain_text(case.number)
    expect(red_list.locator("tbody tr").first.locator(".sv-light")).to_have_text("红牌")
    shot(supervisor, "board-red")

    red_list.get_by_role("link", name=case.number).first.click()
    expect(supervisor.locator("main h1")).to_have_text(f"办件 {case.number}")
    expect(supervisor.get_by_test_id("audit-trail")).to_contain_text("cases.accept")
    expect(supervisor.locator("main")).to_contain_text("W02")
    supervisor.get_by_label("督办内容").fill(
        "该件已超过承诺办结时限，请立即办理并书面说明超期原因。"
    )
    with supervisor.expect_navigation():
        supervisor.get_by_role("button", name="发出督办通知").click()
    expect(supervisor.get_by_test_id("notice-status")).to_have_text("待答复")
    notice_url = supervisor.url
    shot(supervisor, "notice")

    head = person("deptadmin")
    head.goto(f"{base}/supervision/notices/")
    head.get_by_role("link", name="DBTZ", exact=False).first.click()
    expect(head.locator("main")).to_contain_text("请立即办理")
    head.get_by_label("整改情况").fill("已于当日办结，并对经办人进行了提醒谈话。")
    with head.expect_navigation():
        head.get_by_role("button", name="答复督办").click()
    expect(head.get_by_test_id("notice-status")).to_have_text("已答复")
    shot(head, "answered")

    supervisor.goto(notice_url)
    expect(supervisor.get_by_test_id("notice-answer")).to_contain_text("已于当日办结")
    expect(supervisor.get_by_role("button", name="办结督办")).to_be_visible()
    assert not errors, errors
