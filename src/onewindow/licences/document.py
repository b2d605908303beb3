"""The signed licence data file: canonical serialisation, salted field hashes, selective
disclosure. No database here, so the offline verifier uses the same code as the platform.

A licence's facts are a flat mapping of paths to scalars ("number", "issuer.uscc",
"field.address" …). As OpenAttestation wraps a document, each fact gets a random salt and a
leaf hash, SHA-256 of the canonical JSON of [path, salt, value]; the target hash is SHA-256 of
the sorted leaf hashes concatenated; the issuing department signs
`SIGNED_DOMAIN ‖ [algorithm, key id, issuer] ‖ target hash`. To share a copy with some facts hidden, the holder removes
them and lists their leaf hashes under "obfuscated": the target hash, and so the signature,
still checks, and nothing about the hidden values can be learnt from a salted hash.

The file is the canonical JSON (sorted keys, no spaces, UTF-8) of

    {"format": "onewindow-licence/1",
     "data": {path: {"salt": 32 hex, "value": scalar}, ...},
     "obfuscated": [64 hex, ...],
     "signature": {"type": "SaltedFieldHashes-SHA256", "algorithm": ..., "keyId": ...,
                   "issuer": USCC, "targetHash": 64 hex, "value": hex}}

and `parse` refuses anything that is not exactly that shape, so a changed byte is either a
changed fact (a different target hash) or a malformed file.
"""

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

FORMAT = "onewindow-licence/1"
SIGNATURE_TYPE = "SaltedFieldHashes-SHA256"
SIGNED_DOMAIN = b"OneWindow licence v1\n"
MAX_FILE_BYTES = 256 * 1024

# Facts a holder may hide in a shared copy: the licence's own fields and who holds it. The rest
# is needed to verify it (number, issuer, version, validity, status entry).
HIDEABLE_PREFIXES = ("field.",)
HIDEABLE_PATHS = frozenset({"holder.id", "holder.name"})
REQUIRED_PATHS = frozenset(
    {
        "number",
        "version",
        "licenceType.code",
        "licenceType.name",
        "issuer.uscc",
        "issuer.name",
        "holder.kind",
        "validFrom",
        "validUntil",
        "issuedOn",
        "signedAt",
        "status.index",
    }
)

_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64,256}")
_PATH = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*")

Scalar = str | int | bool | None


class Malformed(ValueError):
    """The file is not a licence data file of this format."""


def canonical(value: Any) -> bytes:
    return json.dumps(
        value,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    ).encode()


def leaf_hash(path: str, salt: str, value: Scalar) -> str:
    return hashlib.sha256(canonical([path, salt, value])).hexdigest()


def target_hash(leaves: Iterable[str]) -> str:
    return hashlib.sha256(
        b"".join(bytes.fromhex(leaf) for leaf in sorted(leaves))
    ).hexdigest()


def signed_message(target: str, *, algorithm: str, key_id: str, issuer: str) -> bytes:
    """What is signed: the domain, the signature's own claims (so none of them can be swapped),
    and the target hash."""
    return (
        SIGNED_DOMAIN
        + canonical([algorithm, key_id, issuer])
        + b"\n"
        + bytes.fromhex(target)
    )


def hideable(path: str) -> bool:
    return path in HIDEABLE_PATHS or path.startswith(HIDEABLE_PREFIXES)


@dataclass(frozen=True)
class Signature:
    algorithm: str
    key_id: str
    issuer: str
    target_hash: str
    value: str


@dataclass(frozen=True)
class Document:
    """A parsed data file."""

    data: dict[str, dict[str, Any]]
    obfuscated: tuple[str, ...]
    signature: Signature

    def value(self, path: str) -> Scalar:
        entry = self.data.get(path)
        return None if entry is None else entry["value"]

    @property
    def facts(self) -> dict[str, Scalar]:
        return {path: entry["value"] for path, entry in sorted(self.data.items())}

    def computed_target_hash(self) -> str:
        leaves = [
            leaf_hash(path, entry["salt"], entry["value"])
            for path, entry in self.data.items()
        ]
        return target_hash([*leaves, *self.obfuscated])

    def signed_message(self) -> bytes:
        signature = self.signature
        return signed_message(
            signature.target_hash,
            algorithm=signature.algorithm,
            key_id=signature.key_id,
            issuer=signature.issuer,
        )

    def hash_consistent(self) -> bool:
        return self.computed_target_hash() == self.signature.target_hash

    def serialise(self) -> bytes:
        return canonical(
            {
                "format": FORMAT,
                "data": self.data,
                "obfuscated": sorted(self.obfuscated),
                "signature": {
                    "type": SIGNATURE_TYPE,
                    "algorithm": self.signature.algorithm,
                    "keyId": self.signature.key_id,
                    "issuer": self.signature.issuer,
                    "targetHash": self.signature.target_hash,
                    "value": self.signature.value,
                },
            }
        )


def wrap(
    facts: dict[str, Scalar],
    *,
    sign: Callable[[bytes], str],
    algorithm: str,
    key_id: str,
    issuer: str,
) -> Document:
    """Salt every fact, compute the target hash and sign it with `sign(message) -> hex`."""
    for path, value in facts.items():
        if not _PATH.fullmatch(path) or not _is_scalar(value):
            raise ValueError(f"fact {path!r} is not a path with a scalar value")
    data = {
        path: {"salt": secrets.token_hex(16), "value": value}
        for path, value in facts.items()
    }
    target = target_hash(
        leaf_hash(path, entry["salt"], entry["value"]) for path, entry in data.items()
    )
    message = signed_message(target, algorithm=algorithm, key_id=key_id, issuer=issuer)
    signature = Signature(
        algorithm=algorithm,
        key_id=key_id,
        issuer=issuer,
        target_hash=target,
        value=sign(message),
    )
    return Document(data=data, obfuscated=(), signature=signature)


def obfuscate(document: Document, paths: Iterable[str]) -> Document:
    """A copy with the facts at `paths` hidden (only hideable ones; unknown paths are refused)."""
    hidden = set(paths)
    for path in hidden:
        if path not in document.data:
            raise ValueError(f"no fact {path!r} to hide")
        if not hideable(path):
            raise ValueError(f"fact {path!r} cannot be hidden")
    data = {path: entry for path, entry in document.data.items() if path not in hidden}
    removed = [
        leaf_hash(path, document.data[path]["salt"], document.data[path]["value"])
        for path in hidden
    ]
    return Document(
        data=data,
        obfuscated=tuple(sorted([*document.obfuscated, *removed])),
        signature=document.signature,
    )


def _is_scalar(value: Any) -> bool:
    return (
        value is None
        or isinstance(value, str | bool | int)
        and not isinstance(value, float)
    )


def _exact_keys(value: Any, keys: set[str], what: str) -> dict:
    if not isinstance(value, dict) or set(value) != keys:
        raise Malformed(what)
    return value


def parse(raw: bytes | str, *, required: frozenset[str] = REQUIRED_PATHS) -> Document:
    """The document in a data file (with the `required` facts), or Malformed saying why not."""
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > MAX_FILE_BYTES:
        raise Malformed("file too large")
    try:
        body = json.loads(
            raw.decode("utf-8"), parse_float=_no_float, parse_constant=_no_float
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise Malformed(f"not JSON: {exc}") from None
    body = _exact_keys(
        body, {"format", "data", "obfuscated", "signature"}, "unexpected top-level keys"
    )
    if body["format"] != FORMAT:
        raise Malformed("unknown format")
    signature = _exact_keys(
        body["signature"],
        {"type", "algorithm", "keyId", "issuer", "targetHash", "value"},
        "unexpected signature keys",
    )
    if signature["type"] != SIGNATURE_TYPE:
        raise Malformed("unknown signature type")
    if not all(isinstance(signature[key], str) for key in signature):
        raise Malformed("signature values must be text")
    if not _HEX64.fullmatch(signature["targetHash"]) or not _HEX_SIGNATURE.fullmatch(
        signature["value"]
    ):
        raise Malformed("malformed hash or signature")
    data = body["data"]
    if not isinstance(data, dict):
        raise Malformed("data must be an object")
    for path, entry in data.items():
        entry = _exact_keys(entry, {"salt", "value"}, "unexpected entry keys")
        if (
            not _PATH.fullmatch(path)
            or not isinstance(entry["salt"], str)
            or not _HEX32.fullmatch(entry["salt"])
        ):
            raise Malformed("malformed entry")
        if not _is_scalar(entry["value"]):
            raise Malformed("values must be scalars")
    obfuscated = body["obfuscated"]
    if not isinstance(obfuscated, list) or not all(
        isinstance(h, str) and _HEX64.fullmatch(h) for h in obfuscated
    ):
        raise Malformed("malformed obfuscated hashes")
    if len(set(obfuscated)) != len(obfuscated):
        raise Malformed("repeated obfuscated hash")
    missing = required - set(data)
    if missing:
        raise Malformed(f"missing facts: {', '.join(sorted(missing))}")
    document = Document(
        data=data,
        obfuscated=tuple(obfuscated),
        signature=Signature(
            algorithm=signature["algorithm"],
            key_id=signature["keyId"],
            issuer=signature["issuer"],
            target_hash=signature["targetHash"],
            value=signature["value"],
        ),
    )
    # One serialisation only: the same facts written any other way are not this file.
    if document.serialise() != raw:
        raise Malformed("not in canonical form")
    return document


def _no_float(value: str) -> Any:
    raise ValueError(f"number {value} is not an integer")
