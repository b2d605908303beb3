"""Signature algorithms for licences and the sealing of the departments' private keys.

Ed25519 comes from `cryptography`. SM2 (with SM3, GB/T 32918 / GM/T 0003) comes from `gmssl`,
used only through `Sm2` here: gmssl draws the signing nonce k from `random.choice` (a Mersenne
Twister; a predictable k gives the private key away), so every signature passes a k drawn with
`secrets`. gmssl's constructor also strips any leading "0"/"4" characters of a public key that
starts with "04", so the key is set after construction. Swapping in a certified module (a UKey
or a signing server) means another `Signer` with the same three functions.

Private keys are stored sealed: AES-256-GCM under the platform's licence master key (a file in
the data folder, `LICENCE_MASTER_KEY_FILE`), with the key id as associated data so a sealed
key cannot be moved to another row.
"""

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from gmssl import sm2 as gm_sm2

from onewindow.licences.choices import Algorithm

NONCE_BYTES = 12


class Signer(Protocol):
    def generate(self) -> tuple[bytes, str]:
        """A new key pair: (private key bytes, public key as hex)."""

    def sign(self, private_key: bytes, public_key: str, message: bytes) -> str:
        """The signature of `message`, as lowercase hex."""

    def verify(self, public_key: str, message: bytes, signature: str) -> bool: ...


class Ed25519:
    def generate(self) -> tuple[bytes, str]:
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return private, public.hex()

    def sign(self, private_key: bytes, public_key: str, message: bytes) -> str:
        return Ed25519PrivateKey.from_private_bytes(private_key).sign(message).hex()

    def verify(self, public_key: str, message: bytes, signature: str) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
                bytes.fromhex(signature), message
            )
        except (InvalidSignature, ValueError):
            return False
        return True


SM2_N = int(gm_sm2.default_ecc_table["n"], 16)
SM2_ATTEMPTS = 8


class Sm2:
    """SM2 signatures with SM3 (the default user id "1234567812345678"), r‖s as 128 hex digits;
    public keys are x‖y (128 hex digits, no 04 prefix)."""

    @staticmethod
    def _crypt(private_hex: str, public_hex: str) -> gm_sm2.CryptSM2:
        crypt = gm_sm2.CryptSM2(private_key=private_hex, public_key="")
        crypt.public_key = public_hex
        return crypt

    def generate(self) -> tuple[bytes, str]:
        private = secrets.randbelow(SM2_N - 2) + 1  # d in [1, n-2]
        private_hex = f"{private:064x}"
        public_hex = self._crypt(private_hex, "")._kg(
            private, gm_sm2.default_ecc_table["g"]
        )
        return bytes.fromhex(private_hex), public_hex

    def sign(self, private_key: bytes, public_key: str, message: bytes) -> str:
        crypt = self._crypt(private_key.hex(), public_key)
        for _attempt in range(SM2_ATTEMPTS):
            nonce = f"{secrets.randbelow(SM2_N - 1) + 1:064x}"  # k in [1, n-1], from the OS CSPRNG
            signature = crypt.sign_with_sm3(message, random_hex_str=nonce)
            if signature:  # gmssl returns None for the rare k that gives r = 0 or s = 0
                return signature
        raise RuntimeError("SM2 signing failed repeatedly")

    def verify(self, public_key: str, message: bytes, signature: str) -> bool:
        if len(signature) != 128 or len(public_key) != 128:
            return False
        try:
            r, s = int(signature[:64], 16), int(signature[64:], 16)
            if not (0 < r < SM2_N and 0 < s < SM2_N):
                return False
            return bool(self._crypt("", public_key).verify_with_sm3(signature, message))
        except (ValueError, TypeError, IndexError):
            return False


SIGNERS: dict[str, Signer] = {Algorithm.ED25519: Ed25519(), Algorithm.SM2: Sm2()}


def signer(algorithm: str) -> Signer:
    return SIGNERS[algorithm]


def key_id_of(algorithm: str, public_key: str) -> str:
    """A short, stable identifier of a public key (its SHA-256, with the algorithm)."""
    return hashlib.sha256(f"{algorithm}:{public_key}".encode()).hexdigest()[:32]


# --- sealing private keys ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Master:
    path: Path
    key: bytes


_master_cache: dict[str, _Master] = {}


def _master_path() -> Path:
    return Path(
        getattr(
            settings,
            "LICENCE_MASTER_KEY_FILE",
            settings.DATA_DIR / "licence_master.key",
        )
    )


def _master_key() -> bytes:
    """The master key, created on first use (the first process to link its file wins)."""
    path = _master_path()
    cached = _master_cache.get(str(path))
    if cached is not None:
        return cached.key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    key = path.read_bytes()
    if len(key) != 32:
        raise RuntimeError("the licence master key file must hold 32 bytes")
    _master_cache[str(path)] = _Master(path, key)
    return key


def seal(private_key: bytes, *, key_id: str) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(_master_key()).encrypt(nonce, private_key, key_id.encode())


def unseal(sealed: bytes, *, key_id: str) -> bytes:
    sealed = bytes(sealed)
    return AESGCM(_master_key()).decrypt(
        sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], key_id.encode()
    )
