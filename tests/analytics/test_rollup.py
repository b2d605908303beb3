"""The roll-up counts the cases' timeline once, incrementally; the figures, pages, exports and
API read the roll-up, scoped to the reader."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from onewindow.accounts.services import api_token_create
from onewindow.analytics import selectors, services
from onewindow.analytics.models import MonthlyFigures
from onewindow.cases import services as cases
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.core.models import AuditEntry


@pytest.fixture
def handled(world, delivered_case, filed_case, accepted_case):
    """Two cases delivered at the window, one refused, one withdrawn after acceptance."""
    delivered_case()
    delivered_case()
    cases.case_refuse(
        actor=world.clerk,
        case=filed_case(),
        reasons="设置地点位于禁设区域，不予受理。",
        basis="《办法》第十条",
    )
    cases.case_withdraw(actor=world.citizen, case=accepted_case(), reason="不再需要")


def _month_row(actor):
    table = selectors.metrics(actor, selectors.filters_for(actor), group="month")
    return table.rows[-1], table


def test_the_rollup_counts_each_event_once(people, handled, filed_case):
    assert services.rollup_catch_up() > 0
    row, table = _month_row(people.supervisor)
    assert (
        row.applications,
        row.acceptances,
        row.refusals,
        row.completions,
        row.on_time,
    ) == (4, 3, 1, 2, 2)
    assert (row.online_rate, row.completion_rate, row.on_time_rate) == (1.0, 2 / 3, 1.0)
    assert (row.deliveries, row.p90_days, row.average_days) == (2, 0, 0.0)
    assert len(table.rows) == 12 and table.total.applications == 4
    assert services.rollup_catch_up() == 0  # nothing new
    filed_case()
    services.rollup_catch_up()
    assert _month_row(people.supervisor)[0].applications == 5
    assert MonthlyFigures.objects.count() == 1
    assert AuditEntry.objects.filter(action="analytics.rollup.advance").exists()


def test_figures_are_scoped_to_the_reader(people, world, handled):
    services.rollup_catch_up()
    assert _month_row(people.outsider)[1].total.applications == 0
    with pytest.raises(NotFound):
        selectors.filters_for(people.outsider, region_code=world.city.code)
    with pytest.raises(NotFound):
        selectors.filters_for(people.outsider, department_id=world.market.pk)
    # A department's administrator sees their own department only.
    assert _month_row(world.editor)[1].total.applications == 4
    assert _month_row(world.outsider)[1].total.applications == 0
    with pytest.raises(InvalidInput):
        selectors.filters_for(
            people.supervisor, month_from=timezone.localdate().replace(year=2000, day=1)
        )


def test_grouping_by_department_and_channel(people, world, handled):
    services.rollup_catch_up()
    filters = selectors.filters_for(people.supervisor)
    by_department = selectors.metrics(people.supervisor, filters, group="department")
    assert [(r.label, r.applications) for r in by_department.rows] == [
        (world.market.name, 4)
    ]
    by_channel = selectors.metrics(people.supervisor, filters, group="channel")
    assert [(r.key, r.applications) for r in by_channel.rows] == [("online", 4)]


def test_the_dashboard_draws_its_charts_on_the_server_and_exports(
    client_as, people, handled
):
    services.rollup_catch_up()
    client = client_as(people.supervisor)
    page = client.get(reverse("analytics:dashboard"))
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "cdn" not in html.lower()
    assert 'data-testid="kpi-applications">4<' in html
    screen = client.get(reverse("analytics:screen")).content.decode()
    assert "an-screen" in screen and "<svg" in screen
    csv_body = client.get(
        reverse("analytics:export_csv") + "?group=department"
    ).content.decode("utf-8-sig")
    assert (
        csv_body.splitlines()[0].startswith("分组,申请件数")
        and "遵义市综合行政执法局,4" in csv_body
    )
    xlsx = client.get(reverse("analytics:export_xlsx") + "?group=month")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert (
        sheet.cell(1, 2).value == "申请件数" and sheet.cell(sheet.max_row, 2).value == 4
    )
    assert (
        client.get(reverse("analytics:dashboard") + "?from=2026-13").status_code == 400
    )
    assert (
        client_as(people.outsider)
        .get(reverse("analytics:dashboard") + "?region=520300")
        .status_code
        == 404
    )


def test_open_data_has_counts_and_no_person(client_as, world, handled):
    services.rollup_catch_up()
    body = Client().get(reverse("analytics:open_data")).content.decode("utf-8-sig")
    header, row = body.splitlines()[:2]
    assert header.startswith("month,region_code") and ",4," in row
    assert world.citizen.username not in body and "citizen" not in body


def test_the_api_gives_the_same_figures(people, world, handled):
    services.rollup_catch_up()
    _token, secret = api_token_create(actor=people.supervisor, name="test")
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    body = client.get("/api/analytics/metrics", {"group": "department"}).json()
    assert (
        body["total"]["applications"] == 4
        and body["rows"][0]["label"] == world.market.name
    )
    _token, outsider = api_token_create(actor=people.outsider, name="test")
    far = Client(headers={"Authorization": f"Bearer {outsider}"})
    assert (
        far.get(
            "/api/analytics/metrics", {"department_id": world.market.pk}
        ).status_code
        == 404
    )
    assert Client().get("/api/analytics/metrics").status_code == 401
