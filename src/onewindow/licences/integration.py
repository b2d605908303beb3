"""The library as case handling sees it (`onewindow.cases.hooks`): a source of the applicant's
valid licences, for materials a licence replaces, and the issuer of approved cases' results."""

from typing import Any

from django.db.models import Q

from onewindow.cases import hooks
from onewindow.licences import clock, services
from onewindow.licences.choices import LicenceStatus
from onewindow.licences.models import Licence


class LibrarySource:
    """Valid licences (in force today) of the given holders and type."""

    def valid_licences(
        self, *, holder_ids: list[str], licence_type: str
    ) -> list[hooks.LicenceRecord]:
        if not holder_ids or not licence_type:
            return []
        today = clock.today()
        found = (
            Licence.objects.filter(
                holder_id__in=holder_ids,
                licence_type__code=licence_type,
                status=LicenceStatus.VALID,
                valid_from__lte=today,
            )
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
            .select_related("licence_type")
            .order_by("-issued_on", "-id")
        )
        return [
            hooks.LicenceRecord(
                number=licence.number,
                licence_type=licence.licence_type.code,
                name=licence.licence_type.name,
                holder_id=licence.holder_id,
                valid_until=licence.valid_until,
            )
            for licence in found
        ]


def issue_result(case: Any) -> hooks.IssuedResult | None:
    licence = services.issue_for_case(case)
    if licence is None:
        return None
    return hooks.IssuedResult(number=licence.number, valid_until=licence.valid_until)
