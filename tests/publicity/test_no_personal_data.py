"""Personal data never leaks into public pages, feeds, APIs or datasets: a citizen with a real
name, ID number and phone has a case decided and published, rates it, files a complaint that is
answered and exposed, and every public address is read for those identifiers."""

import pytest
from django.utils import timezone

from onewindow.complaints import services as complaints
from onewindow.core.identifiers import make_uscc
from onewindow.core.services.regions import department_create
from onewindow.evaluation import services as evaluation
from onewindow.publicity import services
from onewindow.publicity.models import Publication
from tests.publicity.conftest import SECRET_ID, SECRET_NAME, SECRET_PHONE

pytestmark = pytest.mark.django_db

SECRET_EMAIL = "ouyang.nana@example.com"


@pytest.fixture
def everything_public(delivered_case, applicant, world, make_user):
    from onewindow.accounts.choices import AccountKind, Role
    from onewindow.accounts.models import RoleAssignment

    case = delivered_case()
    services.publicity_sweep()
    services.publication_publish(
        actor=world.editor, publication=Publication.objects.get()
    )
    evaluation.evaluation_rate_case(
        actor=applicant,
        case=case,
        level=4,
        comment=f"我是{SECRET_NAME}，电话{SECRET_PHONE}，等太久",
    )
    centre = department_create(
        actor=None,
        name="12345热线",
        short_name="",
        parent=None,
        region=world.city,
        uscc=make_uscc("1", "1", world.city.code, "DM512345"),
    )
    complaints.centre_save(actor=None, department=centre, region=world.city)
    operator = make_user("operator", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(
        user=operator, role=Role.WINDOW_CLERK, department=centre
    )
    topic = complaints.topic_save(
        actor=None, code="ads", name="户外广告", department=world.market
    )
    complaint = complaints.complaint_submit(
        actor=applicant,
        kind="complaint",
        topic=topic,
        title=f"{SECRET_NAME}投诉广告牌",
        content=f"本人{SECRET_NAME}（身份证{SECRET_ID}，电话{SECRET_PHONE}，邮箱{SECRET_EMAIL}）反映广告牌松动。",
        contact_email=SECRET_EMAIL,
        address="中华南路",
    )
    complaints.complaint_answer(
        actor=world.clerk, complaint=complaint, answer=f"已联系{SECRET_NAME}，已加固。"
    )
    complaints.complaint_rate(actor=applicant, complaint=complaint, rating=1)
    complaints.exposure_publish(
        actor=operator,
        complaint=complaint,
        title=f"{SECRET_NAME}反映广告牌松动",
        problem=f"{SECRET_NAME}（{SECRET_PHONE}）反映广告牌松动",
        result="已加固",
    )
    return case, complaint


PUBLIC_ADDRESSES = [
    "/publicity/",
    "/publicity/decisions/",
    "/publicity/decisions/feed/",
    "/api/publicity/decisions",
    "/publicity/data/",
    "/evaluation/satisfaction/?by=item",
    "/complaints/exposure/",
    "/api/complaints/exposure",
    "/open311/v2/requests.json?extensions=true",
    "/open311/v2/requests.xml?extensions=true",
    "/open311/v2/services.json",
]


def test_public_pages_feeds_and_datasets_carry_no_personal_identifiers(
    client, everything_public
):
    case, complaint = everything_public
    from onewindow.publicity.opendata import DATASETS

    addresses = PUBLIC_ADDRESSES + [
        f"/publicity/data/{slug}.{fmt}" for slug in DATASETS for fmt in ("csv", "json")
    ]
    today = timezone.localdate().isoformat()
    addresses += [
        f"/api/evaluation/public-figures?date_from={today}&date_to={today}",
        f"/publicity/decisions/{Publication.objects.get().pk}/",
        f"/complaints/progress/?number={complaint.number}&code={complaint.query_code}",
        f"/api/complaints/progress?number={complaint.number}&code={complaint.query_code}",
        f"/open311/v2/requests/{complaint.number}.json?extensions=true",
        f"/cases/progress/?number={case.number}&code={case.query_code}",
    ]
    for address in addresses:
        response = client.get(address)
        assert response.status_code == 200, address
        body = response.content.decode("utf-8")
        for secret in (SECRET_NAME, SECRET_ID, SECRET_PHONE, SECRET_EMAIL):
            assert secret not in body, (address, secret)
