"""The electronic archive package of a case: exported after archiving through the services,
verified against its manifest, its checksums and the digest sealed on the audit ledger; every
kind of tampering detected; unsafe packages refused; the `case_archive` command."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from onewindow.cases import archive, services
from onewindow.cases.models import CaseArchive
from onewindow.core import files
from onewindow.core.errors import DomainError
from onewindow.core.models import AuditEntry

BASE = "https://zwfw.example.gov.cn"


@pytest.fixture
def archived(world, delivered_case):
    """archived(decision=...) → (case, CaseArchive) of a delivered case archived by the window."""

    def make(**options):
        case = delivered_case(**options)
        record = services.case_archive(actor=world.clerk, case=case)
        return record.case, CaseArchive.objects.get(pk=record.pk)

    return make


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {info.filename: package.read(info) for info in package.infolist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in members.items():
            package.writestr(name, content)
    return buffer.getvalue()


def _codes(report) -> list[str]:
    return [problem.code for problem in report.problems]


def test_the_stored_manifest_hashes_to_the_digest_on_record_and_on_the_ledger(archived):
    case, record = archived()
    assert hashlib.sha256(archive.manifest_bytes(record.manifest)).hexdigest() == record.manifest_sha256
    entry = AuditEntry.objects.get(action="cases.archive", object_id=str(case.pk))
    assert json.loads(entry.changes)["after"]["manifest_sha256"] == record.manifest_sha256
    assert archive.sealed_digests(case.number) == [("归档记录", record.manifest_sha256),
                                                   ("审计账本", record.manifest_sha256)]


@pytest.mark.parametrize("decision", ["approved", "denied"])
def test_export_holds_manifest_documents_and_materials_and_verifies(archived, decision):
    case, record = archived(decision=decision)
    data = archive.export_package(case, base_url=BASE)
    members = _members(data)
    numbers = list(case.documents.order_by("id").values_list("number", flat=True))
    assert set(members) == {
        "manifest.json", "manifest.sha256", "documents.sha256",
        *(f"documents/{number}.pdf" for number in numbers),
        "materials/application/1-申请表.png", "materials/site_photos/1-现场照片.png",
        "materials/site_photos/2-现场照片.png",
    }
    assert members["manifest.json"] == archive.manifest_bytes(record.manifest)
    assert members["manifest.sha256"] == f"{record.manifest_sha256}  manifest.json\n".encode()
    stored = {material.file.sha256 for material in case.materials.select_related("file")}
    assert {hashlib.sha256(content).hexdigest() for name, content in members.items()
            if name.startswith("materials/")} == stored and len(stored) == 3
    assert all(members[f"documents/{number}.pdf"].startswith(b"%PDF-") for number in numbers)
    listed = dict(reversed(line.split("  ")) for line in members["documents.sha256"].decode().splitlines())
    assert listed == {f"documents/{n}.pdf": hashlib.sha256(members[f"documents/{n}.pdf"]).hexdigest() for n in numbers}

    report = archive.verify_package(data, expected_sha256=record.manifest_sha256)
    assert report.ok, report.problems
    assert (report.case_number, report.documents, report.materials) == (case.number, len(numbers), 3)
    assert report.sealed_by == ["给定的摘要"]
    assert archive.verify_with_records(data).sealed_by == ["归档记录", "审计账本"]


def test_every_kind_of_tampering_is_detected(archived):
    case, record = archived()
    data = archive.export_package(case, base_url=BASE)
    members = _members(data)
    photo = "materials/site_photos/2-现场照片.png"
    document = next(name for name in members if name.startswith("documents/") and name.endswith("XK01.pdf"))

    def verify(changed: dict[str, bytes | None], expected: str | None = record.manifest_sha256):
        rebuilt = {name: content for name, content in {**members, **changed}.items() if content is not None}
        return archive.verify_package(_zip(rebuilt), expected_sha256=expected)

    assert verify({}).ok
    flipped = bytearray(members[photo])
    flipped[20] ^= 0x01
    assert _codes(verify({photo: bytes(flipped)})) == ["material_hash"]

    manifest = json.loads(members["manifest.json"])
    manifest["case"]["decision"] = "denied"
    forged = archive.manifest_bytes(manifest)
    assert _codes(verify({"manifest.json": forged})) == ["manifest_hash", "manifest_sealed"]
    # Forging the checksum too deceives only a reader without the sealed digest.
    resummed = {"manifest.json": forged,
                "manifest.sha256": f"{hashlib.sha256(forged).hexdigest()}  manifest.json\n".encode()}
    assert verify(resummed, expected=None).ok
    report = verify(resummed)
    assert _codes(report) == ["manifest_sealed"] and record.manifest_sha256 in report.problems[0].message

    assert _codes(verify({"materials/site_photos/3-另一张.png": b"\x89PNG extra"})) == ["extra"]
    assert _codes(verify({"README.txt": b"hello"})) == ["extra"]
    assert _codes(verify({document: None})) == ["document_missing"]
    assert _codes(verify({document: members[document] + b"\n% appended"})) == ["document_hash"]
    assert _codes(verify({photo: None})) == ["material_missing"]
    assert _codes(verify({"documents.sha256": members["documents.sha256"] + b"0" * 64 + b"  documents/X.pdf\n"})
                  ) == ["document_extra"]
    assert _codes(verify({"manifest.sha256": None})) == ["missing"]
    assert _codes(verify({"documents.sha256": b"not a checksum list"})) == ["sum_invalid"]
    messages = [p.message for p in verify({photo: bytes(flipped), document: None}).problems]
    assert messages == [f"材料文件“{photo}”的摘要与归档清单不符：文件被改动过。", f"缺少文书“{document}”。"]


def test_a_material_changed_in_storage_after_archiving_shows_in_the_export(archived):
    case, record = archived()
    material = case.materials.select_related("file").get(material_key="application")
    with open(files.path_of(material.file), "r+b") as stored:
        stored.seek(-1, 2)
        stored.write(b"\x00")
    report = archive.verify_package(archive.export_package(case), expected_sha256=record.manifest_sha256)
    assert _codes(report) == ["material_hash"] and report.problems[0].member == "materials/application/1-申请表.png"


def test_a_material_gone_from_storage_stops_the_export(archived):
    case, record = archived()
    material = case.materials.select_related("file").get(material_key="application")
    files.path_of(material.file).unlink()
    with pytest.raises(DomainError, match="已不在存储中"):
        archive.export_package(case)


def _raw_zip(name: str, content: bytes, *, compress=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compress) as package:
        package.writestr("manifest.json", b"{}")
        info = zipfile.ZipInfo(name)
        info.compress_type = compress
        package.writestr(info, content)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["../../etc/cron.d/evil", "/etc/passwd", "materials/../../x", "C:/Windows/x.dll",
                                  "materials\\..\\x", "documents/a\x01.pdf"])
def test_path_traversal_is_refused_before_reading(name):
    report = archive.verify_package(_raw_zip(name, b"x"))
    assert _codes(report) == ["unsafe"] and "不安全" in report.problems[0].message


def test_zip_bombs_and_non_zips_are_refused_cleanly(monkeypatch):
    bomb = _raw_zip("materials/a/1-zeros.png", bytes(20 * 1024 * 1024))
    assert len(bomb) < 100 * 1024
    report = archive.verify_package(bomb)
    assert _codes(report) == ["unsafe"] and "压缩比异常" in report.problems[0].message
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    assert _codes(archive.verify_package(_raw_zip("materials/a/1-big.png", b"x" * 1001, compress=zipfile.ZIP_STORED))
                  ) == ["unsafe"]
    monkeypatch.setattr(archive, "MAX_MEMBERS", 1)
    assert _codes(archive.verify_package(_raw_zip("materials/a/1-b.png", b"x"))) == ["unsafe"]
    assert _codes(archive.verify_package(b"PK\x03\x04 not really a zip")) == ["not_zip"]
    assert _codes(archive.verify_package(b"")) == ["not_zip"]


def test_a_corrupt_member_is_reported_not_raised(archived):
    case, record = archived()
    data = bytearray(archive.export_package(case))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as package:
        info = package.getinfo("materials/application/1-申请表.png")
    header = info.header_offset
    name_length, extra_length = (int.from_bytes(data[header + at:header + at + 2], "little") for at in (26, 28))
    data[header + 30 + name_length + extra_length + 2] ^= 0xFF  # inside the compressed bytes
    report = archive.verify_package(bytes(data), expected_sha256=record.manifest_sha256)
    assert _codes(report) == ["corrupt"] and "已损坏" in report.problems[0].message


def test_only_archived_cases_export(world, delivered_case):
    case = delivered_case()
    with pytest.raises(DomainError, match="尚未归档"):
        archive.export_package(case)


def test_the_command_exports_and_verifies(archived, tmp_path):
    case, record = archived()
    target = tmp_path / "package.zip"
    out = io.StringIO()
    call_command("case_archive", "export", case.number, str(target), "--base-url", BASE, stdout=out)
    assert "已导出" in out.getvalue() and "OK" in out.getvalue()
    out = io.StringIO()
    call_command("case_archive", "verify", str(target), stdout=out)
    assert f"OK 档案包完整：办件 {case.number}，清单摘要 {record.manifest_sha256}（归档记录、审计账本）" in out.getvalue()

    members = _members(target.read_bytes())
    members["materials/application/1-申请表.png"] += b"!"
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(_zip(members))
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("case_archive", "verify", str(tampered), stdout=io.StringIO(), stderr=err)
    assert failed.value.returncode == 1 and "共发现 1 处问题" in str(failed.value)
    assert "[material_hash] 材料文件“materials/application/1-申请表.png”" in err.getvalue()


def test_the_command_compares_with_the_database_and_the_ledger(archived, tmp_path):
    case, record = archived()
    target = tmp_path / "package.zip"
    target.write_bytes(archive.export_package(case))
    # Someone rewrites the digest kept with the archive: the ledger still has the sealed one.
    CaseArchive.objects.filter(pk=record.pk).update(manifest_sha256="0" * 64)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("case_archive", "verify", str(target), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().count("[manifest_sealed]") == 1 and "归档记录" in err.getvalue()
    with pytest.raises(CommandError, match="共发现 2 处问题"):
        call_command("case_archive", "verify", str(target), "--expected", "f" * 64, stdout=io.StringIO(),
                     stderr=io.StringIO())


def test_the_command_refuses_unknown_cases_and_unreadable_files(db, tmp_path):
    with pytest.raises(CommandError, match="没有编号为"):
        call_command("case_archive", "export", "NOPE", str(tmp_path / "x.zip"))
    with pytest.raises(CommandError, match="无法读取"):
        call_command("case_archive", "verify", str(tmp_path / "missing.zip"))
    (tmp_path / "junk.zip").write_bytes(b"junk")
    with pytest.raises(CommandError):
        call_command("case_archive", "verify", str(tmp_path / "junk.zip"), stderr=io.StringIO())


def test_a_package_from_another_database_verifies_internally_with_a_warning(archived, tmp_path, world):
    case, record = archived()
    members = _members(archive.export_package(case))
    manifest = json.loads(members["manifest.json"])
    manifest["case"]["number"] = "FOREIGN0001"
    raw = archive.manifest_bytes(manifest)
    members.update({"manifest.json": raw,
                    "manifest.sha256": f"{hashlib.sha256(raw).hexdigest()}  manifest.json\n".encode()})
    target = tmp_path / "foreign.zip"
    target.write_bytes(_zip(members))
    out, err = io.StringIO(), io.StringIO()
    call_command("case_archive", "verify", str(target), stdout=out, stderr=err)
    assert "OK" in out.getvalue() and "仅核验了档案包内部的一致性" in err.getvalue()
