"""The three checks of a licence data file, as OpenAttestation verifies a document:

- integrity: the facts hash to the signed target hash, and the signature is the named key's;
- status: not revoked or suspended in the issuer's status list, within its validity, and (when
  the library is at hand) the current version of the licence;
- issuer: the key is in the trusted-issuer registry, belongs to the department the file names,
  was not revoked, and was in use when it signed.

A licence is valid only when all three pass; the report says which failed and why. Where the
facts come from (the database, or the registry and status-list files the offline verifier
reads) is passed in, so the platform and `onewindow licence_verify` run the same code.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.licences import crypto
from onewindow.licences.choices import CheckResult, KeyStatus
from onewindow.licences.document import Document, Malformed, parse

CHECK_LABELS = {
    "integrity": gettext_lazy("完整性（签名）"),
    "status": gettext_lazy("状态"),
    "issuer": gettext_lazy("签发机构"),
}


@dataclass(frozen=True)
class TrustedKey:
    """One key of the trusted-issuer registry."""

    key_id: str
    algorithm: str
    public_key: str
    issuer_uscc: str
    issuer_name: str
    status: str
    created_at: dt.datetime
    retired_at: dt.datetime | None
    issuer_active: bool = True


@dataclass(frozen=True)
class ListedStatus:
    revoked: bool
    suspended: bool


@dataclass(frozen=True)
class LibraryRecord:
    """What the library holds for a licence number now."""

    version: int
    status: str
    status_label: str
    reason: str


@dataclass(frozen=True)
class Check:
    name: str
    result: str
    message: str

    @property
    def label(self) -> str:
        return str(CHECK_LABELS[self.name])

    @property
    def result_label(self) -> str:
        return str(CheckResult(self.result).label)

    @property
    def passed(self) -> bool:
        return self.result == CheckResult.VALID


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    hidden: int = 0

    @property
    def valid(self) -> bool:
        return len(self.checks) == 3 and all(check.passed for check in self.checks)

    @property
    def failed(self) -> list[str]:
        return [check.name for check in self.checks if not check.passed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "checks": [
                {
                    "name": c.name,
                    "label": c.label,
                    "result": c.result,
                    "message": c.message,
                }
                for c in self.checks
            ],
            "facts": self.facts,
            "hidden_facts": self.hidden,
        }


KeyLookup = Callable[[str], TrustedKey | None]
StatusLookup = Callable[[str, int], ListedStatus | None]
LibraryLookup = Callable[[str], LibraryRecord | None]


def _parse_moment(value: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _parse_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def malformed_report(reason: str) -> Report:
    message = _("文件不是有效的电子证照数据文件，或已被改动（%(reason)s）。") % {
        "reason": reason
    }
    return Report(
        checks=[
            Check("integrity", CheckResult.INVALID, message),
            Check("status", CheckResult.SKIPPED, _("文件无法读取，未核验状态。")),
            Check("issuer", CheckResult.SKIPPED, _("文件无法读取，未核验签发机构。")),
        ]
    )


def verify_file(raw: bytes | str, **sources: Any) -> Report:
    try:
        document = parse(raw)
    except Malformed as exc:
        return malformed_report(str(exc))
    return verify(document, **sources)


def verify(
    document: Document,
    *,
    keys: KeyLookup,
    statuses: StatusLookup | None,
    library: LibraryLookup | None,
    today: dt.date,
) -> Report:
    key = keys(document.signature.key_id)
    report = Report(facts=document.facts, hidden=len(document.obfuscated))
    report.checks = [
        _integrity(document, key),
        _status(document, statuses, library, today),
        _issuer(document, key),
    ]
    return report


def _integrity(document: Document, key: TrustedKey | None) -> Check:
    if not document.hash_consistent():
        return Check(
            "integrity",
            CheckResult.INVALID,
            _("证照内容与签名时的内容不一致：文件已被篡改。"),
        )
    if key is None:
        return Check(
            "integrity",
            CheckResult.INVALID,
            _("签名密钥 %(key)s 不在可信签发机构名录中，签名无法核验。")
            % {"key": document.signature.key_id},
        )
    if key.algorithm != document.signature.algorithm:
        return Check(
            "integrity",
            CheckResult.INVALID,
            _("签名算法与签名密钥不符：签名是伪造的。"),
        )
    if not crypto.signer(key.algorithm).verify(
        key.public_key, document.signed_message(), document.signature.value
    ):
        return Check(
            "integrity",
            CheckResult.INVALID,
            _("签名无效：签名不是该签发机构的密钥所签，是伪造或被篡改的。"),
        )
    return Check("integrity", CheckResult.VALID, _("签名有效，证照内容未被改动。"))


def _status(
    document: Document,
    statuses: StatusLookup | None,
    library: LibraryLookup | None,
    today: dt.date,
) -> Check:
    valid_from = _parse_date(document.value("validFrom"))
    valid_until_value = document.value("validUntil")
    valid_until = _parse_date(valid_until_value)
    if valid_from is None or (valid_until_value is not None and valid_until is None):
        return Check("status", CheckResult.INVALID, _("有效期格式不正确。"))
    if library is not None:
        record = library(str(document.value("number")))
        if record is None:
            return Check(
                "status", CheckResult.INVALID, _("电子证照库中没有这个证照编号。")
            )
        if record.version != document.value("version"):
            return Check(
                "status",
                CheckResult.INVALID,
                _(
                    "这是第 %(old)s 版，该证照已变更或延续为第 %(new)s 版，本版本已失效。"
                )
                % {"old": document.value("version"), "new": record.version},
            )
    index = document.value("status.index")
    if statuses is None:
        return Check(
            "status", CheckResult.SKIPPED, _("没有提供状态列表，未核验吊销和暂停状态。")
        )
    listed = (
        statuses(str(document.value("issuer.uscc")), index)
        if isinstance(index, int)
        else None
    )
    if listed is None:
        return Check(
            "status", CheckResult.INVALID, _("签发机构的状态列表中没有该证照的状态位。")
        )
    if listed.revoked:
        reason = record.reason if library is not None and record.reason else ""
        label = record.status_label if library is not None else _("已吊销")
        return Check(
            "status",
            CheckResult.INVALID,
            _("该证照%(status)s，不再有效。%(reason)s")
            % {"status": label, "reason": reason},
        )
    if listed.suspended:
        return Check("status", CheckResult.INVALID, _("该证照已暂停使用。"))
    if today < valid_from:
        return Check(
            "status",
            CheckResult.INVALID,
            _("该证照自 %(date)s 起生效，尚未生效。") % {"date": valid_from},
        )
    if valid_until is not None and today > valid_until:
        return Check(
            "status",
            CheckResult.INVALID,
            _("该证照已于 %(date)s 到期。") % {"date": valid_until},
        )
    return Check(
        "status",
        CheckResult.VALID,
        _("该证照有效，未被吊销、暂停或注销，且在有效期内。"),
    )


def _issuer(document: Document, key: TrustedKey | None) -> Check:
    if key is None:
        return Check(
            "issuer",
            CheckResult.INVALID,
            _("签名密钥不属于任何可信签发机构：签发机构身份无法确认。"),
        )
    named = {document.signature.issuer, document.value("issuer.uscc")}
    if named != {key.issuer_uscc}:
        return Check(
            "issuer",
            CheckResult.INVALID,
            _("文件所称签发机构与签名密钥的持有部门（%(name)s）不符。")
            % {"name": key.issuer_name},
        )
    if key.status == KeyStatus.REVOKED:
        return Check(
            "issuer",
            CheckResult.INVALID,
            _("签名密钥已被吊销（可能已泄露），其签名不再可信。"),
        )
    if not key.issuer_active:
        return Check(
            "issuer",
            CheckResult.INVALID,
            _("签发部门 %(name)s 已停用。") % {"name": key.issuer_name},
        )
    signed_at = _parse_moment(document.value("signedAt"))
    if (
        signed_at is None
        or signed_at < key.created_at
        or (key.retired_at is not None and signed_at > key.retired_at)
    ):
        return Check("issuer", CheckResult.INVALID, _("签名时间不在该密钥的使用期内。"))
    return Check(
        "issuer",
        CheckResult.VALID,
        _("由可信签发机构 %(name)s（%(uscc)s）签发。")
        % {"name": key.issuer_name, "uscc": key.issuer_uscc},
    )
