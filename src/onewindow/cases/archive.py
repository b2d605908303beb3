"""The electronic archive of a case (电子档案): a manifest of the case's facts, its documents,
its materials, its timeline and its audit entries, each file and entry with its hash.

The manifest is built once when the case is archived and its SHA-256 is written to the audit
ledger with the archive action, so a package exported later can be checked against both.

    data = export_package(case, base_url="https://zwfw.example.gov.cn")   # ZIP bytes
    report = verify_package(data, expected_sha256=case.archive.manifest_sha256)
    report = verify_with_records(data)   # the digest looked up in CaseArchive and the ledger
    report.ok, [p.message for p in report.problems]

`onewindow case_archive export NUMBER FILE` and `onewindow case_archive verify FILE` do the
same from the shell.
"""

import datetime as dt
import hashlib
import io
import json
import re
import shutil
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from onewindow.cases.documents import render_pdf
from onewindow.cases.models import Case, CaseArchive, CaseDocument
from onewindow.core import files
from onewindow.core.errors import DomainError, NotFound
from onewindow.core.models import AuditEntry, StoredFile

MANIFEST_VERSION = 1


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The canonical encoding the manifest's hash is taken over."""
    return json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _case_facts(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "item": case.item.name,
        "impl_code": case.item.impl_code,
        "version": case.version.number,
        "version_sha256": case.version.content_sha256,
        "department": case.department.name,
        "department_uscc": case.department.uscc,
        "region": case.region.code,
        "applicant": case.applicant.real_name or case.applicant.username,
        "channel": case.channel,
        "form_data": case.form_data,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "promised_due": case.promised_due,
        "legal_due": case.legal_due,
        "decision": case.decision,
        "decided_at": case.decided_at,
        "decision_opinion": case.decision_opinion,
        "decision_basis": case.decision_basis,
        "result_number": case.result_number,
        "completed_at": case.completed_at,
        "delivery_method": case.delivery_method,
        "delivered_at": case.delivered_at,
        "final_status": case.status,
        "visits": case.visits,
    }


def build_manifest(case: Case, *, archived_at: dt.datetime) -> dict[str, Any]:
    """The manifest as plain JSON values (dates and times as text), exactly as it is stored in
    `CaseArchive.manifest` and read back: its canonical bytes hash the same before and after."""
    return json.loads(manifest_bytes(_manifest(case, archived_at=archived_at)))


def _manifest(case: Case, *, archived_at: dt.datetime) -> dict[str, Any]:
    audit_entries = AuditEntry.objects.filter(object_type=case._meta.label_lower, object_id=str(case.pk)).order_by("id")
    return {
        "manifest_version": MANIFEST_VERSION,
        "archived_at": archived_at,
        "case": _case_facts(case),
        "documents": [
            {"kind": d.kind, "number": d.number, "issued_at": d.issued_at, "facts": d.facts}
            for d in case.documents.order_by("issued_at", "id")
        ],
        "materials": [
            {"material_key": m.material_key, "name": m.file.original_name if m.file else "",
             "sha256": m.file.sha256 if m.file else "", "size": m.file.size if m.file else 0,
             "token": m.file.token if m.file else "", "licence_number": m.licence_number}
            for m in case.materials.select_related("file").order_by("material_key", "id")
        ],
        "steps": [
            {"name": s.name, "kind": s.kind, "assignee": s.assignee.get_username() if s.assignee else "",
             "started_at": s.started_at, "finished_at": s.finished_at, "outcome": s.outcome, "opinion": s.opinion}
            for s in case.steps.select_related("assignee").order_by("started_at", "id")
        ],
        "special_procedures": [
            {"name": r.name, "kind": r.kind, "started_at": r.started_at, "ended_at": r.ended_at,
             "days_used": r.days_used, "result": r.result}
            for r in case.special_procedures.order_by("started_at", "id")
        ],
        "events": [
            {"at": e.at, "action": e.action, "from": e.from_status, "to": e.to_status, "note": e.note,
             "actor": e.actor.get_username() if e.actor else "system"}
            for e in case.events.select_related("actor").order_by("at", "id")
        ],
        "audit_entries": [
            {"id": entry.pk, "action": entry.action, "created_at": entry.created_at,
             "changes_sha256": hashlib.sha256(entry.changes.encode()).hexdigest()}
            for entry in audit_entries
        ],
    }


# --- the exported package ----------------------------------------------------------------------
#
#   manifest.json       the stored manifest, canonical bytes (`manifest_bytes`)
#   manifest.sha256     "<sha256>  manifest.json", the digest also in CaseArchive and on the ledger
#   documents/<number>.pdf      every document of the manifest, rendered from its frozen facts
#   documents.sha256    "<sha256>  documents/<number>.pdf" per document
#   materials/<key>/<n>-<name>  every material file, n counting the files of one material
#
# The checksum files follow `sha256sum`'s format, so `sha256sum -c` works on an unpacked copy.
# The PDFs are renderings of sealed facts: documents.sha256 shows they were not changed after
# export, the manifest (sealed by its digest) says what they state.

MANIFEST_NAME = "manifest.json"
MANIFEST_SUM_NAME = "manifest.sha256"
DOCUMENTS_SUM_NAME = "documents.sha256"

# Limits for a package read back (an upload, a file handed in): nothing is extracted to disk,
# and these keep a crafted archive from costing unbounded time or memory.
MAX_MEMBERS = 5000
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_SUM_BYTES = 4 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, for members bigger than RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
_CHUNK = 1024 * 1024
_ZIP64_FROM = (1 << 31) - 1  # members this big need ZIP64 sizes in their local header

_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f/\\<>:"|?*]')
_SUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


def _component(text: Any, fallback: str) -> str:
    """One path component of the package made from a manifest value: no separators, no
    control characters, no leading dots."""
    value = _UNSAFE_CHARS.sub("_", unicodedata.normalize("NFC", str(text or ""))).strip().lstrip(".").strip()
    return value[:150] or fallback


def document_path(number: str) -> str:
    return f"documents/{_component(number, 'document')}.pdf"


def material_path(material_key: str, n: int, name: str) -> str:
    return f"materials/{_component(material_key, 'material')}/{n}-{_component(name, 'file')}"


def _material_paths(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The package path of every material file the manifest lists (licence references have none)."""
    counts: dict[str, int] = {}
    paths = {}
    for entry in manifest.get("materials", []):
        if not isinstance(entry, dict) or not entry.get("sha256"):
            continue
        key = str(entry.get("material_key", ""))
        counts[key] = counts.get(key, 0) + 1
        paths[material_path(key, counts[key], str(entry.get("name", "")))] = entry
    return paths


def _document_paths(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {document_path(str(d.get("number", ""))): d for d in manifest.get("documents", []) if isinstance(d, dict)}


def _sum_lines(entries: list[tuple[str, str]]) -> bytes:
    return "".join(f"{digest}  {name}\n" for name, digest in entries).encode()


def _zip_time(manifest: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
    try:
        moment = timezone.localtime(dt.datetime.fromisoformat(str(manifest.get("archived_at"))))
    except (TypeError, ValueError):
        moment = timezone.localtime()
    return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _stored_document(case: Case, entry: dict[str, Any]) -> CaseDocument:
    """An unsaved document with the manifest's facts, so the PDF shows what was sealed."""
    issued_at = parse_datetime(str(entry.get("issued_at", ""))) or timezone.now()
    return CaseDocument(case=case, kind=entry.get("kind", ""), number=str(entry.get("number", "")),
                        issued_at=issued_at, facts=entry.get("facts") or {})


def _on_disk(stored_file: StoredFile) -> bool:
    try:
        return files.path_of(stored_file).is_file()
    except NotFound:
        return False


def write_package(case: Case, out: BinaryIO, *, base_url: str | None = None) -> CaseArchive:
    """Write the archive package of an archived case to `out` (a binary file open for writing).

    Raises DomainError when the case has no archive or a material file is gone from storage."""
    record = CaseArchive.objects.filter(case=case).select_related("case").first()
    if record is None:
        raise DomainError(_("该办件尚未归档，不能导出档案包。"))
    manifest = record.manifest
    raw = manifest_bytes(manifest)
    when = _zip_time(manifest)
    materials = _material_paths(manifest)
    stored = {f.token: f for f in StoredFile.objects.filter(token__in=[m.get("token") for m in materials.values()])}
    for path, entry in materials.items():
        if entry.get("token") not in stored or not _on_disk(stored[entry["token"]]):
            raise DomainError(_("归档材料“%(name)s”的文件已不在存储中，无法导出完整的档案包。") % {"name": path})

    def member(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=when)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    with zipfile.ZipFile(out, "w", allowZip64=True) as package:
        package.writestr(member(MANIFEST_NAME), raw)
        package.writestr(member(MANIFEST_SUM_NAME), _sum_lines([(MANIFEST_NAME, hashlib.sha256(raw).hexdigest())]))
        sums = []
        for path, entry in _document_paths(manifest).items():
            pdf = render_pdf(_stored_document(record.case, entry), base_url=base_url)
            package.writestr(member(path), pdf)
            sums.append((path, hashlib.sha256(pdf).hexdigest()))
        package.writestr(member(DOCUMENTS_SUM_NAME), _sum_lines(sums))
        for path, entry in materials.items():
            stored_file = stored[entry["token"]]
            with files.open_stored(stored_file) as source, package.open(
                member(path), "w", force_zip64=stored_file.size >= _ZIP64_FROM
            ) as target:
                shutil.copyfileobj(source, target, _CHUNK)
    return record


def export_package(case: Case, *, base_url: str | None = None) -> bytes:
    """The archive package of an archived case as ZIP bytes (see `write_package`)."""
    buffer = io.BytesIO()
    write_package(case, buffer, base_url=base_url)
    return buffer.getvalue()


def package_name(case: Case) -> str:
    """A file name for the downloaded package."""
    return f"{_component(case.number, 'case')}-archive.zip"


# --- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    member: str = ""


@dataclass
class VerifyReport:
    """What `verify_package` found: each failed check with a translated message."""

    problems: list[Problem] = field(default_factory=list)
    case_number: str = ""
    manifest_sha256: str = ""
    documents: int = 0
    materials: int = 0
    # Where the manifest digest was confirmed from ("归档记录", "审计账本", "给定的摘要").
    sealed_by: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, message: str, member: str = "") -> None:
        self.problems.append(Problem(code, message, member))


class _Unsafe(Exception):
    pass


def _unsafe_name(name: str) -> bool:
    if not name or name.startswith("/") or "\\" in name or re.match(r"^[A-Za-z]:", name):
        return True
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return True
    parts = name.rstrip("/").split("/")
    return any(part in ("", ".", "..") for part in parts)


def _check_members(package: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The file members by name, after refusing anything unsafe to read."""
    infos = package.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _Unsafe(_("档案包包含的文件过多（超过 %(n)s 个），拒绝处理。") % {"n": MAX_MEMBERS})
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise _Unsafe(_("档案包中的文件名“%(name)s”不安全（绝对路径、上级目录或控制字符），拒绝处理。")
                          % {"name": name.encode("unicode_escape").decode()})
        if info.flag_bits & 0x1 or (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise _Unsafe(_("档案包中的“%(name)s”已加密或是符号链接，拒绝处理。") % {"name": name})
        if info.is_dir():
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Unsafe(_("档案包中的“%(name)s”使用了不支持的压缩方式。") % {"name": name})
        if name in members:
            raise _Unsafe(_("档案包中的文件“%(name)s”重复出现，拒绝处理。") % {"name": name})
        total += info.file_size
        too_dense = info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES or too_dense:
            raise _Unsafe(_("档案包中的“%(name)s”解压后过大或压缩比异常，拒绝处理。") % {"name": name})
        members[name] = info
    return members


def _digest(package: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    digest, size = hashlib.sha256(), 0
    with package.open(info) as handle:
        while chunk := handle.read(_CHUNK):
            size += len(chunk)
            if size > info.file_size:  # zipfile stops at the declared size; this is a second guard
                raise zipfile.BadZipFile(info.filename)
            digest.update(chunk)
    return digest.hexdigest()


def _read(package: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise _Unsafe(_("档案包中的“%(name)s”过大，拒绝处理。") % {"name": info.filename})
    with package.open(info) as handle:
        return handle.read(limit + 1)[:limit]


# What reading a hostile or damaged zip member may raise; zipfile raises NotImplementedError
# for a compression method it does not support.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError)


def _parse_sums(data: bytes) -> dict[str, str] | None:
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return None
    sums: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _SUM_LINE.match(line)
        if match is None or match.group(2) in sums:
            return None
        sums[match.group(2)] = match.group(1)
    return sums


ExpectedDigests = Callable[[VerifyReport, dict[str, Any]], list[tuple[str, str]]]


def _verify(data: bytes, expected: ExpectedDigests) -> VerifyReport:
    report = VerifyReport()
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        report.add("not_zip", _("这不是一个有效的档案包（ZIP 文件）。"))
        return report
    with package:
        try:
            members = _check_members(package)
        except _Unsafe as refused:
            report.add("unsafe", str(refused))
            return report
        try:
            _verify_members(package, members, report, expected)
        except _Unsafe as refused:
            report.add("unsafe", str(refused))
    return report


def _verify_members(package: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], report: VerifyReport,
                    expected: ExpectedDigests) -> None:
    def corrupt(name: str) -> None:
        report.add("corrupt", _("档案包中的文件“%(name)s”已损坏，无法读取。") % {"name": name}, name)

    texts: dict[str, bytes] = {}
    for name, limit in ((MANIFEST_NAME, MAX_MANIFEST_BYTES), (MANIFEST_SUM_NAME, MAX_SUM_BYTES),
                        (DOCUMENTS_SUM_NAME, MAX_SUM_BYTES)):
        if name not in members:
            report.add("missing", _("档案包缺少“%(name)s”。") % {"name": name}, name)
            continue
        try:
            texts[name] = _read(package, members[name], limit)
        except _READ_ERRORS:
            corrupt(name)
    if MANIFEST_NAME not in texts:
        return
    raw = texts[MANIFEST_NAME]
    report.manifest_sha256 = hashlib.sha256(raw).hexdigest()
    if MANIFEST_SUM_NAME in texts:
        declared = _parse_sums(texts[MANIFEST_SUM_NAME])
        if declared is None or set(declared) != {MANIFEST_NAME}:
            report.add("sum_invalid", _("“%(name)s”的格式不对。") % {"name": MANIFEST_SUM_NAME}, MANIFEST_SUM_NAME)
        elif declared[MANIFEST_NAME] != report.manifest_sha256:
            report.add("manifest_hash", _("归档清单的摘要与 manifest.sha256 不符：清单被改动过。"), MANIFEST_NAME)
    try:
        manifest = json.loads(raw)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("case"), dict):
            raise ValueError
        if not all(isinstance(manifest.get(key, []), list) for key in ("documents", "materials")):
            raise ValueError
    except (ValueError, UnicodeDecodeError, RecursionError):
        report.add("manifest_invalid", _("归档清单不是有效的 JSON，或缺少办件、文书、材料部分。"), MANIFEST_NAME)
        return
    report.case_number = str(manifest["case"].get("number") or "")
    for source, digest in expected(report, manifest):
        if digest != report.manifest_sha256:
            report.add("manifest_sealed", _("归档清单的摘要 %(actual)s 与%(source)s中的 %(expected)s 不符：这不是归档时封存的清单。")
                       % {"actual": report.manifest_sha256, "source": source, "expected": digest}, MANIFEST_NAME)
        else:
            report.sealed_by.append(source)

    materials = _material_paths(manifest)
    documents = _document_paths(manifest)
    report.materials, report.documents = len(materials), len(documents)
    for path, entry in materials.items():
        if path not in members:
            report.add("material_missing", _("缺少材料文件“%(name)s”。") % {"name": path}, path)
            continue
        try:
            digest = _digest(package, members[path])
        except _READ_ERRORS:
            corrupt(path)
            continue
        if digest != entry.get("sha256") or members[path].file_size != entry.get("size", members[path].file_size):
            report.add("material_hash", _("材料文件“%(name)s”的摘要与归档清单不符：文件被改动过。") % {"name": path}, path)

    listed = _parse_sums(texts[DOCUMENTS_SUM_NAME]) if DOCUMENTS_SUM_NAME in texts else None
    if listed is None and DOCUMENTS_SUM_NAME in texts:
        report.add("sum_invalid", _("“%(name)s”的格式不对。") % {"name": DOCUMENTS_SUM_NAME}, DOCUMENTS_SUM_NAME)
    usable, listed = listed is not None, listed or {}
    for path in documents:
        if path not in members:
            report.add("document_missing", _("缺少文书“%(name)s”。") % {"name": path}, path)
            continue
        if path not in listed:
            if usable:  # a missing or unreadable checksum list is reported once, above
                report.add("document_unlisted", _("文书“%(name)s”不在 documents.sha256 中。") % {"name": path}, path)
            continue
        try:
            digest = _digest(package, members[path])
        except _READ_ERRORS:
            corrupt(path)
            continue
        if digest != listed[path]:
            report.add("document_hash", _("文书“%(name)s”的摘要与 documents.sha256 不符：文书被改动过。") % {"name": path},
                       path)
    for path in sorted(set(listed) - set(documents)):
        report.add("document_extra", _("documents.sha256 列出了归档清单中没有的文书“%(name)s”。") % {"name": path}, path)
    known = {MANIFEST_NAME, MANIFEST_SUM_NAME, DOCUMENTS_SUM_NAME, *materials, *documents}
    for name in sorted(set(members) - known):
        report.add("extra", _("档案包中有归档清单以外的文件“%(name)s”。") % {"name": name}, name)


def verify_package(data: bytes, *, expected_sha256: str | None = None) -> VerifyReport:
    """Check an archive package: the manifest against manifest.sha256 (and `expected_sha256`,
    the digest kept in CaseArchive and on the ledger, when given), every material file
    against the manifest, every PDF against documents.sha256, nothing missing or extra.
    A package with unsafe member names or sizes (zip bombs) is refused before anything is read."""
    given = str(expected_sha256 or "").strip().lower()
    return _verify(data, lambda report, manifest: [(_("给定的摘要"), given)] if given else [])


def sealed_digests(case_number: str) -> list[tuple[str, str]]:
    """The manifest digest this database holds for the case: in its CaseArchive and on the
    audit ledger entry of the archive action (source label, digest)."""
    case = Case.objects.filter(number=case_number).first() if case_number else None
    if case is None:
        return []
    found = []
    record = CaseArchive.objects.filter(case=case).first()
    if record is not None:
        found.append((_("归档记录"), record.manifest_sha256))
    entry = (AuditEntry.objects.filter(action="cases.archive", object_type=case._meta.label_lower,
                                       object_id=str(case.pk)).order_by("-id").first())
    if entry is not None:
        try:
            digest = json.loads(entry.changes).get("after", {}).get("manifest_sha256")
        except (ValueError, AttributeError):
            digest = None
        if isinstance(digest, str) and digest:
            found.append((_("审计账本"), digest))
    return found


def verify_with_records(data: bytes, *, expected_sha256: str | None = None) -> VerifyReport:
    """`verify_package`, with the manifest digest also compared to what this database sealed
    for the case the manifest names (CaseArchive and the ledger). `report.sealed_by` is empty
    when neither a digest was given nor the database knows an archive of that case: then only
    the package's own consistency was checked."""
    given = str(expected_sha256 or "").strip().lower()

    def expected(report: VerifyReport, manifest: dict[str, Any]) -> list[tuple[str, str]]:
        return [*([(_("给定的摘要"), given)] if given else []), *sealed_digests(report.case_number)]

    return _verify(data, expected)
