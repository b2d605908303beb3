"""Who may name a case in an action: `case_to_act_on` checks a staff member's scope against the
case's place in Python, and must agree with `visible_cases`, the filter every list and page uses."""

import itertools

import pytest

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.cases import selectors
from onewindow.cases.choices import CaseStatus
from onewindow.cases.models import Case
from onewindow.core.errors import NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def actors(world, make_user):
    def staff(username, role, **scope):
        user = make_user(username, kind=AccountKind.STAFF, otp=True)
        RoleAssignment.objects.create(user=user, role=role, **scope)
        return user

    retired = staff("retired", Role.WINDOW_CLERK, department=world.market)
    retired.is_active = False
    retired.save()
    return {
        "citizen": world.citizen,
        "another citizen": make_user("citizen2", kind=AccountKind.CITIZEN),
        "clerk": world.clerk,
        "other department": world.outsider,
        "district clerk": staff("district_clerk", Role.WINDOW_CLERK, department=world.district),
        "city supervisor": staff("city_supervisor", Role.SUPERVISOR, region=world.city),
        "district supervisor": staff("district_supervisor", Role.SUPERVISOR, region=world.county),
        "platform admin": world.admin,
        "retired clerk": retired,
    }


@pytest.fixture
def cases(world, item, filed_case):
    """A draft and submitted cases of the city department, of another city department and of
    the district's; and a submitted case the clerk filed for someone at the window."""
    from onewindow.cases import services

    def moved(case, department):
        Case.objects.filter(pk=case.pk).update(department=department, region=department.region)
        return case.pk

    at_the_window = filed_case()
    Case.objects.filter(pk=at_the_window.pk).update(filed_by=world.clerk)
    return {
        "draft": services.case_start(actor=world.citizen, item=item).pk,
        "city": filed_case().pk,
        "other department": moved(filed_case(), world.other),
        "district": moved(filed_case(), world.district),
        "filed by the clerk": at_the_window.pk,
    }


def _acts_on(actor, pk, *, whole=False) -> bool:
    try:
        return selectors.case_to_act_on(actor, pk, whole=whole).pk == pk
    except NotFound:
        return False


@pytest.mark.parametrize("whole", [False, True], ids=["place", "whole case"])
def test_an_action_may_name_exactly_the_cases_the_actor_sees(actors, cases, whole):
    seen = {(who, what): selectors.visible_cases(actor).filter(pk=pk).exists()
            for (who, actor), (what, pk) in itertools.product(actors.items(), cases.items())}
    acted = {(who, what): _acts_on(actor, pk, whole=whole)
             for (who, actor), (what, pk) in itertools.product(actors.items(), cases.items())}

    assert acted == seen
    assert {who_what for who_what, may in acted.items() if may} == {
        *(("citizen", what) for what in cases),
        ("clerk", "city"), ("clerk", "filed by the clerk"), ("other department", "other department"),
        ("district clerk", "district"),
        *(("city supervisor", what) for what in ("city", "other department", "district", "filed by the clerk")),
        ("district supervisor", "district"),
    }
    assert Case.objects.get(pk=cases["draft"]).status == CaseStatus.DRAFT


def test_a_case_that_does_not_exist_is_not_found_for_anyone(actors, cases):
    missing = max(cases.values()) + 1000
    assert not any(_acts_on(actor, missing, whole=whole) for actor in actors.values() for whole in (False, True))


@pytest.mark.parametrize("who", ["citizen", "clerk"])
def test_a_whole_case_comes_with_the_rows_it_points_to(actors, cases, who, django_assert_num_queries):
    pk = cases["filed by the clerk"]
    with django_assert_num_queries(1):
        case = selectors.case_to_act_on(actors[who], pk, whole=True)
    expected = Case.objects.select_related(*selectors.CASE_READ_ALONG).get(pk=pk)
    with django_assert_num_queries(0):
        assert not case.get_deferred_fields()
        assert (case.form_data, case.status, case.version.content, case.department.region.path,
                case.applicant.id_number, case.item.impl_code) == (
            expected.form_data, expected.status, expected.version.content, expected.department.region.path,
            expected.applicant.id_number, expected.item.impl_code)
