"""Sealing, signed tree heads, verification and proofs for the audit ledger.

Sealing. `seal()` takes committed, unsealed entries in id order, gives them the next
sequence numbers, hashes each one (`entry_data`, which includes `seq`, so moving an entry
changes its hash), appends the hashes to the RFC 6962 tree, and stores a tree head signed
with the ledger's Ed25519 key. An entry whose transaction commits after a batch with higher
ids simply goes into the next batch. Sealers serialise among themselves (a PostgreSQL
advisory lock; on SQLite the IMMEDIATE transaction holds the write lock), while `record()`
takes no lock at all. The worker sweep seals every 2 s.

Appending without rereading. Each head stores the tree's right edge (`Frontier`), so a batch
of k entries costs O(k + log n). Complete subtrees of height 8, 16, 24 … are stored as
`AuditNode` rows, so a proof reads at most ~128 hashes per path step, never every leaf.

Witness. Every head is also appended to `settings.AUDIT_WITNESS_FILE`, a JSON-lines file
outside the database. A sealer refuses to continue if the database no longer holds the last
head the witness saw (a truncated or rewritten ledger), and `verify()` compares both.
Ship the witness file (or the heads printed by `onewindow audit heads`) off the host to
protect against an attacker who controls both. The file belongs to whoever seals: with
workers on several hosts, put it on storage they share (its lock orders their appends) or
let one worker run the sealing sweep.

Signed message: b"OneWindow audit tree head v1\\n" ‖ size (8 bytes, big-endian) ‖ root.
"""

import fcntl
import hashlib
import json
import os
import queue
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.db.models import BigIntegerField, CharField, Func, QuerySet
from django.utils.translation import gettext as _

from onewindow.core import audit
from onewindow.core.audit import merkle, triggers
from onewindow.core.audit.merkle import Frontier
from onewindow.core.models.audit import AuditEntry, AuditNode, TreeHead
from onewindow.core.periodic import sweep

SEAL_BATCH = 5000
# Heights at which complete subtrees are stored: every 8th, so a proof step combines ≤ 128 hashes.
NODE_STRIDE = 8
VERIFY_CHUNK = 10_000
# How far `verify` looks for the position an entry's stored hash belongs to when it does not
# match its own position, to tell a reordering from an edit.
REORDER_WINDOW = 1024
MAX_PROBLEMS = 100
HEAD_DOMAIN = b"OneWindow audit tree head v1\n"
# pg_advisory_xact_lock key shared by all sealers ("owaudit1").
SEAL_LOCK_KEY = 0x6F77617564697431

_sha256 = hashlib.sha256
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LedgerError(Exception):
    """The ledger cannot be sealed or proven as asked; the message says why (translated)."""


# --- leaf encoding ----------------------------------------------------------------------


class _EpochMicros(Func):
    """A timestamp as integer microseconds since 1970-01-01 UTC, computed by the database.

    The leaf encoding uses this instead of a datetime: it reads the same on SQLite and
    PostgreSQL (a ledger moved between them still verifies) and spares verification a
    Python-level timestamp parse per row, the largest cost of reading a million rows.
    """

    output_field = BigIntegerField()

    @property
    def convert_value(self) -> Callable:
        # Both databases already return an int; without a converter Django skips a
        # per-row Python pass over every result.
        return self._convert_value_noop

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC; '%%%%s' reaches SQLite as '%s'.
        return self.as_sql(
            compiler, connection,
            template="(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) * 1000000"
            " + CAST(substr(%(expressions)s || '.000000', 21, 6) AS INTEGER))",
        )


class _HostText(Func):
    """An IP address as text (PostgreSQL: host() of the inet, without a netmask)."""

    output_field = CharField()
    template = "%(expressions)s"

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="host(%(expressions)s)")


# The values a leaf commits to, in encoding order after seq (see `entry_data`).
ENTRY_FIELDS = (
    "id", "_created_us", "actor_id", "actor_label", "action", "object_type", "object_id", "changes", "_ip",
)


def entry_rows(queryset: QuerySet, *, with_seq: bool = False, with_leaf_hash: bool = False) -> QuerySet:
    """`queryset` as value tuples ready for `entry_data`: [seq,] ENTRY_FIELDS… [, stored leaf hash]."""
    fields = (*(("seq",) if with_seq else ()), *ENTRY_FIELDS, *(("leaf_hash",) if with_leaf_hash else ()))
    return queryset.annotate(_created_us=_EpochMicros("created_at"), _ip=_HostText("ip")).values_list(*fields)


def entry_data(
    seq: int,
    entry_id: int,
    created_us: int,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    changes: str,
    ip: str | None,
    *_rest: object,
) -> bytes:
    """The bytes a leaf hashes: the fields joined by NUL, UTF-8.

    `record` keeps NUL out of every field (JSON escapes it in `changes`), so the split is
    unique. The time is integer microseconds since the Unix epoch. Cheap on purpose:
    verification runs this once per entry. Extra trailing values (a stored hash) are ignored.
    """
    return (
        f"{seq}\0{entry_id}\0{created_us}\0{'' if actor_id is None else actor_id}\0"
        f"{actor_label}\0{action}\0{object_type}\0{object_id}\0{changes}\0{'' if ip is None else ip}"
    ).encode()


def epoch_micros(moment: datetime) -> int:
    """What `_EpochMicros` computes, for a timezone-aware datetime."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def head_message(size: int, root: bytes) -> bytes:
    return HEAD_DOMAIN + size.to_bytes(8, "big") + root


# --- signing key ------------------------------------------------------------------

_key_cache: dict[tuple[str, int, int], Ed25519PrivateKey] = {}


def _write_file(path: Path, data: bytes, *, mode: int, replace: bool) -> None:
    """Put `data` at `path` whole or not at all: a temporary name, fsync, then a rename over
    `path` (`replace`) or a link that leaves an existing file alone (when two processes race
    to create it, the first link wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
    finally:
        temporary.unlink(missing_ok=True)


def _new_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _private_key(*, create: bool) -> Ed25519PrivateKey | None:
    path = Path(settings.AUDIT_SIGNING_KEY_FILE)
    if not path.exists():
        if not create:
            return None
        _write_file(path, _new_key_pem(), mode=0o600, replace=False)
    stat = path.stat()
    cache_key = (str(path), stat.st_ino, stat.st_mtime_ns)
    key = _key_cache.get(cache_key)
    if key is None:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise LedgerError(_("账本签名密钥不是 Ed25519 密钥"))
        _key_cache.clear()
        key = _key_cache[cache_key] = loaded
    return key


def _signing_key() -> Ed25519PrivateKey:
    """The current signing key, created on first use."""
    key = _private_key(create=True)
    assert key is not None
    return key


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_key_hex() -> str:
    """The raw Ed25519 public key (hex) that outside parties pin to check heads and proofs."""
    return _raw_public(_signing_key()).hex()


def _retired_keys_path() -> Path:
    return Path(settings.AUDIT_SIGNING_KEY_FILE).with_name("ledger_retired_keys.json")


def _retired_keys() -> dict[str, str]:
    """key id -> raw public key (hex) of every key that signed heads before a rotation."""
    path = _retired_keys_path()
    if not path.exists():
        return {}
    try:
        keys = json.loads(path.read_text())
    except ValueError as exc:
        raise LedgerError(_("已停用公钥清单无法读取：%(error)s") % {"error": exc}) from None
    if not isinstance(keys, dict) or any(key_id_of(bytes.fromhex(v)) != k for k, v in keys.items()):
        raise LedgerError(_("已停用公钥清单被改动：密钥标识与公钥不符"))
    return keys


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """The keys whose signatures on tree heads are accepted: the current one and retired ones."""
    keys = {key_id: Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw)) for key_id, raw in _retired_keys().items()}
    current = _private_key(create=False)
    if current is not None:
        keys[key_id_of(_raw_public(current))] = current.public_key()
    return keys


def rotate_key() -> tuple[str, str]:
    """Replace the signing key; the old public key stays trusted for the heads it signed.

    Runs under the sealing lock so no head is signed while the key changes. Returns the old and
    the new key id. Outside witnesses should pin the new public key (`onewindow audit heads`).
    """
    connection = transaction.get_connection()
    with _witness(), transaction.atomic():
        _lock_sealers(connection)
        old_public = _raw_public(_signing_key())
        old_id = key_id_of(old_public)
        retired = {**_retired_keys(), old_id: old_public.hex()}
        _write_file(
            _retired_keys_path(), json.dumps(retired, indent=2, sort_keys=True).encode(), mode=0o644, replace=True
        )
        # Replaced in one rename: no moment without a key, in which another process would make its own.
        _write_file(Path(settings.AUDIT_SIGNING_KEY_FILE), _new_key_pem(), mode=0o600, replace=True)
        new_public = _raw_public(_signing_key())
        new_id = key_id_of(new_public)
        audit.record(
            actor=None, action="audit.key_rotate", object_type="core.treehead", object_id=new_id,
            before={"key_id": old_id, "public_key": old_public.hex()},
            after={"key_id": new_id, "public_key": new_public.hex()},
        )
    return old_id, new_id


def _signed(public: Ed25519PublicKey, size: int, root_hex: str, signature: str) -> bool:
    try:
        public.verify(bytes.fromhex(signature), head_message(size, bytes.fromhex(root_hex)))
    except (InvalidSignature, ValueError):
        return False
    return True


# --- witness file -------------------------------------------------------------------


def _witness_path() -> Path:
    return Path(settings.AUDIT_WITNESS_FILE)


def _witness_line(size: int, root_hash: str, signature: str, key_id: str, created_at: datetime) -> bytes:
    record = {
        "size": size, "root_hash": root_hash, "signature": signature, "key_id": key_id,
        "created_at": created_at.isoformat(),
    }
    return (json.dumps(record, sort_keys=True) + "\n").encode()


def _last_witness(handle: Any) -> dict | None:
    handle.seek(0, os.SEEK_END)
    end = handle.tell()
    if end == 0:
        return None
    start = max(0, end - 4096)
    handle.seek(start)
    tail = handle.read()
    if not tail.endswith(b"\n"):
        raise LedgerError(_("见证文件末行不完整，请检查 %(path)s") % {"path": _witness_path()})
    try:
        return json.loads(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1])
    except ValueError:
        raise LedgerError(_("见证文件末行无法解析，请检查 %(path)s") % {"path": _witness_path()}) from None


@contextmanager
def _witness() -> Iterator[Any]:
    """The witness file, opened for appending and locked for the length of one seal."""
    path = _witness_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
    with os.fdopen(fd, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield handle


def _catch_up(handle: Any, *, sealed_now: bool) -> None:
    """Append the heads the witness has not seen; refuse if the database lost one it saw.

    Before a seal (`sealed_now=False`) an empty witness beside existing heads means the file
    was lost or replaced, so sealing stops. After a seal it appends the new head, and also
    any head a sealer committed but could not append before it stopped.
    """
    last = _last_witness(handle)
    if last is None:
        if not sealed_now and TreeHead.objects.exists():
            raise LedgerError(_("见证文件缺失或为空，而数据库中已有签名树头；请从备份恢复见证文件"))
        seen = 0
    else:
        seen = int(last["size"])
        in_db = TreeHead.objects.filter(size=seen).values_list("root_hash", "signature").first()
        if in_db is None:
            raise LedgerError(_("见证文件记录的树头（%(size)d 条）在数据库中不存在：账本可能被截断") % {"size": seen})
        if in_db != (last["root_hash"], last["signature"]):
            raise LedgerError(_("数据库中的树头（%(size)d 条）与见证文件记录不同") % {"size": seen})
    new_heads = list(
        TreeHead.objects.filter(size__gt=seen)
        .order_by("size")
        .values_list("size", "root_hash", "signature", "key_id", "created_at")
    )
    if not new_heads:
        return
    keys = trusted_keys()
    if not keys:
        raise LedgerError(_("找不到账本签名密钥"))
    lines = []
    for size, root_hash, signature, head_key_id, created_at in new_heads:
        public = keys.get(head_key_id)
        if public is None or not _signed(public, size, root_hash, signature):
            raise LedgerError(_("树头（%(size)d 条）签名无效，拒绝写入见证文件") % {"size": size})
        lines.append(_witness_line(size, root_hash, signature, head_key_id, created_at))
    handle.write(b"".join(lines))
    handle.flush()
    os.fsync(handle.fileno())


# --- sealing --------------------------------------------------------------------------


def _lock_sealers(connection: Any) -> None:
    # SQLite needs nothing here: its transactions begin IMMEDIATE (settings), so this one
    # already holds the database's write lock. record() never takes this lock.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])


def _frontier_of(head: tuple[int, str, list[str]] | None) -> Frontier:
    if head is None:
        return Frontier()
    size, root_hash, hashes = head
    frontier = Frontier(size, [bytes.fromhex(h) for h in hashes])
    if frontier.root().hex() != root_hash:
        raise LedgerError(_("最新树头（%(size)d 条）的右边界与根哈希不符") % {"size": size})
    return frontier


def _write_seals(connection: Any, seals: list[tuple[int, int, str]]) -> None:
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids, seqs, hashes = map(list, zip(*seals))
            cursor.execute(
                f"UPDATE {table} AS e SET seq = v.seq, leaf_hash = v.leaf_hash "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS v(id, seq, leaf_hash) "
                "WHERE e.id = v.id AND e.seq IS NULL",
                [ids, seqs, hashes],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET seq = %s, leaf_hash = %s WHERE id = %s AND seq IS NULL",
                [(seq, leaf, entry_id) for entry_id, seq, leaf in seals],
            )
        if cursor.rowcount != len(seals):
            raise LedgerError(_("封存时有记录已被封存或消失，本批次已撤销"))


def seal(*, max_batch: int = SEAL_BATCH) -> int:
    """Seal up to `max_batch` committed entries under a new signed head; returns how many.

    Raises `LedgerError` (and seals nothing) when the database and the witness disagree.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # The witness must only ever see committed heads.
        raise RuntimeError("seal() runs its own transaction; call it outside atomic blocks")
    if not AuditEntry.objects.filter(seq__isnull=True).exists():
        return 0  # an idle sweep takes no lock (on SQLite, the database's write lock)
    with _witness() as witness:
        _catch_up(witness, sealed_now=False)
        with transaction.atomic():
            _lock_sealers(connection)
            head = TreeHead.objects.order_by("-size").values_list("size", "root_hash", "frontier").first()
            rows = list(
                entry_rows(AuditEntry.objects.filter(seq__isnull=True).order_by("id"))[:max_batch]
            )
            if not rows:
                return 0
            _append(connection, _frontier_of(head), rows)
        _catch_up(witness, sealed_now=True)
    return len(rows)


def _append(connection: Any, frontier: Frontier, rows: list[tuple]) -> None:
    """Number, hash and mark `rows`, store the completed subtrees, sign the new head."""
    first = frontier.size + 1
    leaves = [merkle.leaf_hash(entry_data(seq, *row)) for seq, row in enumerate(rows, first)]
    nodes: list[AuditNode] = []

    def keep(level: int, index: int, digest: bytes) -> None:
        if level % NODE_STRIDE == 0:
            nodes.append(AuditNode(level=level, index=index, hash=digest.hex()))

    frontier.extend(leaves, keep, NODE_STRIDE)
    _write_seals(connection, [(row[0], seq, leaf.hex()) for seq, (row, leaf) in enumerate(zip(rows, leaves), first)])
    AuditNode.objects.bulk_create(nodes)
    root = frontier.root()
    key = _signing_key()
    TreeHead.objects.create(
        size=frontier.size,
        root_hash=root.hex(),
        signature=key.sign(head_message(frontier.size, root)).hex(),
        key_id=key_id_of(_raw_public(key)),
        frontier=[h.hex() for h in frontier.hashes],
    )


def seal_all(*, max_batch: int = SEAL_BATCH) -> int:
    """Seal everything committed so far, one signed head per batch; returns how many."""
    total = 0
    while True:
        sealed = seal(max_batch=max_batch)
        total += sealed
        if not sealed or sealed < max_batch:
            return total


@sweep(every_seconds=2)
def seal_sweep() -> int:
    """The worker seals every 2 s, so entries wait seconds, not minutes, for a signed head."""
    return seal_all()


# --- verification ------------------------------------------------------------------------


@dataclass
class Problem:
    code: str
    message: str
    seq: int | None = None
    entry_id: int | None = None
    head_size: int | None = None


@dataclass
class VerifyReport:
    """Outcome of `verify()`. `ok` is true when no problem was found."""

    entries: int = 0
    heads: int = 0
    unsealed: int = 0
    tree_size: int = 0
    root_hash: str = ""
    triggers_installed: bool = True
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def first_bad_seq(self) -> int | None:
        return self.first.seq if self.first else None

    @property
    def first_bad_id(self) -> int | None:
        return self.first.entry_id if self.first else None

    @property
    def reason(self) -> str:
        return self.first.message if self.first else ""


class _WitnessReader:
    """The witness file as a stream of heads in size order; malformed lines become problems."""

    def __init__(self, verification: "_Verification") -> None:
        self.verification = verification
        path = _witness_path()
        self.handle = path.open("rb") if path.exists() else None
        self.line = 0
        self.last_size = 0
        self.current: dict | None = None
        self.advance()

    def advance(self) -> None:
        self.current = None
        while self.handle is not None:
            raw = self.handle.readline()
            if not raw:
                self.handle.close()
                self.handle = None
                return
            self.line += 1
            try:
                head = json.loads(raw)
                size = int(head["size"])
            except (ValueError, KeyError, TypeError):
                head, size = None, 0
            if head is None or size <= self.last_size:
                self.verification.problem("witness_malformed", _("见证文件第 %(line)d 行无法解析或顺序错误") % {"line": self.line})
                continue
            self.last_size = size
            self.current = head
            return


class _Verification:
    def __init__(self, report: VerifyReport) -> None:
        self.report = report
        self.keys = trusted_keys()
        self.key_missing_reported = False

    def problem(self, code: str, message: str, **where: int | None) -> None:
        self.report.problem_count += 1
        if self.collecting:
            self.report.problems.append(Problem(code, message, **where))

    @property
    def collecting(self) -> bool:
        return len(self.report.problems) < MAX_PROBLEMS

    def entry_mismatch(self, row: tuple) -> None:
        seq, entry_id, stored = row[0], row[1], row[-1]
        original = None
        if self.collecting:
            for candidate in range(max(1, seq - REORDER_WINDOW), seq + REORDER_WINDOW + 1):
                if candidate != seq and merkle.leaf_hash(entry_data(candidate, *row[1:])).hex() == stored:
                    original = candidate
                    break
        if original is None:
            self.problem("edited", _("内容被修改：按内容重新计算的叶哈希与封存时不同"), seq=seq, entry_id=entry_id)
        else:
            self.problem(
                "reordered", _("顺序被改动：该记录封存时的序号是 %(original)d") % {"original": original},
                seq=seq, entry_id=entry_id,
            )

    def head(self, head: tuple[int, str, str, str], root: bytes, witness: _WitnessReader) -> None:
        size, root_hash, signature, head_key_id = head
        self.report.heads += 1
        if not self.keys:
            if not self.key_missing_reported:
                self.key_missing_reported = True
                self.problem("key_missing", _("找不到账本签名密钥，无法核验树头签名"), head_size=size)
        elif head_key_id not in self.keys or not _signed(self.keys[head_key_id], size, root_hash, signature):
            self.problem("signature_invalid", _("树头（%(size)d 条）签名无效") % {"size": size}, head_size=size)
        if root.hex() != root_hash:
            self.problem("root_mismatch", _("树头（%(size)d 条）处根哈希不符") % {"size": size}, head_size=size)
        while witness.current is not None and int(witness.current["size"]) < size:
            self.witness_only(witness.current)
            witness.advance()
        current = witness.current
        if current is None or int(current["size"]) != size:
            self.problem("head_missing_from_witness", _("树头（%(size)d 条）不在见证文件中") % {"size": size}, head_size=size)
            return
        if (current.get("root_hash"), current.get("signature"), current.get("key_id")) != (root_hash, signature, head_key_id):
            self.problem("witness_mismatch", _("树头（%(size)d 条）与见证文件记录不同") % {"size": size}, head_size=size)
        witness.advance()

    def witness_only(self, head: dict) -> None:
        size = int(head["size"])
        self.problem(
            "head_missing_from_database", _("见证文件中的树头（%(size)d 条）在数据库中缺失") % {"size": size}, head_size=size
        )


class _NodeCheck:
    """Compares the stored proof nodes with the ones recomputed from content, level by level."""

    def __init__(self, verification: _Verification, tree_size: int) -> None:
        self.verification = verification
        self.tree_size = tree_size
        self.streams: dict[int, Iterator[tuple[int, str]]] = {}
        self.pending: dict[int, tuple[int, str] | None] = {}

    def check(self, level: int, index: int, digest: bytes) -> None:
        if level not in self.streams:
            self.streams[level] = (
                AuditNode.objects.filter(level=level, index__lt=self.tree_size >> level)
                .order_by("index")
                .values_list("index", "hash")
                .iterator(chunk_size=VERIFY_CHUNK)
            )
            self.pending[level] = next(self.streams[level], None)
        stored = self.pending[level]
        while stored is not None and stored[0] < index:
            stored = next(self.streams[level], None)
        if stored is not None and stored[0] == index:
            self.pending[level] = next(self.streams[level], None)
            if stored[1] == digest.hex():
                return
        else:
            self.pending[level] = stored
        self.verification.problem(
            "node_mismatch",
            _("证明节点（高度 %(level)d，位置 %(index)d）缺失或与重新计算的不符") % {"level": level, "index": index},
            seq=(index + 1) << level,
        )


def verify(*, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Recompute the whole ledger from content and check it against heads, signatures and witness.

    Streams entries in seq order (values only, chunked, fetched by a second thread; a
    server-side cursor on PostgreSQL), so memory stays flat. Every head's root and signature is
    checked and every head is matched against the witness file; stored proof nodes are
    compared with the recomputed ones. `progress(checked, total)` is called after each chunk.
    """
    report = VerifyReport()
    connection = transaction.get_connection()
    report.triggers_installed = triggers.installed()
    # PostgreSQL: one REPEATABLE READ snapshot, and a streaming (not WITH HOLD) cursor. SQLite:
    # no transaction, which would take the write lock; sealed rows never change, and the
    # entries read are bounded by the latest head read first, so the reads agree anyway.
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic() if snapshot else nullcontext():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        verification = _Verification(report)
        latest = TreeHead.objects.order_by("-size").values_list("size", "root_hash").first()
        report.tree_size, report.root_hash = latest if latest else (0, "")
        report.unsealed = AuditEntry.objects.filter(seq__isnull=True).count()
        witness_rest = _verify_entries(report, verification, progress)
    _check_witness_tail(report, verification, witness_rest)
    return report


def _prefetched(rows: QuerySet) -> Iterator[tuple]:
    """Iterate `rows` while a thread with its own connection fetches the next chunks, so the
    database's work and the transfer overlap the hashing.

    Inside a transaction the rows are read inline: another connection could not see them.
    Sealed rows never change, so the second connection needs no shared snapshot.
    """
    if transaction.get_connection().in_atomic_block:
        yield from rows.iterator(chunk_size=VERIFY_CHUNK)
        return
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        connection = transaction.get_connection()
        try:
            # PostgreSQL streams a server-side cursor only inside a transaction; on SQLite a
            # transaction would take the write lock, and one SELECT is its own snapshot.
            with transaction.atomic() if connection.vendor == "postgresql" else nullcontext():
                source = rows.iterator(chunk_size=VERIFY_CHUNK)
                while chunk := list(islice(source, VERIFY_CHUNK)):
                    if not offer(chunk):
                        return
            offer(None)
        except BaseException as exc:  # handed to the consuming thread, which raises it
            offer(exc)
        finally:
            connection.close()

    producer = threading.Thread(target=produce, name="audit-verify-fetch", daemon=True)
    producer.start()
    try:
        while (chunk := chunks.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            yield from chunk
    finally:
        stop.set()
        producer.join()


def _verify_entries(
    report: VerifyReport, verification: _Verification, progress: Callable[[int, int], None] | None
) -> list[dict]:
    """Stream entries, heads, proof nodes and the witness side by side; returns the witness
    heads left over beyond the latest database head."""
    size_limit = report.tree_size
    heads = (
        TreeHead.objects.filter(size__lte=size_limit)
        .order_by("size")
        .values_list("size", "root_hash", "signature", "key_id")
        .iterator(chunk_size=VERIFY_CHUNK)
    )
    entries = _prefetched(
        entry_rows(
            AuditEntry.objects.filter(seq__isnull=False, seq__lte=size_limit).order_by("seq"),
            with_seq=True, with_leaf_hash=True,
        )
    )
    witness = _WitnessReader(verification)
    nodes = _NodeCheck(verification, size_limit)
    next_head = next(heads, None)
    stack: list[bytes] = []
    sha256, encode, node_levels = _sha256, entry_data, NODE_STRIDE - 1
    size, expected, checked = 0, 1, 0
    for row in entries:
        seq = row[0]
        if seq != expected:
            if seq < expected:
                verification.problem("duplicate", _("序号 %(seq)d 重复") % {"seq": seq}, seq=seq, entry_id=row[1])
                continue
            verification.problem(
                "deleted",
                _("记录被删除：序号 %(first)d–%(last)d 缺失") % {"first": expected, "last": seq - 1},
                seq=expected,
            )
        digest = sha256(b"\x00" + encode(*row)).digest()
        if digest.hex() != row[-1]:
            verification.entry_mismatch(row)
        # Frontier append, inlined: this loop runs once per entry.
        n, level = size, 0
        while n & 1:
            digest = sha256(b"\x01" + stack.pop() + digest).digest()
            level += 1
            n >>= 1
            if not level & node_levels:
                nodes.check(level, size >> level, digest)
        stack.append(digest)
        size += 1
        expected = seq + 1
        checked += 1
        while next_head is not None and next_head[0] <= seq:
            verification.head(next_head, Frontier(size, stack).root(), witness)
            next_head = next(heads, None)
        if progress is not None and checked % VERIFY_CHUNK == 0:
            progress(checked, size_limit)
    if expected <= size_limit:
        verification.problem(
            "deleted",
            _("记录被删除：序号 %(first)d–%(last)d 缺失") % {"first": expected, "last": size_limit},
            seq=expected,
        )
    while next_head is not None:
        verification.head(next_head, Frontier(size, stack).root(), witness)
        next_head = next(heads, None)
    report.entries = checked
    if progress is not None:
        progress(checked, size_limit)
    rest = []
    while witness.current is not None:
        rest.append(witness.current)
        witness.advance()
    return rest


def _check_witness_tail(report: VerifyReport, verification: _Verification, witness_rest: list[dict]) -> None:
    """Witness heads beyond the database's latest head: sealed since verification began, or truncated."""
    for head in witness_rest:
        size = int(head["size"])
        if size <= report.tree_size:
            verification.witness_only(head)
        elif not TreeHead.objects.filter(size=size, root_hash=head.get("root_hash")).exists():
            verification.problem(
                "truncated",
                _("账本被截断：见证文件中的树头（%(size)d 条）超出数据库中的最新树头（%(latest)d 条）")
                % {"size": size, "latest": report.tree_size},
                head_size=size,
            )


# --- proofs ------------------------------------------------------------------------------


def _perfect_subtree(start: int, level: int) -> bytes:
    """Hash of the complete subtree of height `level` over leaves [start, start + 2**level)."""
    base = level - level % NODE_STRIDE
    count = 1 << (level - base)
    if base == 0:
        hashes = list(
            AuditEntry.objects.filter(seq__gt=start, seq__lte=start + count)
            .order_by("seq")
            .values_list("leaf_hash", flat=True)
        )
    else:
        first = start >> base
        hashes = list(
            AuditNode.objects.filter(level=base, index__gte=first, index__lt=first + count)
            .order_by("index")
            .values_list("hash", flat=True)
        )
    if len(hashes) != count:
        raise LedgerError(_("账本缺少构造证明所需的哈希（位置 %(start)d）") % {"start": start})
    return merkle.root([bytes.fromhex(h) for h in hashes])


def _subtree(start: int, end: int) -> bytes:
    """MTH of leaves [start, end) as RFC 6962 splits it: complete left parts, a ragged right edge."""
    width = end - start
    if width & (width - 1) == 0:
        return _perfect_subtree(start, width.bit_length() - 1)
    k = merkle.split_point(width)
    return merkle.node_hash(_perfect_subtree(start, k.bit_length() - 1), _subtree(start + k, end))


def _head(size: int | None, *, at_least: int = 1) -> TreeHead:
    heads = TreeHead.objects.filter(size__gte=at_least)
    head = (heads.filter(size=size) if size is not None else heads.order_by("-size")).first()
    if head is None:
        raise LedgerError(_("没有覆盖该位置的签名树头"))
    return head


def inclusion_proof(entry_id: int, *, tree_size: int | None = None) -> dict:
    """Proof that entry `entry_id` is in the signed tree (the latest head, or `tree_size`).

    Check it with `verify_inclusion(proof, public_key=...)`, no database needed.
    """
    row = entry_rows(AuditEntry.objects.filter(id=entry_id), with_seq=True).first()
    if row is None:
        raise AuditEntry.DoesNotExist(entry_id)
    seq = row[0]
    if seq is None:
        raise LedgerError(_("该记录尚未封存，稍后再试"))
    head = _head(tree_size, at_least=seq)
    data = entry_data(*row)
    return {
        "entry_id": entry_id,
        "seq": seq,
        "leaf_data": data.decode(),
        "leaf_hash": merkle.leaf_hash(data).hex(),
        "tree_size": head.size,
        "root_hash": head.root_hash,
        "audit_path": [_subtree(a, b).hex() for a, b in merkle.inclusion_ranges(seq - 1, head.size)],
        "signature": head.signature,
        "key_id": head.key_id,
    }


def consistency_proof(old_size: int, *, tree_size: int | None = None) -> dict:
    """Proof that the signed tree (latest, or `tree_size`) extends the tree of `old_size` entries."""
    head = _head(tree_size, at_least=old_size)
    return {
        "old_size": old_size,
        "tree_size": head.size,
        "root_hash": head.root_hash,
        "proof": [_subtree(a, b).hex() for a, b in merkle.consistency_ranges(old_size, head.size)],
        "signature": head.signature,
        "key_id": head.key_id,
    }


def _head_signed(public_key: str, size: int, root: bytes, signature: str) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
    except ValueError:
        return False
    return _signed(public, size, root.hex(), signature)


def verify_inclusion(proof: dict, *, public_key: str) -> bool:
    """Check an `inclusion_proof` against the ledger's public key (hex), as an outsider would."""
    try:
        data = proof["leaf_data"].encode()
        seq, size = int(proof["seq"]), int(proof["tree_size"])
        leaf, root = bytes.fromhex(proof["leaf_hash"]), bytes.fromhex(proof["root_hash"])
        path = [bytes.fromhex(p) for p in proof["audit_path"]]
        signature = proof["signature"]
    except (KeyError, ValueError, TypeError, AttributeError):
        return False
    return (
        data.split(b"\0", 1)[0] == str(seq).encode()
        and merkle.leaf_hash(data) == leaf
        and merkle.verify_inclusion(leaf, seq - 1, size, path, root)
        and _head_signed(public_key, size, root, signature)
    )


def verify_consistency(proof: dict, *, old_root: str, public_key: str) -> bool:
    """Check a `consistency_proof` against a root the caller kept from an earlier head."""
    try:
        old_size, size = int(proof["old_size"]), int(proof["tree_size"])
        old, root = bytes.fromhex(old_root), bytes.fromhex(proof["root_hash"])
        path = [bytes.fromhex(p) for p in proof["proof"]]
        signature = proof["signature"]
    except (KeyError, ValueError, TypeError):
        return False
    return merkle.verify_consistency(old_size, size, old, root, path) and _head_signed(public_key, size, root, signature)
