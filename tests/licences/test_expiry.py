"""Reminders before expiry and the worker's expiry sweep."""

import datetime as dt

from onewindow.core.models import AuditEntry, Notification
from onewindow.core.periodic import registry
from onewindow.licences import selectors, services
from onewindow.licences.choices import LicenceStatus
from onewindow.licences.models import Licence


def test_reminder_then_expiry(world, issue, holder, licence_clock):
    licence = issue(
        valid_from="2025-02-01", issued_on="2025-02-01", valid_until="2027-02-28"
    )
    before = Notification.objects.filter(recipient=holder).count()
    assert services.licence_remind_due() == 0  # 81 days ahead
    licence_clock.set(dt.date(2027, 1, 30))
    assert services.licence_remind_due() == 1
    assert services.licence_remind_due() == 0  # once per end date
    reminders = Notification.objects.filter(recipient=holder).order_by("-id")
    assert reminders.count() == before + 1 and "即将到期" in reminders.first().subject
    licence_clock.set(dt.date(2027, 2, 28))
    assert services.licence_expire_due() == 0  # the last valid day
    licence_clock.set(dt.date(2027, 3, 1))
    assert services.licence_expire_due() == 1
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.EXPIRED
    assert selectors.verify_licence(licence).failed == ["status"]
    assert AuditEntry.objects.filter(action="licences.licence.expire").count() == 1


def test_renewal_clears_the_reminder_mark(world, issue, licence_clock):
    licence = issue(
        valid_from="2025-02-01", issued_on="2025-02-01", valid_until="2027-01-01"
    )
    services.licence_remind_due()
    renewed = services.licence_renew(
        actor=world.editor, licence=Licence.objects.get(pk=licence.pk)
    )
    assert renewed.reminded_for is None and renewed.valid_until == dt.date(2029, 1, 1)


def test_revoked_licences_do_not_expire(world, issue, licence_clock):
    licence = issue(
        valid_from="2025-02-01", issued_on="2025-02-01", valid_until="2027-01-01"
    )
    services.licence_revoke(actor=world.editor, licence=licence, reason="x")
    licence_clock.set(dt.date(2027, 6, 1))
    assert services.licence_expire_due() == 0
    assert Licence.objects.get(pk=licence.pk).status == LicenceStatus.REVOKED


def test_the_sweep_is_registered_with_the_worker():
    assert "onewindow.licences.services.licences_expiry_sweep" in registry
