"""Safe uploads (OWASP ASVS 5.0 V5) and the read check for downloads.

    from onewindow.core import files
    stored = files.store_upload(actor=user, uploaded_file=request.FILES["material"], purpose="case.material")

`store_upload` refuses a file unless all of these hold:

- its size is within `settings.UPLOAD_MAX_BYTES`, or the purpose's entry in the optional
  `settings.UPLOAD_MAX_BYTES_BY_PURPOSE` (checked before a byte is written);
- its extension names an allowed kind, and the bytes really are that kind: `filetype` sniffs
  the signature, then a structural check per kind (PDF header and trailer, JPEG segments to
  EOI, PNG chunks with CRCs and nothing after IEND, ZIP containers with the inner parts of
  OFD/DOCX/XLSX and no macros);
- images and PDFs carry no HTML/script markup and no ZIP archive inside (polyglots), and PDFs
  no JavaScript, launch actions or attachments (a raw scan: names inside compressed object
  streams are not seen, so this filters, it does not parse);
- ZIP containers stay under the entry count, total uncompressed size and ratio caps, and
  every member decompresses with a correct CRC (zip bombs, corrupt archives).

Plain text is not an accepted kind: it can carry markup that old browsers render, and
every document a service needs has a PDF or OFD form.

The bytes go to MEDIA_ROOT/<yyyy>/<mm>/<uuid>, mode 0640: a server-made name without an
extension, so nothing can map it to an executable handler. Nothing under MEDIA_ROOT is
served directly; `core:file_download` serves a file at its random token after `can_read`.
"""

import hashlib
import mmap
import os
import re
import secrets
import time
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import filetype
from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from onewindow.core import audit
from onewindow.core.errors import InvalidInput, NotFound, PermissionDenied
from onewindow.core.models import FileKind, StoredFile
from onewindow.core.periodic import sweep

ZIP_MAX_ENTRIES = 1000
ZIP_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
ZIP_MAX_RATIO = 100
DEFAULT_KINDS: tuple[str, ...] = tuple(FileKind.values)

_PURPOSE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_CHUNK = 64 * 1024
# Markup that makes a browser or a server-side include treat bytes as a page or a script.
# Short tag names must be followed by more of a tag (for <svg, an event handler), so that
# compressed image data does not match them by chance.
_ACTIVE_MARKUP = re.compile(
    rb"<(?:script|iframe|object|embed|\?php)|<(?:html|body)[\s>]|<svg[\s/][^>]{0,200}\bon[a-z]+\s*=|javascript:",
    re.IGNORECASE,
)
_PDF_ACTIVE_NAMES = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia)(?=[\s/<>\[\]()%]|$)")
# PDF names may spell letters as #xx escapes ("/J#61vaScript").
_PDF_ESCAPED_NAME = re.compile(rb"/[A-Za-z0-9]*#[0-9A-Fa-f]{2}[A-Za-z0-9#]*")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_ZIP_END_OF_DIRECTORY = b"PK\x05\x06"
# A ZIP reader finds the archive from its end record within the last 64 KiB comment + 22 bytes.
_ZIP_TAIL = 65535 + 22


class _Refused(Exception):
    """A check failed; the message is already translated for the uploader."""


class _NotThisKind(_Refused):
    """The bytes are not the kind the extension names; `_inspect` words the message."""


@dataclass(frozen=True)
class Kind:
    name: str
    extensions: tuple[str, ...]
    content_type: str
    sniffed: frozenset[str]
    check: Callable[[mmap.mmap], None]


# --- checks per kind ----------------------------------------------------------------------


def _corrupt() -> _Refused:
    return _Refused(_("文件已损坏或格式不完整，请重新生成后上传。"))


def _refuse_embedded_content(data: mmap.mmap) -> None:
    if _ACTIVE_MARKUP.search(data):
        raise _Refused(_("文件中含有网页或脚本代码，不能上传。"))
    if data.rfind(_ZIP_END_OF_DIRECTORY, max(0, len(data) - _ZIP_TAIL)) >= 0:
        raise _Refused(_("文件中夹带了压缩包，不能上传。"))


def _check_pdf(data: mmap.mmap) -> None:
    if data[:5] != b"%PDF-" or data.rfind(b"%%EOF", max(0, len(data) - 1024)) < 0:
        raise _corrupt()
    if _PDF_ACTIVE_NAMES.search(data) or any(
        _PDF_ACTIVE_NAMES.fullmatch(_PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name.group()))
        for name in _PDF_ESCAPED_NAME.finditer(data)
    ):
        raise _Refused(_("PDF 文件含有脚本、自动执行动作或附件，不能上传。"))
    _refuse_embedded_content(data)


def _check_jpeg(data: mmap.mmap) -> None:
    """Walk the segments to EOI; bytes after EOI are allowed (phones append motion clips)."""
    size = len(data)
    if data[:3] != b"\xff\xd8\xff":
        raise _corrupt()
    position, seen_scan = 2, False
    while True:
        if position + 2 > size or data[position] != 0xFF:
            raise _corrupt()
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        position += 2
        if marker == 0xD9:
            if not seen_scan:
                raise _corrupt()
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if position + 2 > size:
            raise _corrupt()
        length = int.from_bytes(data[position : position + 2], "big")
        if length < 2 or position + length > size:
            raise _corrupt()
        position += length
        if marker == 0xDA:
            seen_scan = True
            # Entropy-coded data: 0xFF is followed by 00 (stuffing), a restart marker or fill;
            # any other byte after 0xFF starts the next segment.
            while True:
                position = data.find(b"\xff", position)
                if position < 0 or position + 1 >= size:
                    raise _corrupt()
                following = data[position + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    position += 2
                elif following == 0xFF:
                    position += 1
                else:
                    break
    _refuse_embedded_content(data)


def _check_png(data: mmap.mmap) -> None:
    size = len(data)
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise _corrupt()
    position, first = 8, True
    while True:
        if position + 12 > size:
            raise _corrupt()
        length = int.from_bytes(data[position : position + 4], "big")
        chunk_type = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > size or (first and chunk_type != b"IHDR"):
            raise _corrupt()
        if zlib.crc32(data[position + 4 : end - 4]) != int.from_bytes(data[end - 4 : end], "big"):
            raise _corrupt()
        position, first = end, False
        if chunk_type == b"IEND":
            break
    if position != size:
        raise _Refused(_("图片末尾附带了其他数据，不能上传。"))
    _refuse_embedded_content(data)


def _open_zip(data: mmap.mmap) -> zipfile.ZipFile:
    """Open a ZIP container after the bomb and integrity checks."""
    if data[:4] != b"PK\x03\x04":
        raise _corrupt()
    try:
        archive = zipfile.ZipFile(data)
    except (zipfile.BadZipFile, ValueError):
        raise _corrupt() from None
    members = archive.infolist()
    names = [member.filename for member in members]
    if not members or len(members) > ZIP_MAX_ENTRIES or len(set(names)) != len(names):
        raise _corrupt()
    declared = 0
    for member in members:
        parts = member.filename.replace("\\", "/").split("/")
        if member.filename.startswith("/") or ".." in parts:
            raise _corrupt()
        if member.flag_bits & 0x1:
            raise _Refused(_("不能上传加密的文件。"))
        # Other methods (bzip2, lzma) decompress without an output bound.
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _corrupt()
        declared += member.file_size
    if declared > ZIP_MAX_UNCOMPRESSED_BYTES or declared > ZIP_MAX_RATIO * len(data):
        raise _Refused(_("文件解压后体积异常（疑似压缩炸弹），不能上传。"))
    # zipfile never yields more than a member's declared size, and a member whose data
    # does not match its CRC raises here, so reading everything bounds work and memory.
    try:
        for member in members:
            with archive.open(member) as stream:
                while stream.read(_CHUNK):
                    pass
    # zipfile raises NotImplementedError for features it cannot read (e.g. strong encryption).
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError):
        raise _corrupt() from None
    return archive


def _read_member(archive: zipfile.ZipFile, name: str, limit: int = 1024 * 1024) -> bytes:
    with archive.open(name) as stream:
        return stream.read(limit)


def _ooxml_check(main_part: str, main_content_type: bytes) -> Callable[[mmap.mmap], None]:
    def check(data: mmap.mmap) -> None:
        archive = _open_zip(data)
        names = set(archive.namelist())
        if "[Content_Types].xml" not in names or main_part not in names:
            raise _NotThisKind()
        content_types = _read_member(archive, "[Content_Types].xml")
        if b"macroEnabled" in content_types or any(
            name.endswith("vbaProject.bin") or "/activeX/" in f"/{name}" for name in names
        ):
            raise _Refused(_("文件含有宏或控件，不能上传；请另存为不含宏的文档。"))
        if main_content_type not in content_types:
            raise _NotThisKind()

    return check


def _check_ofd(data: mmap.mmap) -> None:
    archive = _open_zip(data)
    if "OFD.xml" not in archive.namelist() or b"www.ofdspec.org" not in _read_member(archive, "OFD.xml"):
        raise _NotThisKind()


class _Mapped(mmap.mmap):
    """The upload mapped read-only: regexes scan it in place and zipfile reads it as a file."""

    def seekable(self) -> bool:
        return True


_ZIP_SNIFFED = frozenset(
    {
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(FileKind.PDF, ("pdf",), "application/pdf", frozenset({"application/pdf"}), _check_pdf),
        Kind(FileKind.JPG, ("jpg", "jpeg"), "image/jpeg", frozenset({"image/jpeg"}), _check_jpeg),
        Kind(FileKind.PNG, ("png",), "image/png", frozenset({"image/png"}), _check_png),
        Kind(FileKind.OFD, ("ofd",), "application/ofd", _ZIP_SNIFFED, _check_ofd),
        Kind(
            FileKind.DOCX,
            ("docx",),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            _ZIP_SNIFFED,
            _ooxml_check(
                "word/document.xml",
                b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            ),
        ),
        Kind(
            FileKind.XLSX,
            ("xlsx",),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            _ZIP_SNIFFED,
            _ooxml_check(
                "xl/workbook.xml", b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
            ),
        ),
    )
}


# --- names and paths ----------------------------------------------------------------------


def clean_filename(name: str) -> str:
    """The user's file name made safe to keep as metadata and to offer back on download.

    Drops any directory part, control and format characters (right-to-left overrides that
    disguise "exe.pdf"), characters Windows forbids, leading dots and surrounding blanks.
    """
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = re.sub(r'[<>:"|?*]', "_", name).strip().lstrip(".").rstrip(". ")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 199 - len(extension)] + dot + extension) if dot and len(extension) <= 10 else name[:200]
    return name


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the RFC 6266 / RFC 5987 UTF-8 form."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", unicodedata.normalize("NFKD", stem)).strip("._")
    ascii_extension = re.sub(r"[^A-Za-z0-9]+", "", extension)
    fallback = (ascii_stem if re.search(r"[A-Za-z0-9]", ascii_stem) else "file") + (
        f".{ascii_extension}" if ascii_extension else ""
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT).resolve()


def path_of(stored_file: StoredFile) -> Path:
    """The file's location on disk; refuses a stored path that escapes MEDIA_ROOT."""
    root = _media_root()
    path = (root / stored_file.storage_path).resolve()
    if not path.is_relative_to(root):
        raise NotFound(_("文件不存在。"))
    return path


def _max_bytes(purpose: str) -> int:
    return getattr(settings, "UPLOAD_MAX_BYTES_BY_PURPOSE", {}).get(purpose, settings.UPLOAD_MAX_BYTES)


def _too_big(limit: int) -> str:
    return _("文件超过大小上限 %(limit)s。") % {"limit": filesizeformat(limit)}


def _kind_for(filename: str, allowed_kinds: Iterable[str]) -> Kind:
    allowed = [KINDS[name] for name in allowed_kinds]
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    for kind in allowed:
        if extension in kind.extensions:
            return kind
    names = pgettext("list separator", "、").join(ext for kind in allowed for ext in kind.extensions)
    if not extension:
        raise InvalidInput(_("文件名缺少扩展名；允许的类型：%(kinds)s。") % {"kinds": names}, field="file")
    raise InvalidInput(
        _("不支持“.%(extension)s”类型的文件；允许的类型：%(kinds)s。") % {"extension": extension, "kinds": names},
        field="file",
    )


def _inspect(path: Path, kind: Kind) -> None:
    with open(path, "rb") as handle, _Mapped(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        try:
            if filetype.guess_mime(data[:8192]) not in kind.sniffed:
                raise _NotThisKind()
            kind.check(data)
        except _NotThisKind:
            raise _Refused(
                _("文件内容与扩展名不符：这不是一个真正的 %(kind)s 文件。") % {"kind": kind.extensions[0].upper()}
            ) from None


def _receive(uploaded_file: Any, path: Path, limit: int) -> tuple[int, str]:
    """Copy the upload to `path` (new file, 0640), enforcing the limit; returns size and SHA-256."""
    digest, size = hashlib.sha256(), 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o640)
    with os.fdopen(descriptor, "wb") as out:
        # os.open's mode passes through the process umask; the stored mode is 0640 exactly.
        os.fchmod(out.fileno(), 0o640)
        for chunk in uploaded_file.chunks():
            size += len(chunk)
            if size > limit:
                raise _Refused(_too_big(limit))
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


# --- the service --------------------------------------------------------------------------


@transaction.atomic
def store_upload(
    *, actor: Any, uploaded_file: Any, purpose: str, allowed_kinds: Iterable[str] = DEFAULT_KINDS
) -> StoredFile:
    """Check an uploaded file and keep it; returns the new StoredFile owned by `actor`.

    `uploaded_file` is a Django UploadedFile or File (`name`, `size`, `chunks()`);
    `purpose` is a short code such as "case.material"; `allowed_kinds` narrows the default
    kinds ("pdf", "jpg", "png", "ofd", "docx", "xlsx"). Raises InvalidInput and keeps nothing
    when a check fails.
    """
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录再上传文件。"))
    if not isinstance(purpose, str) or not _PURPOSE_RE.match(purpose):
        raise InvalidInput(_("文件用途无效。"), field="purpose")
    allowed_kinds = tuple(allowed_kinds)
    unknown = [name for name in allowed_kinds if name not in KINDS]
    if unknown or not allowed_kinds:
        raise ValueError(f"unknown file kinds: {unknown or 'none given'}")

    original_name = clean_filename(getattr(uploaded_file, "name", ""))
    kind = _kind_for(original_name, allowed_kinds)
    limit = _max_bytes(purpose)
    declared_size = getattr(uploaded_file, "size", None)
    if declared_size is not None and declared_size > limit:
        raise InvalidInput(_too_big(limit), field="file")
    if declared_size == 0:
        raise InvalidInput(_("文件是空的。"), field="file")

    root = _media_root()
    name = uuid.uuid4().hex
    incoming = root / "incoming"
    incoming.mkdir(mode=0o750, parents=True, exist_ok=True)
    staged = incoming / name
    now = timezone.now()
    relative = f"{now:%Y}/{now:%m}/{name}"
    final = root / relative
    try:
        size, sha256 = _receive(uploaded_file, staged, limit)
        if size == 0:
            raise _Refused(_("文件是空的。"))
        _inspect(staged, kind)
        final.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        os.replace(staged, final)
        stored = StoredFile.objects.create(
            token=secrets.token_urlsafe(32),
            owner=actor,
            purpose=purpose,
            kind=kind.name,
            content_type=kind.content_type,
            original_name=original_name,
            storage_path=relative,
            size=size,
            sha256=sha256,
        )
        audit.record(
            actor=actor,
            action="file.upload",
            target=stored,
            after={"purpose": purpose, "kind": kind.name, "size": size, "sha256": sha256, "name": stored.original_name},
        )
    except _Refused as refused:
        staged.unlink(missing_ok=True)
        raise InvalidInput(str(refused), field="file") from None
    except BaseException:
        # Whatever failed (disk, database, interrupt), no bytes stay behind without their row.
        staged.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
        raise
    return stored


# --- leftovers ----------------------------------------------------------------------------

# A file written by store_upload whose transaction later rolled back (in the caller's outer
# transaction) has no row; old enough to be no upload in flight, it is removed.
ORPHAN_AGE_SECONDS = 24 * 3600
_ORPHAN_BATCH = 500


def remove_orphans(*, now: float | None = None) -> int:
    """Delete stored bytes older than ORPHAN_AGE_SECONDS that no StoredFile row refers to,
    and staged uploads (MEDIA_ROOT/incoming) as old."""
    root = _media_root()
    if not root.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - ORPHAN_AGE_SECONDS

    def old(paths: Iterable[Path]) -> Iterator[Path]:
        return (path for path in paths if path.is_file() and path.stat().st_mtime <= cutoff)

    removed = 0
    stored = old(root.glob("*/*/*"))
    # One query per batch of old files, not one per file.
    while batch := {path.relative_to(root).as_posix(): path for path in islice(stored, _ORPHAN_BATCH)}:
        referenced = set(StoredFile.objects.filter(storage_path__in=list(batch)).values_list("storage_path", flat=True))
        for relative, path in batch.items():
            if relative not in referenced:
                path.unlink(missing_ok=True)
                removed += 1
    for path in old((root / "incoming").glob("*")):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


@sweep(every_seconds=3600)
def files_orphans_sweep() -> int:
    return remove_orphans()


# --- who may read -------------------------------------------------------------------------

ReadRule = Callable[[Any, StoredFile], bool]
read_rules: list[ReadRule] = []


def register_read_rule(rule: ReadRule) -> ReadRule:
    """Let another app grant reading, e.g. staff handling the case a material belongs to.

    A rule gets (user, stored_file) for an active signed-in user who is neither the owner nor
    a superuser, and returns True to allow. Usable as a decorator.
    """
    read_rules.append(rule)
    return rule


def can_read(user: Any, stored_file: StoredFile) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser or stored_file.owner_id == user.pk:
        return True
    return any(rule(user, stored_file) for rule in read_rules)


def file_for_download(*, actor: Any, token: str) -> StoredFile:
    """The file behind a download token, or NotFound when it is missing or not the actor's to read."""
    stored = StoredFile.objects.filter(token=token).first()
    if stored is None or not can_read(actor, stored):
        raise NotFound(_("文件不存在。"))
    return stored


def open_stored(stored_file: StoredFile) -> BinaryIO:
    return open(path_of(stored_file), "rb")
