"""The review of a denial filing (否定报备) is written by the cases service that owns the filing:
once, by a supervisor of the filing's department, with an audit entry; refusals write nothing."""

import pytest

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.cases import services
from onewindow.cases.models import DenialFiling
from onewindow.core.errors import DomainError, InvalidInput, NotFound
from onewindow.core.models import AuditEntry


@pytest.fixture
def city_supervisor(world, make_user):
    user = make_user(
        "city_supervisor", kind=AccountKind.STAFF, otp=True, real_name="吴敏"
    )
    RoleAssignment.objects.create(user=user, role=Role.SUPERVISOR, region=world.city)
    return user


@pytest.fixture
def filing(delivered_case):
    delivered_case(decision="denied")
    return DenialFiling.objects.get()


def _reviews():
    return AuditEntry.objects.filter(action="cases.denial_filing.review")


def test_a_supervisor_marks_a_filing_reviewed_once(city_supervisor, filing):
    reviewed = services.denial_filing_mark_reviewed(
        actor=city_supervisor, filing=filing, opinion="  理由与依据充分。 "
    )
    filing.refresh_from_db()
    assert (filing.reviewed_by, filing.review_opinion) == (
        city_supervisor,
        "理由与依据充分。",
    )
    assert filing.reviewed_at == reviewed.reviewed_at is not None
    entry = _reviews().get()
    assert (entry.object_id, entry.actor) == (str(filing.case_id), city_supervisor)
    with pytest.raises(DomainError, match="已审查") as refused:
        services.denial_filing_mark_reviewed(
            actor=city_supervisor, filing=filing, opinion="再审"
        )
    assert refused.value.status_code == 409
    filing.refresh_from_db()
    assert filing.review_opinion == "理由与依据充分。" and _reviews().count() == 1


def test_others_and_an_empty_opinion_are_refused_and_nothing_is_written(
    world, city_supervisor, filing
):
    for outsider in (world.clerk, world.editor, world.citizen):
        with pytest.raises(NotFound):
            services.denial_filing_mark_reviewed(
                actor=outsider, filing=filing, opinion="可"
            )
    with pytest.raises(InvalidInput):
        services.denial_filing_mark_reviewed(
            actor=city_supervisor, filing=filing, opinion="   "
        )
    filing.refresh_from_db()
    assert (
        filing.reviewed_at is None
        and filing.reviewed_by is None
        and not _reviews().exists()
    )


def test_a_platform_administrator_may_mark_it_and_the_calling_service_may_record_it(
    world, filing
):
    services.denial_filing_mark_reviewed(
        actor=world.admin, filing=filing, opinion="可", audited_by_caller=True
    )
    filing.refresh_from_db()
    assert filing.reviewed_by == world.admin and not _reviews().exists()
