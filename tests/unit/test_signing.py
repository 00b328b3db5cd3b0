"""Ed25519 over RFC 8785 JSON: canonical form, tamper refusal, key files, signed tree heads."""

from __future__ import annotations

import hashlib
import json
import os
import random
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from eventstore.signing import (
    Json,
    SignedTreeHead,
    canonical_bytes,
    fingerprint,
    format_timestamp,
    generate_key,
    load_private_key,
    load_public_key,
    public_key_bytes,
    public_key_from_hex,
    public_key_hex,
    save_private_key,
    save_public_key,
    sign,
    sign_tree_head,
    verify,
    verify_tree_head,
)

KEY = generate_key()
OTHER = generate_key()
NOW = datetime(2026, 11, 30, 9, 15, 0, 123456, tzinfo=UTC)
ROOT = hashlib.sha256(b"some root").digest()
DOC: dict[str, Json] = {
    "case": "uep-acme-gas_supplier",
    "events": 42,
    "ratio": 0.5,
    "tags": ["a", "b"],
    "nested": {"z": None, "a": True},
}


# --- RFC 8785 canonical form ---------------------------------------------------------------


def test_rfc8785_sample_is_reproduced() -> None:
    """RFC 8785 s.3.2.2's example input and its canonical output."""
    source = (
        '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n'
        '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
        '  "literals": [null, true, false]\n}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonical_bytes(json.loads(source)) == expected


def test_keys_sort_by_utf16_code_units() -> None:
    """RFC 8785 s.3.2.3: not code-point order, so an emoji sorts before U+FB33."""
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    value: dict[str, Json] = {k: i for i, k in enumerate(keys)}
    expected = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert list(json.loads(canonical_bytes(value))) == expected


def test_key_order_whitespace_and_number_spelling_do_not_matter() -> None:
    a = json.loads('{"b": 1.0e2, "a": [4.50, 2e-3], "c": {"y": 1, "x": -0.0}}')
    b = json.loads('{"c":{"x":0,"y":1.0},"a":[4.5,0.002],"b":100}')
    assert (
        canonical_bytes(a) == canonical_bytes(b) == b'{"a":[4.5,0.002],"b":100,"c":{"x":0,"y":1}}'
    )
    assert verify(b, sign(a, KEY), KEY.public_key())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=6), json_values, max_size=8), st.randoms())
def test_canonical_bytes_ignore_insertion_order(value: dict[str, Json], rnd: random.Random) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    assert canonical_bytes(dict(items)) == canonical_bytes(value)
    assert json.loads(canonical_bytes(value)) == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_survives_its_canonical_form(x: float) -> None:
    # Integral values below 1e21 are written without a fraction (ECMAScript), so read back as
    # int; as a double they are the same number.
    (back,) = json.loads(canonical_bytes([x]))
    assert float(back) == x


# --- sign and verify -------------------------------------------------------------------------


def test_signature_round_trip() -> None:
    signature = sign(DOC, KEY)
    assert len(signature) == 64
    assert verify(DOC, signature, KEY.public_key())
    # Anyone can check it with plain Ed25519 over the canonical bytes.
    KEY.public_key().verify(signature, canonical_bytes(DOC))


@settings(max_examples=200)
@given(st.integers(0, 63), st.integers(1, 255))
def test_any_changed_signature_byte_is_refused(at: int, mask: int) -> None:
    signature = bytearray(sign(DOC, KEY))
    signature[at] ^= mask
    assert not verify(DOC, bytes(signature), KEY.public_key())


def test_changed_content_is_refused() -> None:
    signature = sign(DOC, KEY)
    for changed in [
        {**DOC, "events": 43},
        {**DOC, "ratio": 0.5000001},
        {**DOC, "extra": None},
        {k: v for k, v in DOC.items() if k != "tags"},
        {**DOC, "nested": {"z": None, "a": False}},
    ]:
        assert not verify(changed, signature, KEY.public_key())


def test_another_key_is_refused() -> None:
    assert not verify(DOC, sign(DOC, KEY), OTHER.public_key())


def test_malformed_input_is_refused_not_raised() -> None:
    signature = sign(DOC, KEY)
    assert not verify(DOC, signature[:-1], KEY.public_key())
    assert not verify(DOC, b"", KEY.public_key())
    assert not verify({"x": float("nan")}, signature, KEY.public_key())
    assert not verify({"x": 2**60}, signature, KEY.public_key())


# --- keys on disk ----------------------------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_private_key_file_is_pkcs8_pem_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    save_private_key(KEY, path)
    assert _mode(path) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = load_private_key(path)
    assert verify(DOC, sign(DOC, loaded), KEY.public_key())
    assert [p.name for p in tmp_path.iterdir()] == ["signing.pem"]  # no temp file left


def test_private_key_is_never_silently_replaced(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    save_private_key(KEY, path)
    with pytest.raises(FileExistsError):
        save_private_key(OTHER, path)
    assert fingerprint(load_private_key(path)) == fingerprint(KEY)
    path.chmod(0o644)
    save_private_key(OTHER, path, overwrite=True)
    assert fingerprint(load_private_key(path)) == fingerprint(OTHER)
    assert _mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["signing.pem"]


def test_private_key_with_a_password(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    save_private_key(KEY, path, password=b"correct horse")
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert fingerprint(load_private_key(path, password=b"correct horse")) == fingerprint(KEY)
    with pytest.raises(ValueError):
        load_private_key(path, password=b"wrong")
    with pytest.raises(TypeError):
        load_private_key(path)


def test_public_key_pem_and_hex(tmp_path: Path) -> None:
    path = tmp_path / "signing.pub.pem"
    save_public_key(KEY.public_key(), path)
    assert path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert _mode(path) == 0o644
    from_pem = load_public_key(path)
    from_hex = public_key_from_hex(public_key_hex(KEY))
    assert public_key_bytes(from_pem) == public_key_bytes(from_hex) == public_key_bytes(KEY)
    assert len(public_key_hex(KEY)) == 64
    with pytest.raises(ValueError):
        public_key_from_hex("00" * 31)


def test_fingerprint_is_sha256_of_the_raw_public_key() -> None:
    raw = KEY.public_key().public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    assert fingerprint(KEY) == fingerprint(KEY.public_key()) == hashlib.sha256(raw).hexdigest()
    assert fingerprint(KEY) != fingerprint(OTHER)


def test_other_key_types_are_refused(tmp_path: Path) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    private = tmp_path / "ec.pem"
    private.write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = tmp_path / "ec.pub.pem"
    public.write_bytes(
        ec_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(ValueError, match="not an Ed25519"):
        load_private_key(private)
    with pytest.raises(ValueError, match="not an Ed25519"):
        load_public_key(public)


# --- signed tree heads -----------------------------------------------------------------------


def _head(size: int = 1000) -> SignedTreeHead:
    return sign_tree_head(size, ROOT, KEY, timestamp=NOW)


def test_tree_head_round_trip() -> None:
    head = _head()
    assert head.tree_size == 1000
    assert head.root_hash == ROOT.hex()
    assert head.timestamp == "2026-11-30T09:15:00.123456Z"
    assert head.issued_at == NOW
    assert head.key_fingerprint == fingerprint(KEY)
    assert verify_tree_head(head, KEY.public_key())
    again = SignedTreeHead.model_validate_json(head.model_dump_json())
    assert again == head and verify_tree_head(again, KEY.public_key())


def test_tree_head_signature_is_plain_ed25519_over_jcs() -> None:
    """An auditor without this code: sorted compact JSON of the fields but the signature."""
    head = _head()
    content = head.model_dump(exclude={"signature"})
    message = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    KEY.public_key().verify(bytes.fromhex(head.signature), message)
    with pytest.raises(InvalidSignature):
        OTHER.public_key().verify(bytes.fromhex(head.signature), message)


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 1001},
        {"tree_size": 999},
        {"root_hash": hashlib.sha256(b"another root").hexdigest()},
        {"timestamp": "2026-11-30T09:15:00.123457Z"},
        {"key_fingerprint": fingerprint(OTHER)},
        {"signature": "00" * 64},
    ],
)
def test_any_changed_field_is_refused(change: dict[str, object]) -> None:
    forged = SignedTreeHead.model_validate({**_head().model_dump(), **change})
    assert not verify_tree_head(forged, KEY.public_key())


def test_a_head_checked_with_another_key_is_refused() -> None:
    head = _head()
    assert not verify_tree_head(head, OTHER.public_key())
    # Naming the other key does not help: the signature is still this key's.
    renamed = head.model_copy(update={"key_fingerprint": fingerprint(OTHER)})
    assert not verify_tree_head(renamed, OTHER.public_key())


def test_timestamps_are_one_utc_form() -> None:
    paris = timezone(timedelta(hours=1))
    head = sign_tree_head(1, ROOT, KEY, timestamp=NOW.astimezone(paris))
    assert head.timestamp == format_timestamp(NOW) == "2026-11-30T09:15:00.123456Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_tree_head(1, ROOT, KEY, timestamp=NOW.replace(tzinfo=None))


def test_tree_head_model_is_frozen_and_strict() -> None:
    head = _head()
    with pytest.raises(ValidationError):
        head.tree_size = 7  # type: ignore[misc]
    fields = head.model_dump()
    for bad in [
        {**fields, "note": "extra"},
        {**fields, "tree_size": -1},
        {**fields, "tree_size": 2**53},
        {**fields, "root_hash": ROOT.hex().upper()},
        {**fields, "root_hash": ROOT.hex()[:-2]},
        {**fields, "timestamp": "2026-11-30T09:15:00Z"},
        {**fields, "timestamp": "2026-13-30T09:15:00.000000Z"},
        {**fields, "signature": "ab" * 63},
        {**fields, "kind": "something-else"},
    ]:
        with pytest.raises(ValidationError):
            SignedTreeHead.model_validate(bad)


def test_sign_tree_head_checks_its_inputs() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        sign_tree_head(1, ROOT.hex().encode(), KEY, timestamp=NOW)
    with pytest.raises(ValidationError):
        sign_tree_head(-1, ROOT, KEY, timestamp=NOW)
