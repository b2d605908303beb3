"""What intake and the public lookup read: categories and routing rules come from the process's
snapshot, which follows every change made through the services at once and a change made by
another process once its check is due; the lookup is one statement and refuses an address
after ten wrong pairs."""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onewindow.complaints import reference, services
from onewindow.complaints.models import Complaint, RoutingRule

REFERENCE_TABLES = ("complaints_routingrule", "complaints_topic", "complaints_hotlinecentre")


def hotline_call(hotline, world, **fields):
    return services.complaint_submit(
        actor=hotline.operator,
        source="hotline",
        kind="complaint",
        title="广告牌松动",
        content="路口广告牌摇晃",
        contact_phone="13900000000",
        region=world.county,
        **fields,
    )


def reads_of_reference(queries) -> list[str]:
    return [q["sql"] for q in queries if any(t in q["sql"] for t in REFERENCE_TABLES)]


@pytest.mark.django_db(transaction=True)
def test_intake_reads_the_reference_data_once_per_process(hotline, world):
    services.routing_rule_save(
        actor=hotline.operator, department=world.market, keyword="广告牌"
    )
    assert hotline_call(hotline, world).department == world.market
    with CaptureQueriesContext(connection) as second:
        routed = hotline_call(hotline, world, topic=hotline.noise)
    assert routed.department == world.market
    assert reads_of_reference(second.captured_queries) == []
    # An operator's call is not limited, so it is not looked up before it is written.
    assert not any(
        "complaints_complaint" in q["sql"] and q["sql"].lstrip().startswith("SELECT")
        for q in second.captured_queries
    )


@pytest.mark.django_db(transaction=True)
def test_a_change_through_the_services_routes_the_next_call(hotline, world):
    rule = services.routing_rule_save(
        actor=hotline.operator, department=world.market, keyword="广告牌"
    )
    assert hotline_call(hotline, world).department == world.market
    services.routing_rule_save(
        actor=hotline.operator, rule=rule, department=world.district, keyword="广告牌"
    )
    assert hotline_call(hotline, world).department == world.district
    services.routing_rule_save(
        actor=hotline.operator,
        rule=rule,
        department=world.district,
        keyword="广告牌",
        is_active=False,
    )
    assert hotline_call(hotline, world).department is None


@pytest.mark.django_db(transaction=True)
def test_a_change_by_another_process_is_seen_when_the_check_is_due(hotline, world):
    rule = services.routing_rule_save(
        actor=hotline.operator, department=world.market, keyword="广告牌"
    )
    assert hotline_call(hotline, world).department == world.market
    # Another process's change: no signal reaches this one.
    RoutingRule.objects.filter(pk=rule.pk).update(
        department=world.district, updated_at=timezone.now()
    )
    assert hotline_call(hotline, world).department == world.market
    cache.delete(reference.CHECK_KEY)  # CHECK_SECONDS have passed
    assert hotline_call(hotline, world).department == world.district


@pytest.mark.django_db(transaction=True)
def test_an_uncommitted_rule_is_seen_only_by_its_own_transaction(hotline, world):
    assert hotline_call(hotline, world).department is None
    with pytest.raises(RuntimeError), transaction.atomic():
        services.routing_rule_save(
            actor=hotline.operator, department=world.market, keyword="广告牌"
        )
        assert hotline_call(hotline, world).department == world.market
        raise RuntimeError("rolled back")
    assert hotline_call(hotline, world).department is None


@pytest.mark.django_db
def test_an_operator_retry_returns_the_first_call(hotline, world):
    first = hotline_call(hotline, world, idempotency_key="call-1")
    assert hotline_call(hotline, world, idempotency_key="call-1") == first
    assert Complaint.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_number_is_taken_in_a_transaction_of_its_own(hotline, world):
    # As in a request, no transaction is open: the counter row is locked for its one statement,
    # not for the whole intake. So a retry, whose write is refused, has spent a number.
    first = hotline_call(hotline, world, idempotency_key="call-1")
    assert hotline_call(hotline, world, idempotency_key="call-1") == first
    following = hotline_call(hotline, world)
    assert int(following.number[-6:]) == int(first.number[-6:]) + 2
    assert following.number[:9] == first.number[:9] == f"G{timezone.localdate():%Y%m%d}"


@pytest.mark.django_db
def test_the_public_lookup_is_one_statement_and_limited(
    hotline, world, django_assert_num_queries
):
    complaint = services.complaint_dispatch(
        actor=hotline.operator,
        complaint=hotline_call(hotline, world),
        department=world.market,
    )
    url = reverse("api:complaints_progress")
    with django_assert_num_queries(1):
        found = Client().get(
            url, {"number": complaint.number, "code": complaint.query_code}
        )
    assert found.status_code == 200
    assert [entry["kind"] for entry in found.json()["history"]] == [
        "received",
        "dispatched",
    ]
    assert found.json()["department"] == world.market.name
    for _i in range(10):
        wrong = Client().get(url, {"number": complaint.number, "code": "WRONG1"})
        assert wrong.status_code == 404
    refused = Client().get(
        url, {"number": complaint.number, "code": complaint.query_code}
    )
    assert refused.status_code == 429 and refused.json()["detail"]
