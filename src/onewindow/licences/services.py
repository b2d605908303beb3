"""Every change in the licence library: one keyword-only function per action, one transaction,
one audit entry. A licence follows a declared lifecycle:

    valid ──change / renew──▶ valid        (a new version, newly signed; 变更 / 延续)
      │ ▲
      │ └──reinstate── suspended            (暂停 and its lifting)
      ├──suspend──────▶ suspended
      ├──revoke───────▶ revoked             (吊销, from valid or suspended)
      ├──cancel───────▶ cancelled           (注销, from valid or suspended)
      └──expire───────▶ expired             (the sweep, after the last valid day)

Each version's data file is signed with the issuing department's active key of the type's
algorithm (made on first use; `signing_key_rotate` replaces it and the old one keeps verifying
what it signed). Revocation, cancellation and suspension set the licence's bit in the
department's status list in the same transaction.

Issuing needs the department's authority: its department administrator or chief representative
(首席代表), or a platform administrator. A case approved by the item's department issues its
licence through `issue_for_case` (registered as the case handling's result issuer).
"""

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import EnterpriseHandler, User
from onewindow.accounts.permissions import (
    has_role,
    is_platform_admin,
    staff_departments,
)
from onewindow.core import audit
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.identifiers import parse_id_number, parse_uscc
from onewindow.core.lifecycle import Lifecycle, Transition
from onewindow.core.models import Department
from onewindow.core.notifications import notify
from onewindow.core.periodic import sweep
from onewindow.core.prepared import PreparedRead, columns_along, loaded_along
from onewindow.core.text import listing
from onewindow.licences import clock, crypto, document
from onewindow.licences.choices import (
    AccessKind,
    Algorithm,
    FieldType,
    HolderKind,
    KeyStatus,
    LicenceStatus,
    VersionKind,
)
from onewindow.licences.models import (
    Licence,
    LicenceAccess,
    LicenceType,
    LicenceVersion,
    SigningKey,
    StatusList,
)

# Licence numbers: the department's region, the year and 12 random characters (about 59 bits)
# from an alphabet without look-alikes, so numbers cannot be guessed by counting.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NUMBER_RANDOM = 12
NUMBER_RE = re.compile(
    rf"^[0-9]{{6}}-[0-9]{{4}}-[{NUMBER_ALPHABET}]{{{NUMBER_RANDOM}}}$"
)
NUMBER_ATTEMPTS = 8
# The smallest status list the W3C recommends (16 KB), so one bit says little about whom.
STATUS_LIST_BYTES = 16 * 1024
MAX_TEXT = 500
SWEEP_BATCH = 1000
PURPOSE_MAX = 300
# The field a licence type may declare to name the results a 多证合一 licence stands for.
INTEGRATED_RESULTS = "integrated_results"
# Dates a licence may carry; later ones would overflow when a validity period is added.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2200, 12, 31)
TYPE_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
FIELD_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


# --- who may act -----------------------------------------------------------------------------------


def _is_user(actor: Any) -> bool:
    return (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
    )


def may_issue(actor: Any, department: Department) -> bool:
    """The department's administrator or chief representative, or a platform administrator."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return False
    return is_platform_admin(actor) or any(
        has_role(actor, role, department=department)
        for role in (Role.DEPARTMENT_ADMIN, Role.APPROVER)
    )


def may_issue_anywhere(actor: Any) -> bool:
    """Whether `may_issue` holds for some department: the workbench offers such staff the
    department's licence pages."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return False
    return is_platform_admin(actor) or any(
        has_role(actor, role) for role in (Role.DEPARTMENT_ADMIN, Role.APPROVER)
    )


def _issuer_staff(actor: Any, licence: Licence) -> bool:
    return may_issue(actor, licence.department)


def _is_system(actor: Any, licence: Licence) -> bool:
    return actor is None


S = LicenceStatus
LICENCE_LIFECYCLE = Lifecycle(
    name=gettext_lazy("该证照"),
    state_labels=dict(LicenceStatus.choices),
    transitions=[
        Transition(
            "change", frozenset({S.VALID}), S.VALID, gettext_lazy("变更"), _issuer_staff
        ),
        Transition(
            "renew", frozenset({S.VALID}), S.VALID, gettext_lazy("延续"), _issuer_staff
        ),
        Transition(
            "suspend",
            frozenset({S.VALID}),
            S.SUSPENDED,
            gettext_lazy("暂停"),
            _issuer_staff,
        ),
        Transition(
            "reinstate",
            frozenset({S.SUSPENDED}),
            S.VALID,
            gettext_lazy("恢复"),
            _issuer_staff,
        ),
        Transition(
            "revoke",
            frozenset({S.VALID, S.SUSPENDED}),
            S.REVOKED,
            gettext_lazy("吊销"),
            _issuer_staff,
        ),
        Transition(
            "cancel",
            frozenset({S.VALID, S.SUSPENDED}),
            S.CANCELLED,
            gettext_lazy("注销"),
            _issuer_staff,
        ),
        Transition(
            "expire",
            frozenset({S.VALID, S.SUSPENDED}),
            S.EXPIRED,
            gettext_lazy("到期失效"),
            _is_system,
        ),
    ],
)


# --- input ----------------------------------------------------------------------------------------


def _text(
    value: Any,
    *,
    field: str,
    label: str,
    max_length: int = MAX_TEXT,
    required: bool = True,
) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label}, field=field)
    if len(text) > max_length:
        raise InvalidInput(
            _("%(label)s不能超过 %(n)s 个字。") % {"label": label, "n": max_length},
            field=field,
        )
    return text


def _date(value: Any, *, field: str, label: str) -> dt.date:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput(
            _("%(label)s应为日期（例如 2026-01-31）。") % {"label": label}, field=field
        )
    if not EARLIEST <= value <= LATEST:
        raise InvalidInput(
            _("%(label)s应在 %(earliest)s 至 %(latest)s 之间。")
            % {"label": label, "earliest": EARLIEST, "latest": LATEST},
            field=field,
        )
    return value


def clean_holder(kind: str, holder_id: Any) -> str:
    """The holder's identifier checked and normalised: an ID number (GB 11643) for a person,
    a USCC (GB 32100) for a legal person."""
    try:
        if kind == HolderKind.PERSON:
            return parse_id_number(
                holder_id if isinstance(holder_id, str) else ""
            ).number
        return parse_uscc(holder_id if isinstance(holder_id, str) else "").number
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], field="holder_id") from None


def clean_fields(licence_type: LicenceType, values: Any) -> dict[str, Any]:
    """The licence's fields checked against its type: known keys, required ones present, each
    of its declared type (dates as ISO text, so the signed file holds scalars only)."""
    if not isinstance(values, dict):
        raise InvalidInput(_("照面信息格式不对。"), field="fields")
    specs = {spec["key"]: spec for spec in licence_type.fields}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise InvalidInput(
            _("证照类型“%(type)s”没有这些字段：%(keys)s。")
            % {"type": licence_type.name, "keys": listing(unknown)},
            field="fields",
        )
    cleaned: dict[str, Any] = {}
    for key, spec in specs.items():
        value = values.get(key)
        label = spec.get("label") or key
        if value is None or value == "":
            if spec.get("required"):
                raise InvalidInput(
                    _("请填写照面字段“%(label)s”。") % {"label": label},
                    field=f"fields.{key}",
                )
            continue
        kind = spec.get("type", FieldType.TEXT)
        if kind == FieldType.DATE:
            cleaned[key] = _date(value, field=f"fields.{key}", label=label).isoformat()
        elif kind == FieldType.INTEGER:
            if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,15}", value.strip()):
                value = int(value.strip())
            if value.__class__ is not int:
                raise InvalidInput(
                    _("照面字段“%(label)s”应为整数。") % {"label": label},
                    field=f"fields.{key}",
                )
            cleaned[key] = value
        elif kind == FieldType.BOOLEAN:
            if isinstance(value, str) and value.strip().lower() in {
                "true",
                "1",
                "是",
                "false",
                "0",
                "否",
            }:
                value = value.strip().lower() in {"true", "1", "是"}
            if not isinstance(value, bool):
                raise InvalidInput(
                    _("照面字段“%(label)s”应为是或否。") % {"label": label},
                    field=f"fields.{key}",
                )
            cleaned[key] = value
        else:
            cleaned[key] = _text(
                str(value) if isinstance(value, int) else value,
                field=f"fields.{key}",
                label=label,
            )
    return cleaned


def clean_field_specs(specs: Any) -> list[dict[str, Any]]:
    if not isinstance(specs, list):
        raise InvalidInput(_("照面字段应为列表。"), field="fields")
    cleaned, seen = [], set()
    for spec in specs:
        if not isinstance(spec, dict):
            raise InvalidInput(_("照面字段格式不对。"), field="fields")
        key = spec.get("key")
        if not isinstance(key, str) or not FIELD_KEY_RE.fullmatch(key) or key in seen:
            raise InvalidInput(
                _("字段代码应为小写字母开头的字母、数字或下划线，且不能重复：%(key)s")
                % {"key": key},
                field="fields",
            )
        if spec.get("type", FieldType.TEXT) not in FieldType.values:
            raise InvalidInput(
                _("字段“%(key)s”的类型不对。") % {"key": key}, field="fields"
            )
        seen.add(key)
        cleaned.append(
            {
                "key": key,
                "label": _text(
                    spec.get("label"),
                    field="fields",
                    label=_("字段名称"),
                    max_length=50,
                ),
                "type": spec.get("type", FieldType.TEXT),
                "required": bool(spec.get("required")),
            }
        )
    return cleaned


# --- licence types --------------------------------------------------------------------------------


@transaction.atomic
def licence_type_save(
    *,
    actor: Any,
    code: str,
    name: str,
    department: Department,
    holder_kind: str,
    fields: list[dict],
    validity_years: int | None = None,
    reminder_days: int = 30,
    algorithm: str = Algorithm.ED25519,
    print_title: str = "",
    print_note: str = "",
    issued_for_items: list[str] | None = None,
    replaces_materials: list[str] | None = None,
    is_active: bool = True,
    licence_type: LicenceType | None = None,
) -> LicenceType:
    """Create a licence type (no `licence_type`) or change one. Licences already issued keep
    the fields they were signed with."""
    if not isinstance(department, Department) or not department.is_active:
        raise InvalidInput(_("请选择启用中的签发部门。"), field="department")
    if not (
        is_platform_admin(actor)
        or has_role(actor, Role.DEPARTMENT_ADMIN, department=department)
    ):
        raise PermissionDenied(
            _("只有平台管理员或签发部门的部门管理员可以维护证照类型。")
        )
    code = code.strip() if isinstance(code, str) else ""
    if not TYPE_CODE_RE.fullmatch(code):
        raise InvalidInput(
            _("证照类型代码应为1至50位小写字母、数字、下划线或连字符。"), field="code"
        )
    if (
        LicenceType.objects.filter(code=code)
        .exclude(pk=getattr(licence_type, "pk", None))
        .exists()
    ):
        raise InvalidInput(
            _("证照类型代码 %(code)s 已被使用。") % {"code": code}, field="code"
        )
    if holder_kind not in HolderKind.values:
        raise InvalidInput(_("请选择持证主体类型。"), field="holder_kind")
    if algorithm not in Algorithm.values:
        raise InvalidInput(_("不支持的签名算法。"), field="algorithm")
    if validity_years is not None and (
        validity_years.__class__ is not int or not 1 <= validity_years <= 100
    ):
        raise InvalidInput(
            _("有效期应为 1 到 100 年，或留空表示长期。"), field="validity_years"
        )
    if reminder_days.__class__ is not int or not 0 <= reminder_days <= 365:
        raise InvalidInput(_("到期前提醒天数应为 0 到 365。"), field="reminder_days")
    items = [
        str(code).strip().upper()
        for code in (issued_for_items or [])
        if str(code).strip()
    ]
    materials = [
        _text(m, field="replaces_materials", label=_("材料名称"), max_length=200)
        for m in (replaces_materials or [])
    ]
    values = {
        "code": code,
        "name": _text(name, field="name", label=_("证照名称"), max_length=100),
        "department": department,
        "holder_kind": holder_kind,
        "fields": clean_field_specs(fields),
        "validity_years": validity_years,
        "reminder_days": reminder_days,
        "algorithm": algorithm,
        "print_title": _text(
            print_title,
            field="print_title",
            label=_("打印版式标题"),
            max_length=100,
            required=False,
        ),
        "print_note": _text(
            print_note,
            field="print_note",
            label=_("打印版式说明"),
            max_length=2000,
            required=False,
        ),
        "issued_for_items": items,
        "replaces_materials": materials,
        "is_active": bool(is_active),
    }
    before: dict[str, Any] = {}
    if licence_type is None:
        saved = LicenceType.objects.create(**values)
    else:
        saved = LicenceType.objects.select_for_update().get(pk=licence_type.pk)
        before = {
            "name": saved.name,
            "fields": saved.fields,
            "department": saved.department_id,
        }
        for key, value in values.items():
            setattr(saved, key, value)
        saved.save()
    audit.record(
        actor=actor,
        action="licences.type.save",
        target=saved,
        before=before,
        after={**values, "department": department.pk},
    )
    return saved


# --- keys and status lists ------------------------------------------------------------------------


def _new_key(department: Department, algorithm: str) -> SigningKey:
    private, public = crypto.signer(algorithm).generate()
    key_id = crypto.key_id_of(algorithm, public)
    return SigningKey.objects.create(
        department=department,
        algorithm=algorithm,
        key_id=key_id,
        public_key=public,
        sealed_private_key=crypto.seal(private, key_id=key_id),
    )


def _active_key(department: Department, algorithm: str) -> tuple[SigningKey, bool]:
    """The department's active key of `algorithm`, made on first use (True when new). The
    department row is locked first, so two first issues make one key."""
    Department.objects.select_for_update().filter(pk=department.pk).first()
    key = SigningKey.objects.filter(
        department=department, algorithm=algorithm, status=KeyStatus.ACTIVE
    ).first()
    if key is not None:
        return key, False
    return _new_key(department, algorithm), True


@transaction.atomic
def signing_key_rotate(
    *, actor: Any, department: Department, algorithm: str = Algorithm.ED25519
) -> SigningKey:
    """Replace the department's active key: the old key signs nothing more and stays in the
    registry, so licences it signed still verify."""
    if not (
        is_platform_admin(actor)
        or has_role(actor, Role.DEPARTMENT_ADMIN, department=department)
    ):
        raise PermissionDenied(
            _("只有平台管理员或该部门的部门管理员可以轮换签名密钥。")
        )
    if algorithm not in Algorithm.values:
        raise InvalidInput(_("不支持的签名算法。"), field="algorithm")
    Department.objects.select_for_update().filter(pk=department.pk).first()
    now = clock.now()
    old = SigningKey.objects.filter(
        department=department, algorithm=algorithm, status=KeyStatus.ACTIVE
    ).first()
    if old is not None:
        old.status, old.retired_at = KeyStatus.RETIRED, now
        old.save(update_fields=["status", "retired_at", "updated_at"])
    new = _new_key(department, algorithm)
    audit.record(
        actor=actor,
        action="licences.key.rotate",
        target=new,
        before={"key_id": old.key_id if old else ""},
        after={
            "key_id": new.key_id,
            "algorithm": algorithm,
            "department": department.pk,
            "public_key": new.public_key,
        },
    )
    return new


@transaction.atomic
def signing_key_revoke(*, actor: Any, key: SigningKey, reason: str) -> SigningKey:
    """A compromised key: nothing it ever signed is trusted any more (the licences must be
    re-signed by renewal or change)."""
    locked = (
        SigningKey.objects.select_for_update()
        .select_related("department")
        .get(pk=key.pk)
    )
    if not (
        is_platform_admin(actor)
        or has_role(actor, Role.DEPARTMENT_ADMIN, department=locked.department)
    ):
        raise PermissionDenied(
            _("只有平台管理员或该部门的部门管理员可以吊销签名密钥。")
        )
    if locked.status == KeyStatus.REVOKED:
        raise DomainError(_("该密钥已被吊销。"))
    before = {"status": locked.status}
    locked.status, locked.revoked_reason = (
        KeyStatus.REVOKED,
        _text(reason, field="reason", label=_("吊销原因"), max_length=200),
    )
    locked.retired_at = locked.retired_at or clock.now()
    locked.save(update_fields=["status", "revoked_reason", "retired_at", "updated_at"])
    audit.record(
        actor=actor,
        action="licences.key.revoke",
        target=locked,
        before=before,
        after={"status": locked.status, "reason": locked.revoked_reason},
    )
    return locked


def _status_list(department: Department, *fields: str) -> StatusList:
    """The department's status list, locked (made on first use), with only `fields` read: the
    bitstrings are long, and a change touches one of them at most."""
    empty = bytes(STATUS_LIST_BYTES)
    StatusList.objects.bulk_create(
        [StatusList(department=department, revoked_bits=empty, suspended_bits=empty)],
        ignore_conflicts=True,
    )
    return (
        StatusList.objects.select_for_update()
        .only(*fields)
        .annotate(size=Length("revoked_bits"))
        .get(department=department)
    )


def allocate_indexes(department: Department, count: int) -> int:
    """Reserve `count` status-list positions for new licences; returns the first. The lists
    grow (doubling) so every reserved position has its bit."""
    listing = _status_list(department, "next_index")
    first = listing.next_index
    listing.next_index += count
    needed = (listing.next_index + 7) // 8
    changed = ["next_index", "updated_at"]
    if needed > listing.size:
        zeros = bytes(max(needed, listing.size * 2) - listing.size)
        listing.revoked_bits = bytes(listing.revoked_bits) + zeros
        listing.suspended_bits = bytes(listing.suspended_bits) + zeros
        changed += ["revoked_bits", "suspended_bits"]
    listing.save(update_fields=changed)
    return first


def _set_bits(
    licence: Licence, *, revoked: bool | None = None, suspended: bool | None = None
) -> None:
    wanted = {
        name: value
        for name, value in (("revoked_bits", revoked), ("suspended_bits", suspended))
        if value is not None
    }
    listing = _status_list(licence.department, *wanted)
    byte, mask = divmod(licence.status_index, 8)
    mask = 0x80 >> mask  # bit 0 is the most significant bit of the first byte (W3C)
    for name, value in wanted.items():
        bits = bytearray(getattr(listing, name))
        bits[byte] = bits[byte] | mask if value else bits[byte] & ~mask
        setattr(listing, name, bytes(bits))
    listing.save(update_fields=[*wanted, "updated_at"])


# --- signing ----------------------------------------------------------------------------------------


def licence_facts(
    licence: Licence, *, kind: str, case_number: str, signed_at: dt.datetime
) -> dict[str, Any]:
    """What the data file of the licence's current version says, path by path."""
    facts: dict[str, Any] = {
        "number": licence.number,
        "version": licence.version,
        "versionKind": kind,
        "licenceType.code": licence.licence_type.code,
        "licenceType.name": licence.licence_type.name,
        "issuer.uscc": licence.department.uscc,
        "issuer.name": licence.department.name,
        "holder.kind": licence.holder_kind,
        "holder.id": licence.holder_id,
        "holder.name": licence.holder_name,
        "issuedOn": licence.issued_on.isoformat(),
        "validFrom": licence.valid_from.isoformat(),
        "validUntil": licence.valid_until.isoformat() if licence.valid_until else None,
        "signedAt": signed_at.isoformat(),
        "caseNumber": case_number,
        "status.index": licence.status_index,
        "status.list": f"/api/licences/status-lists/{licence.department.uscc}",
    }
    facts.update({f"field.{key}": value for key, value in licence.fields.items()})
    return facts


def sign_facts(facts: dict[str, Any], key: SigningKey) -> str:
    private = crypto.unseal(key.sealed_private_key, key_id=key.key_id)
    algorithm = crypto.signer(key.algorithm)
    wrapped = document.wrap(
        facts,
        sign=lambda message: algorithm.sign(private, key.public_key, message),
        algorithm=key.algorithm,
        key_id=key.key_id,
        issuer=key.department.uscc,
    )
    return wrapped.serialise().decode()


def _sign_version(
    licence: Licence,
    *,
    kind: str,
    case_number: str,
    note: str,
    actor: Any,
    key: SigningKey,
) -> LicenceVersion:
    now = clock.now()
    facts = licence_facts(licence, kind=kind, case_number=case_number, signed_at=now)
    version = LicenceVersion.objects.create(
        licence=licence,
        number=licence.version,
        kind=kind,
        case_number=case_number,
        note=note,
        fields=licence.fields,
        valid_until=licence.valid_until,
        document=sign_facts(facts, key),
        key=key,
        created_at=now,
        created_by=actor if _is_user(actor) else None,
    )
    licence.current_version = version
    licence.save(update_fields=["current_version", "updated_at"])
    return version


def new_number(department: Department, year: int) -> str:
    return f"{department.region.code[:6]}-{year:04d}-" + "".join(
        secrets.choice(NUMBER_ALPHABET) for _i in range(NUMBER_RANDOM)
    )


def _licence_facts(licence: Licence) -> dict[str, Any]:
    return {
        "number": licence.number,
        "type": licence.licence_type.code,
        "holder_id": licence.holder_id,
        "version": licence.version,
        "status": licence.status,
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "case_number": licence.case_number,
    }


# --- issuance ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewLicence:
    """One licence to issue, already checked against its type (`prepare`)."""

    holder_id: str
    holder_name: str
    fields: dict[str, Any]
    issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date | None
    case_number: str = ""
    legacy_number: str = ""


def default_valid_until(
    licence_type: LicenceType, valid_from: dt.date
) -> dt.date | None:
    if licence_type.validity_years is None:
        return None
    try:
        end = valid_from.replace(year=valid_from.year + licence_type.validity_years)
    except ValueError:  # 29 February
        end = valid_from.replace(
            year=valid_from.year + licence_type.validity_years, day=28
        )
    return end - dt.timedelta(days=1)


def prepare(
    licence_type: LicenceType,
    *,
    holder_id: Any,
    holder_name: Any,
    fields: Any,
    valid_from: Any = None,
    valid_until: Any = None,
    issued_on: Any = None,
    case_number: Any = "",
    legacy_number: Any = "",
) -> NewLicence:
    """Check one licence's data against its type; InvalidInput says what is wrong."""
    today = clock.today()
    start = (
        _date(valid_from, field="valid_from", label=_("有效期起"))
        if valid_from not in (None, "")
        else today
    )
    if valid_until in (None, ""):
        end = default_valid_until(licence_type, start)
    else:
        end = _date(valid_until, field="valid_until", label=_("有效期至"))
    if end is not None and end < start:
        raise InvalidInput(_("有效期至不能早于有效期起。"), field="valid_until")
    issued = (
        _date(issued_on, field="issued_on", label=_("发证日期"))
        if issued_on not in (None, "")
        else start
    )
    if issued > today:
        raise InvalidInput(_("发证日期不能晚于今天。"), field="issued_on")
    return NewLicence(
        holder_id=clean_holder(licence_type.holder_kind, holder_id),
        holder_name=_text(
            holder_name, field="holder_name", label=_("持证主体名称"), max_length=200
        ),
        fields=clean_fields(licence_type, fields if fields is not None else {}),
        issued_on=issued,
        valid_from=start,
        valid_until=end,
        case_number=_text(
            case_number,
            field="case_number",
            label=_("办件编号"),
            max_length=50,
            required=False,
        ),
        legacy_number=_text(
            legacy_number,
            field="legacy_number",
            label=_("原证照编号"),
            max_length=100,
            required=False,
        ),
    )


def _create(
    licence_type: LicenceType,
    new: NewLicence,
    *,
    actor: Any,
    key: SigningKey,
    index: int,
) -> Licence:
    for _attempt in range(NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                licence = Licence.objects.create(
                    number=new_number(licence_type.department, new.issued_on.year),
                    licence_type=licence_type,
                    department=licence_type.department,
                    holder_kind=licence_type.holder_kind,
                    holder_id=new.holder_id,
                    holder_name=new.holder_name,
                    fields=new.fields,
                    issued_on=new.issued_on,
                    valid_from=new.valid_from,
                    valid_until=new.valid_until,
                    status_index=index,
                    case_number=new.case_number,
                    legacy_number=new.legacy_number,
                )
            break
        except IntegrityError:
            continue
    else:
        raise DomainError(_("暂时无法生成证照编号，请稍后重试。"))
    _sign_version(
        licence,
        kind=VersionKind.ISSUE,
        case_number=new.case_number,
        note="",
        actor=actor,
        key=key,
    )
    return licence


def _usable_type(licence_type: LicenceType) -> LicenceType:
    found = (
        LicenceType.objects.select_related("department__region")
        .filter(pk=getattr(licence_type, "pk", None), is_active=True)
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该证照类型，或它已停用。"))
    return found


@transaction.atomic
def licence_issue(
    *,
    actor: Any,
    licence_type: LicenceType,
    holder_id: str,
    holder_name: str,
    fields: dict[str, Any],
    valid_from: Any = None,
    valid_until: Any = None,
    issued_on: Any = None,
    case_number: str = "",
    legacy_number: str = "",
) -> Licence:
    """A department issues a licence (an existing paper licence entered into the library, or one
    issued outside case handling). Signed at once with the department's key."""
    licence_type = _usable_type(licence_type)
    if not may_issue(actor, licence_type.department):
        raise PermissionDenied(
            _("只有签发部门的部门管理员或首席代表可以签发该类证照。")
        )
    new = prepare(
        licence_type,
        holder_id=holder_id,
        holder_name=holder_name,
        fields=fields,
        valid_from=valid_from,
        valid_until=valid_until,
        issued_on=issued_on,
        case_number=case_number,
        legacy_number=legacy_number,
    )
    return _issue_one(licence_type, new, actor=actor, action="licences.licence.issue")


def _issue_one(
    licence_type: LicenceType, new: NewLicence, *, actor: Any, action: str
) -> Licence:
    key, made = _active_key(licence_type.department, licence_type.algorithm)
    licence = _create(
        licence_type,
        new,
        actor=actor,
        key=key,
        index=allocate_indexes(licence_type.department, 1),
    )
    audit.record(
        actor=actor,
        action=action,
        target=licence,
        after={**_licence_facts(licence), "key_id": key.key_id, "key_created": made},
    )
    _tell_holder(
        licence,
        _("您有新的电子证照：%(name)s") % {"name": licence_type.name},
        _(
            "%(department)s已签发“%(name)s”，编号 %(number)s，可在“我的证照”中查看和下载。"
        )
        % {
            "department": licence.department.name,
            "name": licence_type.name,
            "number": licence.number,
        },
    )
    return licence


# Every approval asks which type it issues: the items of each active type (a short read), then
# the one type it found with its department; the SQL of both is built once.
_ISSUED_FOR_READ = PreparedRead(
    lambda: LicenceType.objects.filter(is_active=True)
    .order_by("code")
    .values_list("id", "issued_for_items")
)
_ISSUING = ("department__region",)
_TYPE_READ = PreparedRead(
    lambda pk: LicenceType.objects.filter(pk=pk)
    .order_by()
    .values_list(*columns_along(LicenceType, _ISSUING)),
    pk=int,
)


def issuing_type_for(impl_code: str) -> LicenceType | None:
    """The active licence type whose approvals `impl_code` issues, if any."""
    for row in _ISSUED_FOR_READ.rows():
        if impl_code in row["issued_for_items"]:
            return loaded_along(LicenceType, _TYPE_READ.rows(pk=row["id"])[0], _ISSUING)
    return None


def issue_for_case(case: Any) -> Licence | None:
    """The result of an approved case, as a licence of the type its item issues (None when the
    item issues none). Runs inside the case's decision transaction, as the deciding officer:
    a licence that cannot be issued (the applicant's identity unverified, a required field not
    on the form) refuses the decision with the reason."""
    licence_type = issuing_type_for(case.item.impl_code)
    if licence_type is None:
        return None
    return _issue_result(
        licence_type,
        case,
        form=case.form_data or {},
        case_number=case.number,
        action="licences.licence.issue_for_case",
    )


def issue_for_joint(joint: Any, granted: list[Any]) -> Licence | None:
    """多证合一: one licence for the granted member cases of a joint case, of the type the first
    of them issues (the lead department's first), its fields filled from every member's form,
    and, where the type has an `integrated_results` field, naming every result it stands for.
    None when no member's item issues a licence."""
    ordered = sorted(
        granted, key=lambda case: (case.department_id != joint.lead_department_id, case.pk)
    )
    issuing = next(
        (
            (case, licence_type)
            for case in ordered
            if (licence_type := issuing_type_for(case.item.impl_code)) is not None
        ),
        None,
    )
    if issuing is None:
        return None
    case, licence_type = issuing
    form: dict[str, Any] = {}
    for member in ordered:  # the issuing member's own answers win
        form.update(member.form_data or {})
    form.update(case.form_data or {})
    if any(spec["key"] == INTEGRATED_RESULTS for spec in licence_type.fields):
        form[INTEGRATED_RESULTS] = listing(member.result_name for member in ordered)
    return _issue_result(
        licence_type,
        case,
        form=form,
        case_number=joint.number,
        action="licences.licence.issue_for_joint",
    )


def _issue_result(
    licence_type: LicenceType, case: Any, *, form: dict[str, Any], case_number: str, action: str
) -> Licence:
    if licence_type.department_id != case.department_id:
        raise DomainError(
            _("该事项的结果证照由%(department)s签发，不能由本部门签发。")
            % {"department": licence_type.department.name}
        )
    if licence_type.holder_kind == HolderKind.LEGAL_PERSON:
        if not case.enterprise_id:
            raise DomainError(_("该证照的持证主体是法人，但申请不是以法人名义提交的。"))
        holder_id, holder_name = case.enterprise.uscc, case.enterprise.name
    else:
        holder_id, holder_name = case.applicant.id_number, case.applicant.real_name
        if not holder_id or not holder_name:
            raise DomainError(
                _("申请人尚未登记身份证件号码和真实姓名，无法签发电子证照。")
            )
    values = {
        spec["key"]: form.get(spec["key"])
        for spec in licence_type.fields
        if form.get(spec["key"]) not in (None, "")
    }
    try:
        new = prepare(
            licence_type,
            holder_id=holder_id,
            holder_name=holder_name,
            fields=values,
            case_number=case_number,
        )
    except InvalidInput as exc:
        raise DomainError(
            _("无法签发电子证照：%(reason)s") % {"reason": exc.message}
        ) from None
    return _issue_one(licence_type, new, actor=case.decided_by, action=action)


# --- versions and status ------------------------------------------------------------------------------


def _locked(licence: Licence) -> Licence:
    found = (
        Licence.objects.select_for_update(of=("self",))
        .select_related("licence_type", "department__region")
        .filter(pk=getattr(licence, "pk", None))
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该证照。"))
    return found


def _new_version(
    locked: Licence,
    *,
    kind: str,
    action: str,
    actor: Any,
    case_number: Any,
    note: Any,
    before: dict[str, Any],
) -> Licence:
    locked.version += 1
    locked.save()
    key, made = _active_key(locked.department, locked.licence_type.algorithm)
    case_number = _text(
        case_number,
        field="case_number",
        label=_("办件编号"),
        max_length=50,
        required=False,
    )
    _sign_version(
        locked,
        kind=kind,
        case_number=case_number,
        note=_text(note, field="note", label=_("说明"), max_length=300, required=False),
        actor=actor,
        key=key,
    )
    audit.record(
        actor=actor,
        action=action,
        target=locked,
        before=before,
        after={
            **_licence_facts(locked),
            "key_id": key.key_id,
            "key_created": made,
            "version_case": case_number,
        },
    )
    return locked


@transaction.atomic
def licence_change(
    *,
    actor: Any,
    licence: Licence,
    fields: dict[str, Any],
    case_number: str = "",
    note: str = "",
    holder_name: str | None = None,
) -> Licence:
    """变更: new field values (and holder name), a new version signed now; the old version's
    file stops verifying as current."""
    locked = _locked(licence)
    LICENCE_LIFECYCLE.check("change", state=locked.status, actor=actor, obj=locked)
    before = _licence_facts(locked) | {"fields": locked.fields}
    locked.fields = clean_fields(
        locked.licence_type, {**locked.fields, **(fields or {})}
    )
    if holder_name is not None:
        locked.holder_name = _text(
            holder_name, field="holder_name", label=_("持证主体名称"), max_length=200
        )
    return _new_version(
        locked,
        kind=VersionKind.CHANGE,
        action="licences.licence.change",
        actor=actor,
        case_number=case_number,
        note=note,
        before=before,
    )


@transaction.atomic
def licence_renew(
    *,
    actor: Any,
    licence: Licence,
    valid_until: Any = None,
    case_number: str = "",
    note: str = "",
) -> Licence:
    """延续: the validity extended (by the type's period from the old end, unless given)."""
    locked = _locked(licence)
    LICENCE_LIFECYCLE.check("renew", state=locked.status, actor=actor, obj=locked)
    if locked.valid_until is None:
        raise DomainError(_("该证照长期有效，无需延续。"))
    if valid_until in (None, ""):
        end = default_valid_until(
            locked.licence_type, locked.valid_until + dt.timedelta(days=1)
        )
        if end is None:
            raise InvalidInput(_("请填写延续后的有效期至。"), field="valid_until")
    else:
        end = _date(valid_until, field="valid_until", label=_("有效期至"))
    if end <= locked.valid_until:
        raise InvalidInput(
            _("延续后的有效期至应晚于原有效期至 %(date)s。")
            % {"date": locked.valid_until},
            field="valid_until",
        )
    before = _licence_facts(locked)
    locked.valid_until = end
    locked.reminded_for = None
    return _new_version(
        locked,
        kind=VersionKind.RENEW,
        action="licences.licence.renew",
        actor=actor,
        case_number=case_number,
        note=note,
        before=before,
    )


def _change_status(
    action: str,
    licence: Licence,
    actor: Any,
    *,
    reason: Any,
    case_number: Any = "",
    revoked: bool | None = None,
    suspended: bool | None = None,
) -> Licence:
    locked = _locked(licence)
    transition = LICENCE_LIFECYCLE.check(
        action, state=locked.status, actor=actor, obj=locked
    )
    text = _text(reason, field="reason", label=_("原因"), max_length=300)
    before = {"status": locked.status}
    locked.status, locked.status_reason = transition.target, text
    locked.save(update_fields=["status", "status_reason", "updated_at"])
    _set_bits(locked, revoked=revoked, suspended=suspended)
    case_number = _text(
        case_number,
        field="case_number",
        label=_("办件编号"),
        max_length=50,
        required=False,
    )
    if action == "cancel":
        LicenceVersion.objects.create(
            licence=locked,
            number=locked.version + 1,
            kind=VersionKind.CANCEL,
            case_number=case_number,
            note=text,
            fields=locked.fields,
            valid_until=locked.valid_until,
            created_at=clock.now(),
            created_by=actor if _is_user(actor) else None,
        )
    audit.record(
        actor=actor,
        action=f"licences.licence.{action}",
        target=locked,
        before=before,
        after={**_licence_facts(locked), "reason": text, "version_case": case_number},
    )
    _tell_holder(
        locked,
        _("电子证照状态变更：%(name)s") % {"name": locked.licence_type.name},
        _("您的“%(name)s”（%(number)s）%(status)s，原因：%(reason)s")
        % {
            "name": locked.licence_type.name,
            "number": locked.number,
            "status": locked.get_status_display(),
            "reason": text,
        },
    )
    return locked


@transaction.atomic
def licence_suspend(*, actor: Any, licence: Licence, reason: str) -> Licence:
    return _change_status("suspend", licence, actor, reason=reason, suspended=True)


@transaction.atomic
def licence_reinstate(*, actor: Any, licence: Licence, reason: str) -> Licence:
    return _change_status("reinstate", licence, actor, reason=reason, suspended=False)


@transaction.atomic
def licence_revoke(
    *, actor: Any, licence: Licence, reason: str, case_number: str = ""
) -> Licence:
    """吊销: the licence is withdrawn; its bit in the revocation list is set."""
    return _change_status(
        "revoke", licence, actor, reason=reason, case_number=case_number, revoked=True
    )


@transaction.atomic
def licence_cancel(
    *, actor: Any, licence: Licence, reason: str, case_number: str = ""
) -> Licence:
    """注销: the licence ends (the holder gave it up, the business closed); recorded as a version
    with the case that caused it, and marked in the revocation list."""
    return _change_status(
        "cancel", licence, actor, reason=reason, case_number=case_number, revoked=True
    )


# --- expiry and reminders -------------------------------------------------------------------------------


def holder_users(licence: Licence) -> list[User]:
    """The accounts a licence belongs to: the person with that ID number, or the enterprise's
    handlers in force."""
    if licence.holder_kind == HolderKind.PERSON:
        return list(
            User.objects.filter(
                id_number=licence.holder_id, is_active=True, kind=AccountKind.CITIZEN
            )
        )
    handlers = (
        EnterpriseHandler.objects.active()
        .filter(enterprise__uscc=licence.holder_id)
        .select_related("user")
    )
    return [handler.user for handler in handlers if handler.user.is_active]


def _tell_holder(licence: Licence, subject: str, body: str) -> None:
    for user in holder_users(licence):
        notify(
            recipient=user,
            subject=subject,
            body=body,
            channels=("inbox", "sms"),
            kind="licences.licence",
        )


@transaction.atomic
def licence_expire_due(*, actor: Any = None) -> int:
    """Licences past their last valid day become expired (a conditional update: a licence
    revoked meanwhile stays revoked). Returns how many."""
    transition = LICENCE_LIFECYCLE.transition("expire")
    due = Licence.objects.filter(
        status__in=transition.sources, valid_until__lt=clock.today()
    )
    ids = list(
        due.order_by("valid_until", "pk").values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if not ids:
        return 0
    expired = Licence.objects.filter(pk__in=ids, status__in=transition.sources).update(
        status=transition.target, status_reason=_("有效期届满"), updated_at=clock.now()
    )
    audit.record(
        actor=actor,
        action="licences.licence.expire",
        object_type="licences.licence",
        after={"licences": ids, "expired": expired},
    )
    return expired


@transaction.atomic
def licence_remind_due(*, actor: Any = None) -> int:
    """Tell holders whose valid licence ends within its type's reminder period (once per end
    date: a renewal clears the mark). Returns how many licences were reminded."""
    today = clock.today()
    candidates = (
        Licence.objects.filter(
            status=LicenceStatus.VALID,
            valid_until__gte=today,
            valid_until__lte=today + dt.timedelta(days=365),
        )
        .filter(Q(reminded_for__isnull=True) | ~Q(reminded_for=F("valid_until")))
        .select_related("licence_type", "department")
        .order_by("valid_until", "pk")[:SWEEP_BATCH]
    )
    reminded = []
    for licence in candidates:
        if (licence.valid_until - today).days > licence.licence_type.reminder_days:
            continue
        marked = (
            Licence.objects.filter(pk=licence.pk, status=LicenceStatus.VALID)
            .exclude(reminded_for=licence.valid_until)
            .update(reminded_for=licence.valid_until)
        )
        if marked != 1:
            continue
        _tell_holder(
            licence,
            _("电子证照即将到期：%(name)s") % {"name": licence.licence_type.name},
            _(
                "您的“%(name)s”（%(number)s）将于 %(date)s 到期，如需继续使用，请及时向%(department)s申请延续。"
            )
            % {
                "name": licence.licence_type.name,
                "number": licence.number,
                "date": licence.valid_until.isoformat(),
                "department": licence.department.name,
            },
        )
        reminded.append(licence.pk)
    if reminded:
        audit.record(
            actor=actor,
            action="licences.licence.remind",
            object_type="licences.licence",
            after={"licences": reminded},
        )
    return len(reminded)


@sweep(every_seconds=3600)
def licences_expiry_sweep() -> int:
    """Hourly: remind holders of licences about to expire, and expire those past their date."""
    return licence_remind_due(actor=None) + licence_expire_due(actor=None)


# --- sharing: staff lookups and holder downloads -----------------------------------------------------------


def handled_case(actor: Any, case_number: Any) -> Any:
    """A case the staff member handles: filed, in one of their own departments."""
    from onewindow.cases.selectors import staff_cases

    number = case_number.strip() if isinstance(case_number, str) else ""
    if not number:
        raise InvalidInput(
            _("调用他部门证照须填写您正在办理的办件编号。"), field="case_number"
        )
    case = (
        staff_cases(actor)
        .filter(number=number, department__in=staff_departments(actor))
        .first()
    )
    if case is None:
        raise PermissionDenied(
            _("办件 %(number)s 不是您所在部门正在办理的办件，不能据此调用证照。")
            % {"number": number}
        )
    return case


@transaction.atomic
def licence_lookup(
    *, actor: Any, number: str, case_number: str, purpose: str
) -> Licence:
    """Staff of any department look a licence up for a case they handle, saying why. The
    licence must be held by the case's applicant (person or enterprise); the access is logged
    for the holder to see."""
    from onewindow.cases.hooks import holder_ids

    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        raise PermissionDenied(_("只有工作人员可以调用证照。"))
    text = _text(purpose, field="purpose", label=_("调用用途"), max_length=PURPOSE_MAX)
    case = handled_case(actor, case_number)
    licence = (
        Licence.objects.select_related("licence_type", "department", "current_version")
        .filter(number=number.strip() if isinstance(number, str) else "")
        .first()
    )
    if licence is None or licence.holder_id not in holder_ids(case):
        raise NotFound(
            _("办件 %(case)s 的申请人名下没有编号为 %(number)s 的证照。")
            % {"case": case.number, "number": number}
        )
    LicenceAccess.objects.create(
        licence=licence,
        kind=AccessKind.LOOKUP,
        actor=actor,
        department=case.department,
        case_number=case.number,
        purpose=text,
        at=clock.now(),
    )
    audit.record(
        actor=actor,
        action="licences.licence.lookup",
        target=licence,
        after={"number": licence.number, "case_number": case.number, "purpose": text},
    )
    return licence


@transaction.atomic
def licence_record_download(
    *, actor: Any, licence: Licence, what: str
) -> LicenceAccess:
    """The holder (or the issuing department) downloaded the PDF or the data file."""
    access = LicenceAccess.objects.create(
        licence=licence,
        kind=AccessKind.DOWNLOAD,
        actor=actor,
        purpose=what,
        at=clock.now(),
    )
    audit.record(
        actor=actor,
        action="licences.licence.download",
        target=licence,
        after={"number": licence.number, "what": what},
    )
    return access


def shared_copy(licence: Licence, hidden: list[str]) -> str:
    """The current data file with the named facts hidden (selective disclosure); nothing is
    written, so it is not a service action."""
    if licence.current_version is None or not licence.current_version.document:
        raise DomainError(_("该证照没有可分享的数据文件。"))
    parsed = document.parse(licence.current_version.document)
    paths = [path for path in hidden if path]
    try:
        return document.obfuscate(parsed, paths).serialise().decode()
    except ValueError:
        raise InvalidInput(_("只能隐藏照面字段和持证人信息。"), field="hide") from None


# --- bulk import -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    rows: int
    errors: list[
        dict[str, Any]
    ]  # {"row": n (1 = first data row), "field": ..., "message": ...}
    numbers: list[str]
    dry_run: bool

    @property
    def ok(self) -> bool:
        return not self.errors


@transaction.atomic
def licence_import(
    *,
    actor: Any,
    licence_type: LicenceType,
    rows: list[dict[str, Any]],
    dry_run: bool = True,
) -> ImportReport:
    """Enter existing licences in bulk. Every row is checked first; with any error, or on a dry
    run, nothing is written and the report lists each problem by row. Otherwise all rows are
    issued and signed in this one transaction, all or none."""
    from onewindow.licences.imports import split_row

    licence_type = _usable_type(licence_type)
    if not may_issue(actor, licence_type.department):
        raise PermissionDenied(
            _("只有签发部门的部门管理员或首席代表可以导入该类证照。")
        )
    prepared: list[NewLicence] = []
    errors: list[dict[str, Any]] = []
    for position, row in enumerate(rows, start=1):
        try:
            prepared.append(prepare(licence_type, **split_row(licence_type, row)))
        except InvalidInput as exc:
            errors.append(
                {"row": position, "field": exc.field or "", "message": exc.message}
            )
    if errors or dry_run:
        return ImportReport(rows=len(rows), errors=errors, numbers=[], dry_run=dry_run)
    key, made = _active_key(licence_type.department, licence_type.algorithm)
    first = allocate_indexes(licence_type.department, len(prepared))
    numbers = [
        _create(licence_type, new, actor=actor, key=key, index=first + offset).number
        for offset, new in enumerate(prepared)
    ]
    audit.record(
        actor=actor,
        action="licences.licence.import",
        target=licence_type,
        after={
            "count": len(numbers),
            "numbers": numbers,
            "key_id": key.key_id,
            "key_created": made,
        },
    )
    return ImportReport(rows=len(rows), errors=[], numbers=numbers, dry_run=False)
