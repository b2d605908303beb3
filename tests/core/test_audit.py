"""The tamper-evident audit ledger: RFC 6962 hashing and proofs, sealing, triggers,
verification against an attacker who controls the database, proofs, the command, the admin."""

import io
import json
import os
import random
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from onewindow.core import audit, periodic
from onewindow.core.audit import ledger, merkle, triggers
from onewindow.core.models.audit import AuditEntry, AuditNode, TreeHead

# --- RFC 6962 hashing and proofs --------------------------------------------------------------

# The Certificate Transparency reference leaves and the root of each prefix (RFC 6962 test data,
# as published with the CT and transparency-dev Merkle tree implementations).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_CONSISTENCY = {
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}

MAX_LEAVES = 64
LEAVES = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(MAX_LEAVES)]


def flipped(value: bytes, position: int) -> bytes:
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


def test_roots_match_the_rfc_6962_reference():
    hashes = [merkle.leaf_hash(leaf) for leaf in CT_LEAVES]
    for size, expected in enumerate(CT_ROOTS):
        assert merkle.root(hashes[:size]).hex() == expected


def test_proofs_match_the_rfc_6962_reference():
    hashes = [merkle.leaf_hash(leaf) for leaf in CT_LEAVES]
    for (index, size), expected in CT_INCLUSION.items():
        assert [p.hex() for p in merkle.inclusion_proof(hashes[:size], index)] == expected
    for (old, new), expected in CT_CONSISTENCY.items():
        assert [p.hex() for p in merkle.consistency_proof(hashes[:new], old)] == expected
        proof = [bytes.fromhex(p) for p in expected]
        assert merkle.verify_consistency(old, new, bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new]), proof)


def test_every_inclusion_proof_verifies_and_flipped_bytes_fail():
    rng = random.Random(9162)
    for size in range(1, MAX_LEAVES + 1):
        tree = LEAVES[:size]
        root = merkle.root(tree)
        for index in range(size):
            proof = merkle.inclusion_proof(tree, index)
            assert merkle.verify_inclusion(tree[index], index, size, proof, root)
            # Every byte for small trees; one byte per hash for the rest keeps the suite quick.
            positions = range(merkle.HASH_SIZE) if size <= 8 else [rng.randrange(merkle.HASH_SIZE)]
            for position in positions:
                assert not merkle.verify_inclusion(flipped(tree[index], position), index, size, proof, root)
                assert not merkle.verify_inclusion(tree[index], index, size, proof, flipped(root, position))
                for k in range(len(proof)):
                    bad = proof[:k] + [flipped(proof[k], position)] + proof[k + 1 :]
                    assert not merkle.verify_inclusion(tree[index], index, size, bad, root)
            for other in {index - 1, index + 1, size} - {-1}:
                assert not merkle.verify_inclusion(tree[index], other, size, proof, root)
            assert not merkle.verify_inclusion(tree[index], index, size, [*proof, root], root)
            if proof:
                assert not merkle.verify_inclusion(tree[index], index, size, proof[:-1], root)


def test_every_consistency_proof_verifies_and_flipped_bytes_fail():
    rng = random.Random(6962)
    roots = [merkle.root(LEAVES[:n]) for n in range(MAX_LEAVES + 1)]
    for new in range(1, MAX_LEAVES + 1):
        tree = LEAVES[:new]
        for old in range(1, new + 1):
            proof = merkle.consistency_proof(tree, old)
            assert merkle.verify_consistency(old, new, roots[old], roots[new], proof)
            position = rng.randrange(merkle.HASH_SIZE)
            assert not merkle.verify_consistency(old, new, flipped(roots[old], position), roots[new], proof)
            assert not merkle.verify_consistency(old, new, roots[old], flipped(roots[new], position), proof)
            for k in range(len(proof)):
                bad = proof[:k] + [flipped(proof[k], position)] + proof[k + 1 :]
                assert not merkle.verify_consistency(old, new, roots[old], roots[new], bad)
            assert not merkle.verify_consistency(old, new, roots[old], roots[new], [*proof, roots[new]])
            if proof:
                assert not merkle.verify_consistency(old, new, roots[old], roots[new], proof[:-1])
            if old < new:
                if merkle.consistency_proof(LEAVES[: new - 1], old) != proof:
                    assert not merkle.verify_consistency(old, new - 1, roots[old], roots[new - 1], proof)
                assert not merkle.verify_consistency(new, old, roots[new], roots[old], proof)


def test_a_malicious_server_cannot_prove_a_rewritten_history():
    """The client keeps an old head; a server that changed any earlier leaf, or that answers for
    other sizes, or that sends reshuffled or invented hashes, must fail (immudb GHSA-672p-m5jq-mrh8)."""
    rng = random.Random(6962)
    for new in range(2, 33):
        honest = LEAVES[:new]
        for old in range(1, new):
            old_root = merkle.root(honest[:old])
            for changed in range(old):
                forged = list(honest)
                forged[changed] = merkle.leaf_hash(b"rewritten")
                forged_root = merkle.root(forged)
                # The server's proof is internally consistent for its own rewritten tree.
                proof = merkle.consistency_proof(forged, old)
                assert merkle.verify_consistency(old, new, merkle.root(forged[:old]), forged_root, proof)
                assert not merkle.verify_consistency(old, new, old_root, forged_root, proof)
            honest_proof = merkle.consistency_proof(honest, old)
            new_root = merkle.root(honest)
            # Answers for another size, invented hashes, reshuffled or padded proofs.
            for other in range(old, new):
                other_proof = merkle.consistency_proof(LEAVES[:other], old)
                assert not merkle.verify_consistency(old, new, old_root, new_root, other_proof)
            invented = [rng.randbytes(32) for _ in honest_proof]
            assert not merkle.verify_consistency(old, new, old_root, new_root, invented)
            if len(honest_proof) > 1:
                assert not merkle.verify_consistency(old, new, old_root, new_root, honest_proof[::-1])
            assert not merkle.verify_consistency(old, new, old_root, new_root, [old_root, *honest_proof])
            assert not merkle.verify_consistency(old, new, old_root, new_root, [])
            # Unless the old tree is a complete left subtree, hashing its root with something
            # else does not make an extension.
            if old & (old - 1):
                extra = rng.randbytes(32)
                assert not merkle.verify_consistency(old, new, old_root, merkle.node_hash(old_root, extra), [extra])


def test_frontier_roots_and_completed_subtrees_match_full_recomputation():
    nodes = []
    frontier = merkle.Frontier()
    for size in range(1, MAX_LEAVES + 1):
        frontier.extend([LEAVES[size - 1]], lambda level, index, h: nodes.append((level, index, h)))
        assert frontier.root() == merkle.root(LEAVES[:size])
        assert len(frontier.hashes) == size.bit_count()
    for level, index, h in nodes:
        width = 1 << level
        assert h == merkle.root(LEAVES[index * width : (index + 1) * width])
    assert len(nodes) == MAX_LEAVES - 1
    resumed = merkle.Frontier(frontier.size, frontier.hashes)
    assert resumed.root() == frontier.root()
    with pytest.raises(ValueError):
        merkle.Frontier(3, frontier.hashes[:1])


# --- the ledger -----------------------------------------------------------------------------

ledger_db = pytest.mark.django_db(transaction=True)


def write(count: int, *, prefix: str = "case") -> list[int]:
    ids = []
    with transaction.atomic():
        for i in range(count):
            entry = audit.record(
                actor=None, action=f"{prefix}.update", object_type="cases.case", object_id=str(i),
                before={"status": "待受理"}, after={"status": "已受理", "n": i},
            )
            ids.append(entry.id)
    return ids


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def witness_lines(files) -> list[dict]:
    return [json.loads(line) for line in (files / "ledger_heads.jsonl").read_text().splitlines()]


def recomputed_leaves() -> list[bytes]:
    rows = ledger.entry_rows(AuditEntry.objects.order_by("seq"), with_seq=True)
    return [merkle.leaf_hash(ledger.entry_data(*row)) for row in rows]


@pytest.mark.django_db
def test_record_refuses_nul_and_nothing_is_sealed_or_proven_inside_a_transaction():
    with pytest.raises(ValueError):
        audit.record(actor=None, action="case.update", object_id="1\x002")
    [entry_id] = write(1)
    with pytest.raises(RuntimeError):
        ledger.seal()  # the witness must only ever see committed heads
    with pytest.raises(ledger.LedgerError):
        ledger.inclusion_proof(entry_id)  # not sealed yet


@pytest.mark.django_db
def test_the_leaf_encoding_reads_time_and_address_the_same_on_every_database():
    from datetime import UTC, datetime

    moments = [
        datetime(2025, 3, 1, 8, 30, 0, tzinfo=UTC),
        datetime(2025, 3, 1, 8, 30, 0, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
    ]
    for moment, ip in zip(moments, ["10.1.2.3", "2001:db8::1", None]):
        entry = AuditEntry.objects.create(created_at=moment, ip=ip, action="case.update", changes="{}")
        entry.refresh_from_db()
        [row] = ledger.entry_rows(AuditEntry.objects.filter(id=entry.id))
        assert row[1] == ledger.epoch_micros(moment) == ledger.epoch_micros(entry.created_at)
        assert row[-1] == entry.ip == ip
        data = ledger.entry_data(1, *row).split(b"\0")
        assert len(data) == 10 and data[2] == str(ledger.epoch_micros(moment)).encode()


@ledger_db
def test_seal_numbers_entries_and_signs_a_head_extending_the_last_one(ledger_files):
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="case.update")  # outside the service's transaction
    write(10)
    assert ledger.seal() == 10
    assert ledger.seal() == 0  # nothing pending, no empty head
    write(5)
    assert ledger.seal(max_batch=3) == 3
    assert ledger.seal(max_batch=3) == 2

    assert list(AuditEntry.objects.order_by("id").values_list("seq", flat=True)) == list(range(1, 16))
    leaves = recomputed_leaves()
    assert list(AuditEntry.objects.order_by("seq").values_list("leaf_hash", flat=True)) == [h.hex() for h in leaves]
    public = ledger.public_key_hex()
    heads = list(TreeHead.objects.order_by("size"))
    assert [h.size for h in heads] == [10, 13, 15]
    for head in heads:
        assert head.root_hash == merkle.root(leaves[: head.size]).hex()
        assert ledger.verify_consistency(
            ledger.consistency_proof(head.size), old_root=head.root_hash, public_key=public
        )
    assert [line["size"] for line in witness_lines(ledger_files)] == [10, 13, 15]
    assert os.stat(ledger_files / "ledger_ed25519.pem").st_mode & 0o777 == 0o600

    report = ledger.verify()
    assert report.ok, report.problems
    assert (report.entries, report.heads, report.unsealed, report.tree_size) == (15, 3, 0, 15)
    assert report.triggers_installed


@ledger_db
def test_an_entry_committed_late_with_a_lower_id_is_sealed_in_the_next_batch():
    base = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    fields = {"action": "case.update", "object_type": "cases.case", "changes": "{}", "actor_label": "system"}
    AuditEntry.objects.create(id=base + 1000, **fields)
    assert ledger.seal() == 1
    AuditEntry.objects.create(id=base + 500, **fields)  # its transaction committed after the seal
    assert ledger.seal() == 1
    assert dict(AuditEntry.objects.values_list("id", "seq")) == {base + 1000: 1, base + 500: 2}
    assert ledger.verify().ok


@ledger_db
def test_the_database_refuses_edits_deletes_and_a_second_seal():
    [first, second] = write(2)
    entry = AuditEntry.objects.get(id=first)

    def refused(sql: str, params: list | None = None) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            execute(sql, params)

    table, heads, nodes = AuditEntry._meta.db_table, TreeHead._meta.db_table, AuditNode._meta.db_table
    refused(f"UPDATE {table} SET action = 'x' WHERE id = %s", [first])  # even before sealing
    refused(f"UPDATE {table} SET seq = 1, leaf_hash = 'ab', action = 'x' WHERE id = %s", [first])
    refused(f"UPDATE {table} SET seq = 1 WHERE id = %s", [first])  # a seal needs the hash too
    refused(f"DELETE FROM {table} WHERE id = %s", [second])
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.delete()
    ledger.seal()
    refused(f"UPDATE {table} SET seq = 7 WHERE id = %s", [first])
    refused(f"UPDATE {table} SET leaf_hash = 'ab' WHERE id = %s", [first])
    refused(f"UPDATE {heads} SET root_hash = 'ab'")
    refused(f"DELETE FROM {heads}")
    AuditNode.objects.create(level=8, index=999, hash="00")
    refused(f"UPDATE {nodes} SET hash = 'ab'")
    refused(f"DELETE FROM {nodes}")
    if connection.vendor == "postgresql":
        refused(f"TRUNCATE {table}, {heads}, {nodes}")
    assert AuditEntry.objects.filter(seq__isnull=False).count() == 2
    assert triggers.installed()


# --- tampering: an attacker who can drop the triggers ----------------------------------------


@pytest.fixture
def attacker():
    """What someone with superuser rights does first. The flush after the test reinstalls them."""
    triggers.uninstall()


def sealed_ledger(batches=(6, 6, 8)) -> list[int]:
    ids = []
    for size in batches:
        ids += write(size)
        ledger.seal()
    return ids


def problem_codes(report) -> list[str]:
    return [p.code for p in report.problems]


@ledger_db
def test_verify_catches_an_edited_entry(attacker):
    ids = sealed_ledger()
    execute(f"UPDATE {AuditEntry._meta.db_table} SET changes = %s WHERE id = %s", ['{"after":{"status":"不予受理"}}', ids[7]])
    report = ledger.verify()
    assert not report.ok
    assert (report.first.code, report.first_bad_seq, report.first_bad_id) == ("edited", 8, ids[7])
    assert "修改" in report.reason


@ledger_db
def test_verify_catches_an_edit_whose_leaf_hash_was_recomputed(attacker):
    ids = sealed_ledger()
    seq, *fields = ledger.entry_rows(AuditEntry.objects.filter(id=ids[3]), with_seq=True).get()
    fields[3] = "someone-else"  # actor_label
    forged = merkle.leaf_hash(ledger.entry_data(seq, *fields)).hex()
    execute(
        f"UPDATE {AuditEntry._meta.db_table} SET actor_label = %s, leaf_hash = %s WHERE id = %s",
        ["someone-else", forged, ids[3]],
    )
    report = ledger.verify()
    assert not report.ok
    assert "edited" not in problem_codes(report)  # the row agrees with itself ...
    assert report.first.code == "root_mismatch" and report.first.head_size == 6  # ... not with the signed root


@ledger_db
def test_verify_catches_a_deleted_entry(attacker):
    ids = sealed_ledger()
    execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [ids[9]])
    report = ledger.verify()
    assert (report.first.code, report.first_bad_seq) == ("deleted", 10)
    assert "root_mismatch" in problem_codes(report)


@ledger_db
def test_verify_catches_two_entries_swapped(attacker):
    ids = sealed_ledger()
    table = AuditEntry._meta.db_table
    execute(f"UPDATE {table} SET seq = -1 WHERE id = %s", [ids[4]])
    execute(f"UPDATE {table} SET seq = 5 WHERE id = %s", [ids[11]])
    execute(f"UPDATE {table} SET seq = 12 WHERE id = %s", [ids[4]])
    report = ledger.verify()
    assert (report.first.code, report.first_bad_seq, report.first_bad_id) == ("reordered", 5, ids[11])
    assert "12" in report.reason
    assert [p.code for p in report.problems if p.seq == 12] == ["reordered"]


@ledger_db
def test_verify_catches_a_forged_head(attacker):
    ids = sealed_ledger()
    # Rewrite an entry, recompute every hash and re-sign the head with a key of one's own.
    seq, *fields = ledger.entry_rows(AuditEntry.objects.filter(id=ids[-1]), with_seq=True).get()
    fields[7] = '{"after":{"status":"准予许可"}}'
    forged = merkle.leaf_hash(ledger.entry_data(seq, *fields)).hex()
    execute(f"UPDATE {AuditEntry._meta.db_table} SET changes = %s, leaf_hash = %s WHERE id = %s", [fields[7], forged, ids[-1]])
    root = merkle.root(recomputed_leaves())
    signature = Ed25519PrivateKey.generate().sign(ledger.head_message(20, root)).hex()
    execute(f"UPDATE {TreeHead._meta.db_table} SET root_hash = %s, signature = %s WHERE size = 20", [root.hex(), signature])
    report = ledger.verify()
    assert (report.first.code, report.first.head_size) == ("signature_invalid", 20)
    assert "witness_mismatch" in problem_codes(report)
    assert "root_mismatch" not in problem_codes(report)


@ledger_db
def test_verify_and_seal_catch_a_truncated_ledger(attacker):
    ids = sealed_ledger()
    execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id IN ({', '.join(map(str, ids[12:]))})")
    execute(f"DELETE FROM {TreeHead._meta.db_table} WHERE size = 20")
    execute(f"DELETE FROM {AuditNode._meta.db_table}")
    report = ledger.verify()
    assert report.entries == 12
    assert [(p.code, p.head_size) for p in report.problems] == [("truncated", 20)]
    write(1)
    with pytest.raises(ledger.LedgerError):
        ledger.seal()


@ledger_db
def test_verify_catches_a_head_missing_from_the_witness(ledger_files):
    sealed_ledger()
    path = ledger_files / "ledger_heads.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[2])
    report = ledger.verify()
    assert [(p.code, p.head_size) for p in report.problems] == [("head_missing_from_witness", 12)]


@ledger_db
def test_verify_reports_a_missing_signing_key(ledger_files):
    sealed_ledger()
    (ledger_files / "ledger_ed25519.pem").unlink()
    report = ledger.verify()
    assert problem_codes(report) == ["key_missing"]


@ledger_db
def test_rotated_key_signs_new_heads_and_old_heads_still_verify(ledger_files):
    sealed_ledger()
    old_id = TreeHead.objects.order_by("-size").first().key_id

    rotated_from, rotated_to = ledger.rotate_key()
    write(3)
    ledger.seal_all()

    assert rotated_from == old_id != rotated_to
    assert set(TreeHead.objects.values_list("key_id", flat=True)) == {old_id, rotated_to}
    assert AuditEntry.objects.filter(action="audit.key_rotate", object_id=rotated_to).count() == 1
    report = ledger.verify()
    assert report.ok, report.problems
    assert os.stat(ledger_files / "ledger_ed25519.pem").st_mode & 0o777 == 0o600


@ledger_db
def test_heads_of_a_key_dropped_from_the_retired_list_fail(ledger_files):
    sealed_ledger()
    ledger.rotate_key()
    write(2)
    ledger.seal_all()
    (ledger_files / "ledger_retired_keys.json").write_text("{}")

    report = ledger.verify()
    assert not report.ok
    assert set(problem_codes(report)) == {"signature_invalid"}


@ledger_db
def test_a_forged_retired_key_entry_is_refused(ledger_files):
    sealed_ledger()
    ledger.rotate_key()
    forged = {"0123456789abcdef": "00" * 32}
    (ledger_files / "ledger_retired_keys.json").write_text(json.dumps(forged))
    with pytest.raises(ledger.LedgerError):
        ledger.verify()


# --- proofs -----------------------------------------------------------------------------------


@ledger_db
def test_inclusion_proofs_verify_outside_and_fail_when_tampered(attacker):
    ids = []
    for size in (97, 97, 97, 300):  # several heads; complete subtrees of height 8 stored
        ids += write(size)
        ledger.seal()
    assert AuditNode.objects.filter(level=8).count() == len(ids) // 256
    public = ledger.public_key_hex()
    for entry_id in {ids[0], ids[254], ids[255], ids[256], ids[400], ids[-1]}:
        with CaptureQueriesContext(connection) as queries:
            proof = ledger.inclusion_proof(entry_id)
        # O(log n) small queries (a ragged right edge costs one per complete part), not a scan.
        assert len(queries) <= 2 + 2 * len(ids).bit_length()
        assert proof["tree_size"] == len(ids)
        assert ledger.verify_inclusion(proof, public_key=public)
        for field, value in [
            ("leaf_data", proof["leaf_data"].replace("已受理", "不予受理")),
            ("seq", proof["seq"] + 1),
            ("audit_path", [flipped(bytes.fromhex(proof["audit_path"][0]), 0).hex(), *proof["audit_path"][1:]]),
            ("root_hash", flipped(bytes.fromhex(proof["root_hash"]), 5).hex()),
            ("signature", flipped(bytes.fromhex(proof["signature"]), 7).hex()),
            ("tree_size", proof["tree_size"] + 1),
        ]:
            assert not ledger.verify_inclusion({**proof, field: value}, public_key=public), field
        other_key = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
        assert not ledger.verify_inclusion(proof, public_key=other_key)
    older = ledger.inclusion_proof(ids[5], tree_size=97)
    assert older["tree_size"] == 97 and ledger.verify_inclusion(older, public_key=public)

    # A stored subtree hash that was altered: verify names it, and proofs through it fail.
    execute(f"UPDATE {AuditNode._meta.db_table} SET hash = %s WHERE level = 8 AND {connection.ops.quote_name('index')} = 0", ["00" * 32])
    assert "node_mismatch" in problem_codes(ledger.verify())
    assert not ledger.verify_inclusion(ledger.inclusion_proof(ids[-1]), public_key=public)


# --- concurrency ----------------------------------------------------------------------------


@ledger_db
def test_concurrent_writers_and_two_sealers_seal_every_entry_exactly_once():
    writers, transactions, done = 4, 25, threading.Event()
    errors: list[BaseException] = []

    def in_thread(work):
        def run():
            try:
                work()
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)
            finally:
                connections.close_all()

        return threading.Thread(target=run)

    def writer(n: int):
        def work():
            for i in range(transactions):
                with transaction.atomic():
                    for j in range(1 + (i + n) % 3):
                        audit.record(actor=None, action="case.update", object_type="w", object_id=f"{n}-{i}-{j}")

        return work

    def sealer():
        while not done.is_set():
            ledger.seal(max_batch=7)

    sealers = [in_thread(sealer) for _ in range(2)]
    threads = [in_thread(writer(n)) for n in range(writers)]
    for thread in sealers + threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    for thread in sealers:
        thread.join()
    assert not errors, errors
    ledger.seal_all()

    total = sum(1 + (i + n) % 3 for n in range(writers) for i in range(transactions))
    seqs = sorted(AuditEntry.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.entries == total and report.heads == TreeHead.objects.count()


# --- sweep, command, admin ------------------------------------------------------------------


@ledger_db
def test_the_worker_sweep_seals_everything_pending():
    registered = periodic.registry["onewindow.core.audit.ledger.seal_sweep"]
    assert registered.every_seconds == 2
    write(12)
    assert registered.function() == 12
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()


@ledger_db
def test_seal_all_seals_batch_after_batch():
    write(7)
    assert ledger.seal_all(max_batch=3) == 7
    assert list(TreeHead.objects.order_by("size").values_list("size", flat=True)) == [3, 6, 7]


@ledger_db
def test_command_seal_verify_proof_and_heads(attacker):
    ids = write(4)
    out = io.StringIO()
    call_command("audit", "seal", stdout=out)
    assert "4" in out.getvalue()
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().startswith("OK") and "4" in out.getvalue()

    out = io.StringIO()
    call_command("audit", "proof", str(ids[2]), stdout=out)
    assert ledger.verify_inclusion(json.loads(out.getvalue()), public_key=ledger.public_key_hex())
    out = io.StringIO()
    call_command("audit", "heads", stdout=out)
    assert ledger.public_key_hex() in out.getvalue() and "\n4\t" in "\n" + out.getvalue()
    with pytest.raises(CommandError):
        call_command("audit", "proof", "999999999")

    execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [ids[1]])
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify", stdout=io.StringIO(), stderr=err)
    assert failure.value.returncode == 1
    assert "[deleted]" in err.getvalue() and "序号 2" in err.getvalue()


@pytest.mark.django_db
def test_admin_is_read_only_and_searchable(admin_client, admin_user):
    with transaction.atomic():
        audit.record(actor=admin_user, action="department.create", object_type="core.department", object_id="42")
        audit.record(actor=admin_user, action="region.update", object_type="core.region", object_id="520000")
    entry = AuditEntry.objects.get(object_id="42")
    changelist = reverse("admin:core_auditentry_changelist")
    page = admin_client.get(changelist, {"q": "department"})
    assert page.status_code == 200
    assert "department.create" in page.content.decode() and "region.update" not in page.content.decode()
    assert admin_client.get(reverse("admin:core_auditentry_change", args=[entry.id])).status_code == 200
    assert admin_client.get(reverse("admin:core_auditentry_add")).status_code == 403
    assert admin_client.post(reverse("admin:core_auditentry_delete", args=[entry.id]), {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:core_treehead_changelist")).status_code == 200
    assert AuditEntry.objects.filter(id=entry.id, action="department.create").exists()
