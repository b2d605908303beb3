"""The demo library loads with the demo data (`onewindow demo`), once."""

import io

import pytest
from django.core.management import call_command

from onewindow.licences import demo, selectors
from onewindow.licences.models import Licence


@pytest.fixture
def demo_accounts(db):
    call_command("demo", quiet_logins=True, stdout=io.StringIO())


def test_the_demo_library_loads_idempotently(demo_accounts):
    from onewindow.accounts.models import User

    from onewindow.licences.models import LicenceType

    assert LicenceType.objects.count() == 4 and Licence.objects.exists()
    assert demo.load() == {"types": 0, "licences": 0}
    handler = User.objects.get(username="handler1")
    kinds = {licence.licence_type.code for licence in selectors.my_licences(handler)}
    assert {"business_licence", "resident_id_card"} <= kinds
    assert all(
        selectors.verify_licence(licence).valid for licence in Licence.objects.all()[:5]
    )
