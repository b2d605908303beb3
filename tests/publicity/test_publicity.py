"""Result publicity: approved decisions prepared with public fields only, due 7 working days
after the decision, published by the department, flagged when late; penalties entered by
departments; the feed, the API and the open-data downloads."""

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from onewindow.core import workdays
from onewindow.core.errors import InvalidInput, NotFound, PermissionDenied
from onewindow.core.identifiers import make_uscc
from onewindow.core.models import AuditEntry, Notification
from onewindow.publicity import selectors, services
from onewindow.publicity.anonymise import anonymise, mask_name
from onewindow.publicity.choices import PublicationStatus
from onewindow.publicity.models import Publication
from tests.publicity.conftest import SECRET_ID, SECRET_NAME, SECRET_PHONE

pytestmark = pytest.mark.django_db


def test_anonymise_masks_identifiers_and_names():
    text = anonymise(
        f"{SECRET_NAME}，身份证{SECRET_ID}，电话{SECRET_PHONE}，座机0851-28221234，邮箱a.b@gov.cn",
        names=[SECRET_NAME],
    )
    for secret in (SECRET_NAME, SECRET_ID, SECRET_PHONE, "28221234", "a.b@gov.cn"):
        assert secret not in text
    assert mask_name(SECRET_NAME) == "欧***" and mask_name("") == ""


def test_an_approval_is_prepared_with_public_fields_and_a_working_day_due(
    delivered_case, applicant, world
):
    case = delivered_case()
    assert services.publicity_sweep() == 1
    publication = Publication.objects.get(case=case)
    assert (
        publication.status == PublicationStatus.PENDING
        and publication.holder_name == "欧***"
    )
    assert publication.holder_code == "" and publication.department == world.market
    assert (
        publication.due
        == workdays.add_working_days(
            case.decided_at, 7, region=world.market.region
        ).date
    )
    assert services.publicity_sweep() == 0
    assert AuditEntry.objects.filter(action="publicity.prepare").count() == 1


def test_denials_are_not_published(delivered_case, applicant):
    delivered_case(decision="denied")
    assert services.publicity_sweep() == 0


def test_the_department_publishes_and_the_public_sees_it(
    delivered_case, applicant, world, approver
):
    delivered_case()
    services.publicity_sweep()
    publication = Publication.objects.get()
    with pytest.raises(PermissionDenied):
        services.publication_publish(actor=world.clerk, publication=publication)
    with pytest.raises(PermissionDenied):
        services.publication_publish(actor=world.outsider, publication=publication)
    assert selectors.published().count() == 0
    published = services.publication_publish(actor=approver, publication=publication)
    assert published.status == PublicationStatus.PUBLISHED and not published.late
    assert list(selectors.published()) == [published]
    services.publication_withdraw(
        actor=world.editor, publication=published, reason="许可已被撤销"
    )
    assert selectors.published().count() == 0


def test_late_publications_are_flagged_once_and_marked(
    delivered_case, applicant, world, monkeypatch
):
    delivered_case()
    services.publicity_sweep()
    publication = Publication.objects.get()
    later = dt.datetime.combine(
        publication.due + dt.timedelta(days=1), dt.time(10), tzinfo=workdays.SHANGHAI
    )
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert services.publicity_sweep() == 1 and services.publicity_sweep() == 0
    assert (
        Notification.objects.filter(
            recipient=world.editor, kind="publicity.late"
        ).count()
        == 1
    )
    assert list(selectors.late(world.editor)) == [publication]
    assert selectors.late(world.outsider).count() == 0
    published = services.publication_publish(
        actor=world.editor, publication=publication
    )
    assert published.late
    assert list(selectors.late(world.editor)) == [published]


def test_penalties_are_entered_by_the_department(world):
    decided = timezone.localdate()
    publication = services.penalty_create(
        actor=world.editor,
        department=world.market,
        decision_number="遵执法罚〔2026〕12号",
        title="擅自设置户外广告",
        holder_kind="person",
        holder_name="王小明",
        content="王小明（13800138000）罚款二千元",
        basis="《条例》第三十七条",
        decided_on=decided,
    )
    assert publication.holder_name == "王**" and "王小明" not in publication.content
    assert "13800138000" not in publication.content
    with pytest.raises(InvalidInput):
        services.penalty_create(
            actor=world.editor,
            department=world.market,
            decision_number="遵执法罚〔2026〕12号",
            title="x",
            holder_kind="person",
            holder_name="x",
            content="x",
            basis="x",
            decided_on=decided,
        )
    with pytest.raises(InvalidInput):
        services.penalty_create(
            actor=world.editor,
            department=world.market,
            decision_number="13号",
            title="x",
            holder_kind="organisation",
            holder_name="某公司",
            holder_code="123",
            content="x",
            basis="x",
            decided_on=decided,
        )
    with pytest.raises(PermissionDenied):
        services.penalty_create(
            actor=world.outsider,
            department=world.market,
            decision_number="14号",
            title="x",
            holder_kind="person",
            holder_name="x",
            content="x",
            basis="x",
            decided_on=decided,
        )
    organisation = services.penalty_create(
        actor=world.editor,
        department=world.market,
        decision_number="15号",
        title="占道经营",
        holder_kind="organisation",
        holder_name="遵义某商贸有限公司",
        holder_code=make_uscc("9", "1", "520302", "MA6DXXXX").lower(),
        content="罚款",
        basis="条例",
        decided_on=decided,
    )
    assert (
        organisation.holder_name == "遵义某商贸有限公司"
        and organisation.holder_code.isupper()
    )


def test_published_decisions_over_the_web_feed_and_api(
    client, delivered_case, applicant, world
):
    delivered_case()
    services.publicity_sweep()
    publication = services.publication_publish(
        actor=world.editor, publication=Publication.objects.get()
    )
    page = client.get("/publicity/decisions/")
    assert (
        page.status_code == 200 and publication.decision_number in page.content.decode()
    )
    feed = client.get("/publicity/decisions/feed/")
    assert feed.status_code == 200 and feed["Content-Type"].startswith(
        "application/atom+xml"
    )
    assert publication.decision_number in feed.content.decode()
    api = client.get("/api/publicity/decisions").json()
    assert [row["decision_number"] for row in api] == [publication.decision_number]
    assert (
        client.get(f"/api/publicity/decisions/{publication.pk}").json()["holder_name"]
        == "欧***"
    )
    assert client.get("/api/publicity/decisions/999999").status_code == 404
    assert client.get("/publicity/decisions/999999/").status_code == 404


def test_open_data_catalogue_and_downloads(client, delivered_case, applicant, item):
    for _i in range(3):
        delivered_case()
    catalogue = client.get("/publicity/data/")
    assert (
        catalogue.status_code == 200 and "service-items" in catalogue.content.decode()
    )
    listed = client.get("/api/publicity/datasets").json()
    assert {d["slug"] for d in listed} >= {
        "service-items",
        "service-guides",
        "case-figures",
        "satisfaction",
        "complaint-figures",
        "decisions",
    }
    items = client.get("/publicity/data/service-items.csv")
    assert items["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(items.content.decode("utf-8-sig"))))
    assert rows[0]["impl_code"] == item.impl_code
    figures = json.loads(client.get("/publicity/data/case-figures.json").content)
    assert figures["rows"][0]["submitted"] == 3 and figures["rows"][0]["completed"] == 3
    assert client.get("/publicity/data/nothing.csv").status_code == 404
    assert client.get("/publicity/data/service-items.xml").status_code == 404


def test_staff_scope_of_pending_publications(delivered_case, applicant, world):
    delivered_case()
    services.publicity_sweep()
    publication = Publication.objects.get()
    assert selectors.publication_for(world.editor, publication.pk) == publication
    with pytest.raises(NotFound):
        selectors.publication_for(world.outsider, publication.pk)
