"""Several people acting at the same moment, each in its own thread, connection and transaction:
status bits of one department's list set together all stick, licences issued together get
distinct status positions, and a licence revoked and changed at once ends up revoked."""

import pytest

from onewindow.core.errors import DomainError
from onewindow.core.testing.concurrency import at_once
from onewindow.licences import selectors, services
from onewindow.licences.choices import LicenceStatus
from onewindow.licences.models import Licence

pytestmark = pytest.mark.django_db(transaction=True)


def test_revocations_at_once_all_reach_the_status_list(world, issue):
    licences = [issue() for _ in range(3)]
    results = at_once(
        [
            (
                lambda licence=licence: services.licence_revoke(
                    actor=world.editor, licence=licence, reason="同时吊销"
                )
            )
            for licence in licences
        ]
    )
    assert all(isinstance(result, Licence) for result in results), results
    for licence in licences:
        assert selectors.listed_status(world.market.uscc, licence.status_index).revoked


def test_licences_issued_at_once_get_distinct_positions(world, issue):
    issue()  # the department's key and status list exist
    results = at_once([lambda: issue() for _ in range(3)])
    assert all(isinstance(result, Licence) for result in results), results
    assert len({licence.status_index for licence in results}) == 3
    assert all(selectors.verify_licence(licence).valid for licence in results)


def test_a_change_racing_a_revocation_never_leaves_a_valid_licence(world, issue):
    licence = issue()
    results = at_once(
        [
            lambda: services.licence_revoke(
                actor=world.editor, licence=licence, reason="吊销"
            ),
            lambda: services.licence_change(
                actor=world.editor, licence=licence, fields={"area": 20}
            ),
        ]
    )
    final = Licence.objects.get(pk=licence.pk)
    assert final.status == LicenceStatus.REVOKED
    assert selectors.verify_licence(final).failed == ["status"]
    assert isinstance(results[0], Licence)
    assert isinstance(results[1], Licence | DomainError)
