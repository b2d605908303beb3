"""Satisfaction (好差评) in the roll-up: ratings given, changed, rectified and voided on appeal move
the figures as the evaluation rules say, read incrementally from the audit ledger; the figures
are scoped to the reader and reach the dashboard, the exports and the API."""

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from onewindow.accounts.services import api_token_create
from onewindow.analytics import selectors, services
from onewindow.analytics.models import DailyFigures, MonthlyFigures
from onewindow.core.errors import NotFound
from onewindow.core.models import AuditEntry
from onewindow.evaluation import services as evaluation
from onewindow.evaluation.choices import Level
from onewindow.evaluation.models import Rectification
from tests.evaluation.conftest import visit  # noqa: F401


def _rate(world, case, level, comment=""):
    return evaluation.evaluation_rate_case(
        actor=world.citizen, case=case, level=level, comment=comment
    )


def _total(actor, **filters):
    services.rollup_catch_up()
    chosen = selectors.filters_for(actor, **filters)
    return selectors.metrics(actor, chosen, group="month").total


def _levels(row):
    return (row.ratings, row.good_ratings, row.bad_ratings)


def test_ratings_are_counted_once_by_level(people, world, delivered_case):
    _rate(world, delivered_case(), Level.VERY_SATISFIED)
    _rate(world, delivered_case(), Level.BASIC)
    _rate(
        world, delivered_case(), Level.VERY_DISSATISFIED, comment="窗口让我多跑了一次"
    )
    total = _total(people.supervisor)
    assert _levels(total) == (3, 2, 1)
    assert total.satisfaction_rate == 2 / 3
    assert total.average_score == (5 + 3 + 1) / 3
    assert services.rollup_catch_up() == 0  # nothing new: nothing counted again
    assert _levels(_total(people.supervisor)) == (3, 2, 1)
    monthly = MonthlyFigures.objects.get()
    assert (monthly.rated_very_satisfied, monthly.rated_basic) == (1, 1)
    assert (
        monthly.rated_very_dissatisfied
        == DailyFigures.objects.get().rated_very_dissatisfied
        == 1
    )
    assert AuditEntry.objects.filter(action="analytics.rollup.ratings").count() == 1


def test_a_young_ledger_entry_waits_for_late_commits(
    people, world, delivered_case, monkeypatch
):
    _rate(world, delivered_case(), Level.SATISFIED)
    monkeypatch.setattr(services, "FEED_SETTLE", dt.timedelta(hours=1))
    assert _total(people.supervisor).ratings == 0
    monkeypatch.setattr(services, "FEED_SETTLE", dt.timedelta(0))
    assert _total(people.supervisor).ratings == 1


def test_no_rating_leaves_the_satisfaction_empty(people, delivered_case):
    delivered_case()
    total = _total(people.supervisor)
    assert _levels(total) == (0, 0, 0)
    assert total.satisfaction_rate is None and total.average_score is None


def test_a_rectified_rating_stays_a_changed_one_moves_and_an_upheld_appeal_removes_it(
    people, world, delivered_case
):
    first = _rate(world, delivered_case(), Level.DISSATISFIED, comment="审查太慢")
    assert _levels(_total(people.supervisor)) == (1, 0, 1)
    # Fixing the bad review does not change the rating the applicant gave.
    item = Rectification.objects.get(evaluation=first)
    evaluation.rectification_fix(
        actor=item.handler, rectification=item, outcome="fixed", result="调整审查分工"
    )
    assert _levels(_total(people.supervisor)) == (1, 0, 1)
    # The applicant changes it within the change window: it moves to its new level.
    evaluation.evaluation_change(
        actor=world.citizen, evaluation=first, level=Level.SATISFIED
    )
    total = _total(people.supervisor)
    assert _levels(total) == (1, 1, 0) and total.average_score == 4
    # A bad review the supervisor finds mistaken on appeal leaves the figures.
    second = _rate(world, delivered_case(), Level.VERY_DISSATISFIED, comment="评错了")
    assert _levels(_total(people.supervisor)) == (2, 1, 1)
    appealed = Rectification.objects.get(evaluation=second)
    evaluation.rectification_appeal(
        actor=people.head,
        rectification=appealed,
        kind="mistaken",
        reason="评价人评错了事项",
    )
    evaluation.rectification_decide_appeal(
        actor=people.supervisor,
        rectification=appealed,
        upheld=True,
        opinion="经核实为误评",
    )
    total = _total(people.supervisor)
    assert _levels(total) == (1, 1, 0) and total.satisfaction_rate == 1.0


def test_a_change_and_a_voiding_read_in_one_batch_with_the_rating(
    people, world, delivered_case
):
    rated = _rate(world, delivered_case(), Level.BASIC)
    evaluation.evaluation_change(
        actor=world.citizen,
        evaluation=rated,
        level=Level.VERY_DISSATISFIED,
        comment="后来发现证照有误",
    )
    appealed = Rectification.objects.get(evaluation=rated)
    evaluation.rectification_appeal(
        actor=people.head, rectification=appealed, kind="malicious", reason="与办理无关"
    )
    evaluation.rectification_decide_appeal(
        actor=people.supervisor,
        rectification=appealed,
        upheld=True,
        opinion="恶意差评属实",
    )
    assert _levels(_total(people.supervisor)) == (0, 0, 0)
    assert MonthlyFigures.objects.get().rated_very_dissatisfied == 0


def test_a_visit_to_a_window_counts_under_the_window_channel(people, world, visit):  # noqa: F811
    ticket = visit()
    evaluation.evaluation_rate_visit(
        actor=None,
        ticket=ticket,
        level=Level.SATISFIED,
        token=evaluation.visit_token(ticket),
    )
    services.rollup_catch_up()
    filters = selectors.filters_for(people.supervisor)
    by_channel = selectors.metrics(people.supervisor, filters, group="channel")
    assert [(row.key, row.ratings) for row in by_channel.rows] == [("window", 1)]


def test_the_figures_are_scoped_by_region(people, world, delivered_case):
    _rate(world, delivered_case(), Level.SATISFIED)
    assert _total(people.supervisor).ratings == 1
    assert _total(people.province_supervisor).ratings == 1
    assert _total(people.supervisor, region_code=world.city.code).ratings == 1
    # The market department is a city department: none of its ratings are the district's.
    assert _total(people.supervisor, region_code=world.county.code).ratings == 0
    assert _total(people.outsider).ratings == 0
    with pytest.raises(NotFound):
        _total(people.outsider, region_code=world.city.code)
    assert _total(world.editor).ratings == 1  # the market department's administrator
    assert _total(world.outsider).ratings == 0  # another department's administrator


def test_the_dashboard_exports_and_api_show_the_satisfaction(
    client_as, people, world, delivered_case
):
    _rate(world, delivered_case(), Level.VERY_SATISFIED)
    _rate(world, delivered_case(), Level.DISSATISFIED, comment="材料退回两次")
    services.rollup_catch_up()
    client = client_as(people.supervisor)
    html = client.get(reverse("analytics:dashboard")).content.decode()
    assert (
        'data-testid="kpi-satisfaction">50.0%<' in html and "满意率（好差评）" in html
    )
    screen = client.get(reverse("analytics:screen")).content.decode()
    assert 'data-testid="screen-satisfaction">50.0%<' in screen
    csv_body = client.get(reverse("analytics:export_csv") + "?group=department").content
    header, row = csv_body.decode("utf-8-sig").splitlines()[:2]
    assert header.endswith("评价数,好评数,差评数,平均分(5分制),满意率(%)")
    assert row.endswith(",2,1,1,3.50,50.0")
    xlsx = client.get(reverse("analytics:export_xlsx") + "?group=month")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(1, sheet.max_column).value == "满意率(%)"
    assert sheet.cell(sheet.max_row, sheet.max_column).value == "50.0"
    open_data = Client().get(reverse("analytics:open_data")).content.decode("utf-8-sig")
    header, row = open_data.splitlines()[:2]
    assert header.endswith(
        "rated_very_satisfied,rated_satisfied,rated_basic,rated_dissatisfied,rated_very_dissatisfied"
    )
    assert row.endswith(",1,0,0,1,0")
    _token, secret = api_token_create(actor=people.supervisor, name="test")
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    total = api.get(reverse("api:metrics")).json()["total"]
    assert (total["ratings"], total["good_ratings"], total["bad_ratings"]) == (2, 1, 1)
    assert (total["average_score"], total["satisfaction_rate"]) == (3.5, 0.5)
    schema = Client().get(reverse("api:openapi-json")).json()["components"]["schemas"]
    assert {"satisfaction_rate", "average_score"} <= set(
        schema["MetricOut"]["properties"]
    )
