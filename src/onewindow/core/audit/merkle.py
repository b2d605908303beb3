"""RFC 6962 / RFC 9162 Merkle tree hashing over SHA-256.

leaf = H(0x00 ‖ data), node = H(0x01 ‖ left ‖ right); the tree over n leaves splits at the
largest power of two below n. Proofs are lists of 32-byte hashes; which subtree each one
covers is given by `inclusion_ranges` / `consistency_ranges`, so a caller holding stored
subtree hashes (the ledger) and a caller holding every leaf (tests) build the same proof.

The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by step and consume the whole
proof: a proof with an element too many or too few, or for other sizes, is rejected.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly below n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return Frontier.of(leaf_hashes).root()


def subtree_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    return root(leaf_hashes[start:end])


Range = tuple[int, int]


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges [start, end) whose subtree hashes form PATH(index, D[size]), leaf side first."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """Leaf ranges whose subtree hashes form PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1)."""
    if not 0 < old_size <= new_size:
        raise ValueError("need 0 < old_size <= new_size")
    ranges: list[Range] = []
    m, lo, hi, complete = old_size, 0, new_size, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            m -= k
            lo += k
            complete = False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    return [subtree_root(leaf_hashes, a, b) for a, b in inclusion_ranges(index, len(leaf_hashes))]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    return [subtree_root(leaf_hashes, a, b) for a, b in consistency_ranges(old_size, len(leaf_hashes))]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `leaf` (a leaf hash) sit at `index` in the tree `size`/`root_hash`?"""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is tree `new_size`/`new_root` an append-only extension of `old_size`/`old_root`?"""
    if not 0 < old_size <= new_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


NodeSink = Callable[[int, int, bytes], None]


class Frontier:
    """The right edge of a tree: one complete-subtree hash per set bit of `size`, largest first.

    Appending k leaves costs O(k) hashing amortised and the root O(log n), without rereading
    any earlier leaf; the ledger stores this list with each signed head.
    """

    __slots__ = ("size", "hashes")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != size.bit_count():
            raise ValueError("a frontier holds one hash per set bit of its size")

    @classmethod
    def of(cls, leaf_hashes: Iterable[bytes]) -> "Frontier":
        frontier = cls()
        frontier.extend(leaf_hashes)
        return frontier

    def extend(self, leaf_hashes: Iterable[bytes], on_node: NodeSink | None = None, min_level: int = 1) -> None:
        """Append leaves; `on_node(level, index, hash)` sees each completed subtree of height ≥ min_level."""
        stack, size, node = self.hashes, self.size, _sha256
        for h in leaf_hashes:
            level, n = 0, size
            while n & 1:
                h = node(b"\x01" + stack.pop() + h).digest()
                level += 1
                n >>= 1
                if on_node is not None and level >= min_level:
                    on_node(level, size >> level, h)
            stack.append(h)
            size += 1
        self.size = size

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        r = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            r = node_hash(h, r)
        return r
