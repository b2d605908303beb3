"""Where case handling meets parts of the platform that are built separately: the electronic
licence library (materials attached by reference, by the applicant or by the library itself when
a draft starts; results issued as licences), the credit records (applicants on a blacklist
cannot use 容缺受理) and the approval rules of smart items (智慧审批: a matching application is
decided without a person).

Each is a small registry: the other part registers its implementation when it is installed.
With nothing registered, no licence can be attached by reference, results are issued as
documents of the case, nobody is restricted, and every case is handled by people.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class LicenceRecord:
    """A valid licence of a holder, as the licence library reports it."""

    number: str
    licence_type: str
    name: str
    holder_id: str  # the holder's ID number or USCC
    valid_until: dt.date | None = None


class LicenceSource(Protocol):
    def valid_licences(self, *, holder_ids: list[str], licence_type: str) -> list[LicenceRecord]: ...


@dataclass(frozen=True)
class IssuedResult:
    number: str
    valid_until: dt.date | None = None


# Given the applicant and their new draft, attach by reference what the platform already holds
# for its materials, through the case services, in the draft's transaction.
DraftFiller = Callable[[Any, Any], None]
# Given an approved case, issue its result (a licence) and return its number, or None when
# this issuer does not handle the item's result.
ResultIssuer = Callable[[Any], IssuedResult | None]
# Given a joint case whose results merge into one licence (多证合一) and its granted member cases,
# issue that one licence, or None when no member's result is a licence this issuer handles.
MergedResultIssuer = Callable[[Any, list[Any]], IssuedResult | None]
# Given an applicant (user) and the applying enterprise (or None), a reason the applicant is
# restricted from 容缺受理, or None.
CreditCheck = Callable[[Any, Any], str | None]

licence_sources: list[LicenceSource] = []
draft_fillers: list[DraftFiller] = []
result_issuers: list[ResultIssuer] = []
merged_result_issuers: list[MergedResultIssuer] = []
credit_checks: list[CreditCheck] = []


def holder_ids(case: Any) -> list[str]:
    """The identifiers the applicant holds licences under: their ID number, the enterprise's USCC."""
    ids = [case.applicant.id_number] if case.applicant.id_number else []
    if case.enterprise_id:
        ids.append(case.enterprise.uscc)
    return ids


def find_licence(case: Any, *, licence_type: str, number: str) -> LicenceRecord | None:
    """The applicant's valid licence of that type and number, if a source knows it."""
    for source in licence_sources:
        for record in source.valid_licences(holder_ids=holder_ids(case), licence_type=licence_type):
            if record.number == number:
                return record
    return None


def available_licences(case: Any, *, licence_type: str) -> list[LicenceRecord]:
    found: list[LicenceRecord] = []
    for source in licence_sources:
        found += source.valid_licences(holder_ids=holder_ids(case), licence_type=licence_type)
    return found


def fill_draft(actor: Any, case: Any) -> None:
    for fill in draft_fillers:
        fill(actor, case)


def issue_result(case: Any) -> IssuedResult | None:
    for issuer in result_issuers:
        issued = issuer(case)
        if issued is not None:
            return issued
    return None


def issue_merged_result(joint: Any, granted: list[Any]) -> IssuedResult | None:
    for issuer in merged_result_issuers:
        issued = issuer(joint, granted)
        if issued is not None:
            return issued
    return None


def credit_restriction(applicant: Any, enterprise: Any) -> str | None:
    for check in credit_checks:
        reason = check(applicant, enterprise)
        if reason:
            return reason
    return None


@dataclass(frozen=True)
class AutoDecision:
    """What an item's approval rules say about a submitted application (智慧审批).

    `outcome` is "approved" or "denied" (decided without a person; "denied" only where the item
    allows automatic denial), or "manual" (a rule could not be evaluated or did not match: a
    person handles the case). `explanation` holds one line per rule that decided, in the
    applicant's language; `rule_set` names the rule set and its version.
    """

    outcome: str
    explanation: list[str]
    rule_set: str


@dataclass(frozen=True)
class AutoDecider:
    """An approval-rule engine. `decide(case)` judges a submitted case (None: its item has no
    rules); `rules_since()` reads, per item that has rules, when its first rules came into force;
    `may_decide(item_id)` answers from a short-lived cache whether the item has rules, so that a
    submission for an item without rules costs no query and no lock. The cache may lag a newly
    published rule set; the sweep, reading `rules_since()`, then catches the cases it missed."""

    decide: Callable[[Any], AutoDecision | None]
    rules_since: Callable[[], Mapping[int, dt.datetime]]
    may_decide: Callable[[int], bool]


auto_deciders: list[AutoDecider] = []


def auto_decision(case: Any) -> AutoDecision | None:
    for decider in auto_deciders:
        decision = decider.decide(case)
        if decision is not None:
            return decision
    return None


def may_auto_decide(item_id: int) -> bool:
    return any(decider.may_decide(item_id) for decider in auto_deciders)


def rules_since() -> dict[int, dt.datetime]:
    """Per item with approval rules, since when it has had them (the earliest of the engines)."""
    since: dict[int, dt.datetime] = {}
    for decider in auto_deciders:
        for item_id, moment in decider.rules_since().items():
            since[item_id] = min(moment, since.get(item_id, moment))
    return since
