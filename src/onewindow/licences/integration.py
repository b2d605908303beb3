"""The library as case handling sees it (`onewindow.cases.hooks`): a source of the applicant's
valid licences, for materials a licence replaces; the filler of new drafts, which attaches those
licences by itself; and the issuer of approved cases' results."""

from typing import Any

from django.db.models import Q, QuerySet

from onewindow.cases import hooks
from onewindow.licences import clock, services
from onewindow.licences.choices import LicenceStatus
from onewindow.licences.models import Licence


def _in_force(holder_ids: list[str]) -> QuerySet[Licence]:
    """The holders' licences that are valid today, newest first."""
    today = clock.today()
    return (
        Licence.objects.filter(
            holder_id__in=holder_ids, status=LicenceStatus.VALID, valid_from__lte=today
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("licence_type")
        .order_by("-issued_on", "-id")
    )


class LibrarySource:
    """Valid licences (in force today) of the given holders and type."""

    def valid_licences(
        self, *, holder_ids: list[str], licence_type: str
    ) -> list[hooks.LicenceRecord]:
        if not holder_ids or not licence_type:
            return []
        return [
            hooks.LicenceRecord(
                number=licence.number,
                licence_type=licence.licence_type.code,
                name=licence.licence_type.name,
                holder_id=licence.holder_id,
                valid_until=licence.valid_until,
            )
            for licence in _in_force(holder_ids).filter(licence_type__code=licence_type)
        ]


def attach_held_licences(actor: Any, case: Any) -> None:
    """A new draft gets, for each material a licence type replaces, the applicant's newest valid
    licence of that type attached by reference, as if the applicant had chosen it (the same
    service, checks and audit entry); they may remove it and upload a file instead."""
    from onewindow.cases.services import case_attach

    wanted = {
        material["key"]: material["licence_type"]
        for material in case.version.content.get("materials", [])
        if material.get("licence_type")
    }
    holder_ids = hooks.holder_ids(case)
    if not wanted or not holder_ids:
        return
    newest: dict[str, str] = {}
    for code, number in (
        _in_force(holder_ids)
        .filter(licence_type__code__in=set(wanted.values()))
        .values_list("licence_type__code", "number")
    ):
        newest.setdefault(code, number)
    for key, code in wanted.items():
        if code in newest:
            case_attach(
                actor=actor, case=case, material_key=key, licence_number=newest[code]
            )


def issue_result(case: Any) -> hooks.IssuedResult | None:
    licence = services.issue_for_case(case)
    if licence is None:
        return None
    return hooks.IssuedResult(number=licence.number, valid_until=licence.valid_until)


def issue_merged_result(joint: Any, granted: list[Any]) -> hooks.IssuedResult | None:
    licence = services.issue_for_joint(joint, granted)
    if licence is None:
        return None
    return hooks.IssuedResult(number=licence.number, valid_until=licence.valid_until)
