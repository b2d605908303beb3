"""Reads of the licence library, scoped by the actor.

- A holder sees the licences held under their ID number and under the USCC of every enterprise
  they act for (居民/法人电子证照目录), with the log of who used each one.
- Staff of the issuing department (and platform administrators) see the department's licences.
  Staff of other departments see a licence only through `services.licence_lookup` (a case they
  handle, a purpose, logged).
- Verification is public: the trusted-issuer registry, the status lists, and a licence's
  verification by its number or by its data file.
Anyone else gets NotFound.
"""

import base64
import datetime as dt
import functools
import gzip
from typing import Any

from django.db import connection
from django.db.models import BinaryField, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from onewindow.accounts.choices import AccountKind
from onewindow.accounts.permissions import is_platform_admin, staff_departments
from onewindow.accounts.selectors import enterprise_links_of
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.core.models import Department
from onewindow.licences import clock, crypto, document, services, verification
from onewindow.licences.choices import KeyStatus, LicenceStatus
from onewindow.licences.models import (
    Licence,
    LicenceAccess,
    LicenceType,
    LicenceVersion,
    SigningKey,
    StatusList,
)

_RELATED = ("licence_type", "department", "current_version__key__department")


def _is_user(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.is_active)


# --- holders ---------------------------------------------------------------------------------------


def holder_ids_of(actor: Any) -> list[str]:
    """The identifiers `actor` holds licences under: their ID number, their enterprises' USCCs."""
    if not _is_user(actor) or actor.kind == AccountKind.STAFF:
        return []
    ids = [actor.id_number] if actor.id_number else []
    ids += [link.enterprise.uscc for link in enterprise_links_of(actor)]
    return ids


def my_licences(actor: Any) -> QuerySet[Licence]:
    return Licence.objects.filter(holder_id__in=holder_ids_of(actor)).select_related(
        *_RELATED
    )


def my_licence(actor: Any, number: str) -> Licence:
    licence = (
        my_licences(actor).filter(number=number).first()
        if isinstance(number, str)
        else None
    )
    if licence is None:
        raise NotFound(_("没有找到该证照。"))
    return licence


def accesses(licence: Licence) -> QuerySet[LicenceAccess]:
    """Who used the licence, newest first (for its holder or its issuing department)."""
    return licence.accesses.select_related("actor", "department").order_by("-at", "-id")


# --- the issuing department ---------------------------------------------------------------------------


def department_licences(actor: Any) -> QuerySet[Licence]:
    """Licences issued by the actor's departments (every licence for a platform administrator)."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return Licence.objects.none()
    licences = Licence.objects.select_related(*_RELATED)
    if is_platform_admin(actor):
        return licences
    return licences.filter(department__in=staff_departments(actor))


def department_licence(actor: Any, number: str) -> Licence:
    licence = (
        department_licences(actor).filter(number=number).first()
        if isinstance(number, str)
        else None
    )
    if licence is None:
        raise NotFound(_("没有找到该证照，或它不是本部门签发的。"))
    return licence


def licence_types(actor: Any) -> QuerySet[LicenceType]:
    """Active licence types the actor's departments issue (all, for a platform administrator)."""
    types = LicenceType.objects.filter(is_active=True).select_related("department")
    if is_platform_admin(actor):
        return types
    return types.filter(department__in=staff_departments(actor))


def licence_type(actor: Any, code: str) -> LicenceType:
    found = (
        licence_types(actor).filter(code=code).first()
        if isinstance(code, str)
        else None
    )
    if found is None:
        raise NotFound(_("没有找到该证照类型。"))
    return found


# --- verification (public) --------------------------------------------------------------------------


def _trusted(key: SigningKey) -> verification.TrustedKey:
    return verification.TrustedKey(
        key_id=key.key_id,
        algorithm=key.algorithm,
        public_key=key.public_key,
        issuer_uscc=key.department.uscc,
        issuer_name=key.department.name,
        status=key.status,
        created_at=key.created_at,
        retired_at=key.retired_at,
        issuer_active=key.department.is_active,
    )


def trusted_key(key_id: str) -> verification.TrustedKey | None:
    key = SigningKey.objects.select_related("department").filter(key_id=key_id).first()
    return _trusted(key) if key is not None else None


def listed_status(uscc: str, index: int) -> verification.ListedStatus | None:
    """The licence's two bits in the issuer's status lists, reading one byte of each."""
    if index < 0:
        return None
    position = index // 8 + 1
    rows = (
        StatusList.objects.filter(department__uscc=uscc)
        .annotate(
            revoked=Substr("revoked_bits", position, 1, output_field=BinaryField()),
            suspended=Substr("suspended_bits", position, 1, output_field=BinaryField()),
        )
        .values_list("revoked", "suspended", "next_index")
        .order_by()[:1]
    )
    row = rows[0] if rows else None
    if row is None or index >= row[2]:
        return None
    mask = 0x80 >> (index % 8)
    return verification.ListedStatus(
        revoked=bool(bytes(row[0])[0] & mask), suspended=bool(bytes(row[1])[0] & mask)
    )


def library_record(number: str) -> verification.LibraryRecord | None:
    licence = (
        Licence.objects.filter(number=number)
        .only("version", "status", "status_reason")
        .first()
    )
    return _record(licence) if licence is not None else None


def _record(licence: Licence) -> verification.LibraryRecord:
    return verification.LibraryRecord(
        version=licence.version,
        status=licence.status,
        status_label=licence.get_status_display(),
        reason=licence.status_reason,
    )


def verify_file(raw: bytes) -> verification.Report:
    """A data file someone holds, checked against the registry, the status lists and the library."""
    return verification.verify_file(
        raw,
        keys=trusted_key,
        statuses=listed_status,
        library=library_record,
        today=clock.today(),
    )


def clean_number(number: Any) -> str:
    text = number.strip().upper() if isinstance(number, str) else ""
    if not text:
        raise InvalidInput(_("请输入证照编号。"), field="number")
    return text


@functools.cache
def _verification_sql() -> str:
    """One statement for everything a verification by number needs: the licence's state, its
    current data file, the key that signed it with its department, and the licence's two bytes
    of the status lists. It is the public endpoint's whole database work, so it is written out
    once rather than composed by the ORM on every request (measured: about half the time)."""
    licence, version, key = (
        Licence._meta.db_table,
        LicenceVersion._meta.db_table,
        SigningKey._meta.db_table,
    )
    department, listing = Department._meta.db_table, StatusList._meta.db_table
    byte = "CAST(l.status_index / 8 + 1 AS INTEGER)"
    return (
        f"SELECT l.number, l.version, l.status, l.status_reason, l.status_index, v.document, k.key_id, "
        f"k.algorithm, k.public_key, k.status, k.created_at, k.retired_at, d.uscc, d.name, d.is_active, "
        f"SUBSTR(s.revoked_bits, {byte}, 1), SUBSTR(s.suspended_bits, {byte}, 1), s.next_index "
        f"FROM {licence} l JOIN {version} v ON v.id = l.current_version_id "
        f"JOIN {key} k ON k.id = v.key_id JOIN {department} d ON d.id = k.department_id "
        f"LEFT JOIN {listing} s ON s.department_id = l.department_id WHERE l.number = %s"
    )


def _verification_row(number: str) -> tuple[Any, ...] | None:
    """The row of `_verification_sql` for the licence numbered `number`. On PostgreSQL the
    connection prepares it once it has run it a few times (the settings' `prepare_threshold`):
    planning its five-table join cost the server more than running it (measured: about 0.8 of
    1.0 ms per verification)."""
    with connection.cursor() as cursor:
        cursor.execute(_verification_sql(), [number])
        return cursor.fetchone()


def _aware(value: Any) -> dt.datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, dt.UTC)


def verify_number(number: Any) -> verification.Report | None:
    """The library's current data file of the licence numbered `number` (None when there is no
    such licence), checked as any file would be: a record changed in the database fails
    integrity like a changed file."""
    text = clean_number(number)
    if len(text) > 40:
        return None
    row = _verification_row(text)
    if row is None:
        return None
    (
        number_,
        version,
        status,
        reason,
        index,
        signed,
        key_id,
        algorithm,
        public_key,
        key_status,
        created_at,
        retired_at,
        uscc,
        department_name,
        department_active,
        revoked,
        suspended,
        listed,
    ) = row
    key = verification.TrustedKey(
        key_id=key_id,
        algorithm=algorithm,
        public_key=public_key,
        issuer_uscc=uscc,
        issuer_name=department_name,
        status=key_status,
        created_at=_aware(created_at),
        retired_at=_aware(retired_at),
        issuer_active=bool(department_active),
    )
    record = verification.LibraryRecord(
        version=version,
        status=status,
        reason=reason,
        status_label=str(LicenceStatus(status).label),
    )

    def statuses(issuer: str, at: int) -> verification.ListedStatus | None:
        if (issuer, at) != (
            uscc,
            index,
        ):  # the file names another list position: read that one
            return listed_status(issuer, at)
        if revoked is None or index >= listed:
            return None
        mask = 0x80 >> (index % 8)
        return verification.ListedStatus(
            revoked=bool(bytes(revoked)[0] & mask),
            suspended=bool(bytes(suspended)[0] & mask),
        )

    return verification.verify_file(
        signed,
        keys=lambda wanted: key if wanted == key_id else trusted_key(wanted),
        statuses=statuses,
        library=lambda wanted: record if wanted == number_ else library_record(wanted),
        today=clock.today(),
    )


def verify_licence(licence: Licence) -> verification.Report:
    report = verify_number(licence.number)
    return (
        report if report is not None else verification.malformed_report("no document")
    )


def masked(value: Any) -> str:
    """An identifier shown on the public page: the first 4 and last 4 characters."""
    text = str(value or "")
    return text if len(text) <= 8 else f"{text[:4]}{'*' * (len(text) - 8)}{text[-4:]}"


def public_facts(report: verification.Report) -> dict[str, Any]:
    """What the public verification page shows: the holder's identifier masked."""
    facts = dict(report.facts)
    if "holder.id" in facts:
        facts["holder.id"] = masked(facts["holder.id"])
    return facts


def issuer_registry() -> list[dict[str, Any]]:
    """The trusted-issuer registry as published (and as the offline verifier reads it)."""
    keys = SigningKey.objects.select_related("department").order_by(
        "department__uscc", "created_at"
    )
    return [
        {
            "key_id": key.key_id,
            "algorithm": key.algorithm,
            "public_key": key.public_key,
            "issuer_uscc": key.department.uscc,
            "issuer_name": key.department.name,
            "issuer_active": key.department.is_active,
            "status": key.status,
            "created_at": key.created_at.isoformat(),
            "retired_at": key.retired_at.isoformat() if key.retired_at else None,
        }
        for key in keys
    ]


def registry_lookup(entries: list[dict[str, Any]]) -> verification.KeyLookup:
    """A key lookup over a published registry (a file the offline verifier was given)."""
    keys = {}
    for entry in entries:
        keys[entry["key_id"]] = verification.TrustedKey(
            key_id=entry["key_id"],
            algorithm=entry["algorithm"],
            public_key=entry["public_key"],
            issuer_uscc=entry["issuer_uscc"],
            issuer_name=entry["issuer_name"],
            status=entry["status"],
            created_at=dt.datetime.fromisoformat(entry["created_at"]),
            retired_at=dt.datetime.fromisoformat(entry["retired_at"])
            if entry.get("retired_at")
            else None,
            issuer_active=bool(entry.get("issuer_active", True)),
        )
    return keys.get


STATUS_PURPOSES = ("revocation", "suspension")


def status_list_credential(uscc: str) -> dict[str, Any]:
    """The department's status lists as published: for each purpose, the bitstring gzipped and
    base64url-encoded with the multibase prefix "u" (W3C Bitstring Status List), and the whole
    signed by the department's key as a licence data file would be."""
    listing = (
        StatusList.objects.select_related("department")
        .filter(department__uscc=uscc)
        .first()
    )
    if listing is None:
        raise NotFound(_("没有找到该签发机构的状态列表。"))
    key = (
        SigningKey.objects.select_related("department")
        .filter(department=listing.department, status=KeyStatus.ACTIVE)
        .order_by("-created_at")
        .first()
    )
    lists = {
        "revocation": "u"
        + base64.urlsafe_b64encode(gzip.compress(bytes(listing.revoked_bits), mtime=0))
        .decode()
        .rstrip("="),
        "suspension": "u"
        + base64.urlsafe_b64encode(
            gzip.compress(bytes(listing.suspended_bits), mtime=0)
        )
        .decode()
        .rstrip("="),
    }
    body = {
        "type": "BitstringStatusList",
        "issuer": uscc,
        "length": listing.next_index,
        "validFrom": listing.updated_at.isoformat(),
        "encodedLists": lists,
    }
    proof = None
    if key is not None:
        facts = {
            "issuer.uscc": uscc,
            "issuedAt": clock.now().isoformat(),
            "length": listing.next_index,
            **{f"list.{purpose}": encoded for purpose, encoded in lists.items()},
        }
        proof = services.sign_facts(facts, key)
    return {**body, "proof": proof}


STATUS_LIST_FACTS = frozenset(
    {"issuer.uscc", "issuedAt", "length", "list.revocation", "list.suspension"}
)


def check_status_list(
    credential: dict[str, Any], keys: verification.KeyLookup
) -> str | None:
    """Why a published status list cannot be trusted, or None: its proof must be a file signed
    by a trusted key of its issuer that states the same lists."""
    try:
        proof = document.parse(credential["proof"], required=STATUS_LIST_FACTS)
    except (document.Malformed, KeyError, TypeError):
        return _("状态列表没有有效的签名。")
    key = keys(proof.signature.key_id)
    if (
        key is None
        or key.issuer_uscc != credential.get("issuer")
        or key.status == KeyStatus.REVOKED
    ):
        return _("状态列表不是由可信签发机构签名的。")
    if not proof.hash_consistent() or not crypto.signer(key.algorithm).verify(
        key.public_key, proof.signed_message(), proof.signature.value
    ):
        return _("状态列表的签名无效。")
    lists = credential.get("encodedLists") or {}
    if (
        proof.value("list.revocation"),
        proof.value("list.suspension"),
        proof.value("length"),
    ) != (lists.get("revocation"), lists.get("suspension"), credential.get("length")):
        return _("状态列表与其签名的内容不符。")
    return None


def decode_status_lists(credential: dict[str, Any]) -> dict[str, bytes]:
    """The bitstrings of a published status list credential."""
    lists = {}
    for purpose in STATUS_PURPOSES:
        encoded = credential["encodedLists"][purpose]
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise ValueError("encodedList must be multibase base64url ('u')")
        raw = encoded[1:] + "=" * (-len(encoded[1:]) % 4)
        lists[purpose] = gzip.decompress(base64.urlsafe_b64decode(raw))
    return lists


def file_status_lookup(credentials: list[dict[str, Any]]) -> verification.StatusLookup:
    """A status lookup over published status lists (files the offline verifier was given)."""
    by_issuer = {
        credential["issuer"]: (decode_status_lists(credential), credential["length"])
        for credential in credentials
    }

    def lookup(uscc: str, index: int) -> verification.ListedStatus | None:
        found = by_issuer.get(uscc)
        if found is None or not 0 <= index < found[1]:
            return None
        lists, _length = found
        byte, mask = index // 8, 0x80 >> (index % 8)
        return verification.ListedStatus(
            revoked=bool(lists["revocation"][byte] & mask),
            suspended=bool(lists["suspension"][byte] & mask),
        )

    return lookup


def hideable_paths(licence: Licence) -> list[tuple[str, str]]:
    """(path, label) of the facts a holder may hide in a shared copy."""
    labels = field_labels(licence.licence_type)
    paths = [("holder.id", _("持证人证件号码")), ("holder.name", _("持证人名称"))]
    paths += [(f"field.{key}", labels.get(key, key)) for key in licence.fields]
    return [(path, label) for path, label in paths if document.hideable(path)]


def search_department(actor: Any, text: str, *, status: str = "") -> QuerySet[Licence]:
    """The department's licences with that number, holder identifier or holder name (all when
    `text` is empty), of that status (any when empty), newest first."""
    licences = department_licences(actor)
    text = text.strip() if isinstance(text, str) else ""
    if text:
        licences = licences.filter(
            Q(number=text.upper()) | Q(holder_id=text.upper()) | Q(holder_name=text)
        )
    if status:
        licences = licences.filter(status=status)
    return licences.order_by("-issued_on", "-id")


def issuable_types(actor: Any) -> list[LicenceType]:
    """The active licence types the actor may issue (see `services.may_issue`)."""
    return [
        found
        for found in licence_types(actor)
        if services.may_issue(actor, found.department)
    ]


def field_labels(licence_type: LicenceType) -> dict[str, str]:
    """The labels of a licence type's fields, by key."""
    return {
        spec["key"]: spec.get("label") or spec["key"] for spec in licence_type.fields
    }
