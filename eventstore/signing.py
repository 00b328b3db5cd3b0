"""Ed25519 signatures over RFC 8785 canonical JSON, keys on disk, and signed tree heads.

What is signed is always the canonical JSON (JCS) bytes of a JSON value, so any verifier with
an RFC 8785 implementation and Ed25519 can check a signature without this code. Hashes, keys
and signatures travel as lowercase hex.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, TypeAlias

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, field_validator

Json: TypeAlias = Mapping[str, "Json"] | Sequence["Json"] | str | int | float | bool | None

TREE_HEAD_KIND: Final = "uep-tree-head-v1"
SIGNATURE_SIZE = 64
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_HEX64 = r"^[0-9a-f]{64}$"
# JCS numbers are IEEE doubles: integers beyond 2**53 - 1 cannot be canonicalised exactly.
_MAX_JSON_INT = 2**53 - 1


def generate_key() -> Ed25519PrivateKey:
    """A new random Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def _write_file(path: Path, data: bytes, *, mode: int, overwrite: bool) -> None:
    """Write ``data`` to ``path`` whole or not at all, with exactly ``mode`` permissions."""
    # A temporary file in the same directory, then a rename: no reader sees half a key and a
    # crash leaves no truncated key. mkstemp creates it 0600, so the secret is never exposed.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() refuses an existing target atomically: losing a signing key is not undoable.
            os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def save_private_key(
    key: Ed25519PrivateKey,
    path: str | os.PathLike[str],
    *,
    password: bytes | None = None,
    overwrite: bool = False,
) -> None:
    """Write the key as PKCS#8 PEM, mode 0600, encrypted if a password is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=encryption,
    )
    _write_file(Path(path), pem, mode=0o600, overwrite=overwrite)


def load_private_key(
    path: str | os.PathLike[str], *, password: bytes | None = None
) -> Ed25519PrivateKey:
    """Read a PKCS#8 PEM private key and insist that it is Ed25519."""
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=password)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def save_public_key(
    key: Ed25519PublicKey, path: str | os.PathLike[str], *, overwrite: bool = False
) -> None:
    """Write the public key as SubjectPublicKeyInfo PEM, mode 0644."""
    pem = key.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    _write_file(Path(path), pem, mode=0o644, overwrite=overwrite)


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Read a SubjectPublicKeyInfo PEM public key and insist that it is Ed25519."""
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an Ed25519 public key")
    return key


def _public(key: Ed25519PublicKey | Ed25519PrivateKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def public_key_bytes(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """The 32 raw bytes of the public key (RFC 8032 encoding)."""
    return _public(key).public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def public_key_hex(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The raw public key as 64 hex digits, e.g. for a bundle's manifest."""
    return public_key_bytes(key).hex()


def public_key_from_hex(text: str) -> Ed25519PublicKey:
    """The public key from its 64 hex digits."""
    raw = bytes.fromhex(text)
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """SHA-256 of the raw public key, hex: names the key that signed something."""
    return hashlib.sha256(public_key_bytes(key)).hexdigest()


def canonical_bytes(value: Json) -> bytes:
    """The RFC 8785 (JCS) encoding of a JSON value: the exact bytes that get signed."""
    return rfc8785.dumps(value)


def sign(value: Json, key: Ed25519PrivateKey) -> bytes:
    """The 64-byte Ed25519 signature over the canonical JSON of ``value``."""
    return key.sign(canonical_bytes(value))


def verify(value: Json, signature: bytes, public_key: Ed25519PublicKey) -> bool:
    """Whether ``signature`` is ``public_key``'s signature over the canonical JSON of ``value``."""
    try:
        public_key.verify(signature, canonical_bytes(value))
    except InvalidSignature:
        return False
    except rfc8785.CanonicalizationError:
        # Not canonicalisable (NaN, a huge int, a non-string key): nothing signed it.
        return False
    return True


def format_timestamp(moment: datetime) -> str:
    """The one textual form of a tree head's time: UTC, microseconds, ``Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a tree head's timestamp must be timezone-aware")
    return moment.astimezone(UTC).strftime(_TIMESTAMP_FORMAT)


class SignedTreeHead(BaseModel):
    """A log size and its Merkle root, signed with the key named by its fingerprint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Inside the signed content so a tree-head signature can never pass for one over any other
    # JSON document the same key signs (a bundle manifest, say).
    kind: Literal["uep-tree-head-v1"] = TREE_HEAD_KIND
    tree_size: int = Field(ge=0, le=_MAX_JSON_INT)
    root_hash: str = Field(pattern=_HEX64)
    # Text in one fixed form, not a datetime: the signature covers these exact characters.
    timestamp: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
    key_fingerprint: str = Field(pattern=_HEX64)
    signature: str = Field(pattern=r"^[0-9a-f]{128}$")

    @field_validator("timestamp")
    @classmethod
    def _real_moment(cls, value: str) -> str:
        """Refuse a well-shaped but impossible date such as month 13."""
        datetime.strptime(value, _TIMESTAMP_FORMAT)
        return value

    @property
    def issued_at(self) -> datetime:
        """The timestamp as an aware UTC datetime."""
        return datetime.strptime(self.timestamp, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)

    def signed_content(self) -> dict[str, Json]:
        """Every field but the signature: the JSON object whose canonical form is signed."""
        return _tree_head_content(
            tree_size=self.tree_size,
            root_hash=self.root_hash,
            timestamp=self.timestamp,
            key_fingerprint=self.key_fingerprint,
        )


def _tree_head_content(
    *, tree_size: int, root_hash: str, timestamp: str, key_fingerprint: str
) -> dict[str, Json]:
    """The JSON object a tree head's signature covers."""
    return {
        "kind": TREE_HEAD_KIND,
        "tree_size": tree_size,
        "root_hash": root_hash,
        "timestamp": timestamp,
        "key_fingerprint": key_fingerprint,
    }


def sign_tree_head(
    tree_size: int, root_hash: bytes, key: Ed25519PrivateKey, *, timestamp: datetime
) -> SignedTreeHead:
    """Sign (tree_size, root_hash) at ``timestamp``; the caller passes the time in."""
    if len(root_hash) != 32:
        raise ValueError(f"a root hash is 32 bytes, got {len(root_hash)}")
    content = _tree_head_content(
        tree_size=tree_size,
        root_hash=root_hash.hex(),
        timestamp=format_timestamp(timestamp),
        key_fingerprint=fingerprint(key),
    )
    # Validate before signing so a size outside the model's range is never signed.
    unsigned = SignedTreeHead.model_validate({**content, "signature": "0" * 128})
    return unsigned.model_copy(update={"signature": sign(content, key).hex()})


def verify_tree_head(head: SignedTreeHead, public_key: Ed25519PublicKey) -> bool:
    """Whether ``head`` carries a valid signature by ``public_key`` (and names that key)."""
    if head.key_fingerprint != fingerprint(public_key):
        return False
    return verify(head.signed_content(), bytes.fromhex(head.signature), public_key)
