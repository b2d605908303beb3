"""Placeholder: sealing, Merkle tree, signed heads and verification (ledger work)."""


def request_seal() -> None:
    return None
