"""RFC 9162 Merkle trees: published vectors, a recursive reference, and tamper properties.

The reference below is the RFC's recursive definitions (MTH, PATH, SUBPROOF) transcribed as they
read, over raw leaves; the production code is iterative over leaf hashes. Positive properties
are checked exhaustively for every size up to ``N`` (every index, every pair of sizes);
hypothesis looks for a tampered proof that still passes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

N = 200
LEAVES = tuple(f"event {i}".encode() for i in range(N))
HASHES = [leaf_hash(leaf) for leaf in LEAVES]
TREE = MerkleTree(HASHES)

# --- the reference: RFC 9162 s.2.1.1, 2.1.3.1, 2.1.4.1 read literally ------------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n, by counting up."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 0:
        return _sha(b"")
    if len(leaves) == 1:
        return _sha(b"\x00" + leaves[0])
    k = _k(len(leaves))
    return _sha(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:]))


@cache
def mth(lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) over LEAVES, cached so the exhaustive tests stay quick."""
    if hi - lo == 0:
        return _sha(b"")
    if hi - lo == 1:
        return _sha(b"\x00" + LEAVES[lo])
    k = _k(hi - lo)
    return _sha(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi))


def ref_path(m: int, lo: int, hi: int) -> list[bytes]:
    """PATH(m, D[lo:hi])."""
    if hi - lo == 1:
        return []
    k = _k(hi - lo)
    if m < k:
        return [*ref_path(m, lo, lo + k), mth(lo + k, hi)]
    return [*ref_path(m - k, lo + k, hi), mth(lo, lo + k)]


def ref_subproof(m: int, lo: int, hi: int, b: bool) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b)."""
    n = hi - lo
    if m == n:
        return [] if b else [mth(lo, hi)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, lo, lo + k, b), mth(lo + k, hi)]
    return [*ref_subproof(m - k, lo + k, hi, False), mth(lo, lo + k)]


def ref_proof(m: int, n: int) -> list[bytes]:
    """PROOF(m, D[n]); the RFC defines it for 0 < m < n, the edges are empty."""
    return ref_subproof(m, 0, n, True) if 0 < m < n else []


# --- published vectors -------------------------------------------------------------------------

# The test data that Certificate Transparency's reference implementations share (RFC 6962 uses
# the same hashing): eight leaves, the root of every prefix, and some proofs.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
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
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (0, 1): [],
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
    (1, 1): [],
}
CT_HASHES = [leaf_hash(leaf) for leaf in CT_LEAVES]


def test_empty_tree_is_the_hash_of_nothing() -> None:
    assert root([]) == EMPTY_ROOT == bytes.fromhex(CT_ROOTS[0])
    assert CompactRange().root() == EMPTY_ROOT
    assert MerkleTree([]).root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_published_roots(size: int) -> None:
    expected = bytes.fromhex(CT_ROOTS[size])
    assert root(CT_HASHES[:size]) == expected
    assert MerkleTree(CT_HASHES).root(size) == expected
    assert ref_mth(CT_LEAVES[:size]) == expected  # the reference is right too


@pytest.mark.parametrize(("index", "size"), list(CT_INCLUSION))
def test_published_inclusion_proofs(index: int, size: int) -> None:
    expected = [bytes.fromhex(h) for h in CT_INCLUSION[index, size]]
    assert inclusion_proof(index, size, CT_HASHES) == expected
    root_hash = bytes.fromhex(CT_ROOTS[size])
    assert verify_inclusion(index, size, CT_HASHES[index], expected, root_hash)


@pytest.mark.parametrize(("old", "new"), list(CT_CONSISTENCY))
def test_published_consistency_proofs(old: int, new: int) -> None:
    expected = [bytes.fromhex(h) for h in CT_CONSISTENCY[old, new]]
    assert consistency_proof(old, new, CT_HASHES) == expected
    old_root, new_root = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, expected)


# --- every size, every index, every pair, against the reference ------------------------------


def test_every_root_matches_the_reference() -> None:
    stream = CompactRange()
    for size in range(N + 1):
        expected = mth(0, size)
        assert root(HASHES[:size]) == expected
        assert TREE.root(size) == expected
        assert stream.size == size and stream.root() == expected
        if size < N:
            stream.append(HASHES[size])


def test_every_inclusion_proof_matches_the_reference_and_verifies() -> None:
    for size in range(1, N + 1):
        root_hash = mth(0, size)
        for index in range(size):
            proof = TREE.inclusion_proof(index, size)
            assert proof == ref_path(index, 0, size), (index, size)
            assert verify_inclusion(index, size, HASHES[index], proof, root_hash), (index, size)


def test_every_consistency_proof_matches_the_reference_and_verifies() -> None:
    for new in range(N + 1):
        new_root = mth(0, new)
        for old in range(new + 1):
            proof = TREE.consistency_proof(old, new)
            assert proof == ref_proof(old, new), (old, new)
            assert verify_consistency(old, new, mth(0, old), new_root, proof), (old, new)


def test_proofs_are_logarithmic() -> None:
    for size in range(1, N + 1):
        depth = (size - 1).bit_length()
        assert all(len(TREE.inclusion_proof(i, size)) <= depth for i in range(size))
        assert all(len(TREE.consistency_proof(m, size)) <= depth + 1 for m in range(size + 1))


@settings(max_examples=200)
@given(st.lists(st.binary(max_size=40), max_size=N))
def test_arbitrary_leaves_give_the_reference_root(leaves: list[bytes]) -> None:
    hashes = [leaf_hash(leaf) for leaf in leaves]
    stream = CompactRange()
    stream.extend(hashes)
    assert root(hashes) == MerkleTree(hashes).root() == stream.root() == ref_mth(leaves)


@given(st.data())
def test_one_shot_functions_agree_with_the_tree(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, N))
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    assert inclusion_proof(index, size, HASHES) == TREE.inclusion_proof(index, size)
    assert consistency_proof(old, size, HASHES) == TREE.consistency_proof(old, size)


# --- tampering: hypothesis hunts for a forged proof that passes --------------------------------


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


sizes = st.integers(1, N)
bits = st.integers(0, 255)


@settings(max_examples=200)
@given(st.data(), bits)
def test_inclusion_refuses_any_flipped_bit(data: st.DataObject, bit: int) -> None:
    size = data.draw(sizes)
    index = data.draw(st.integers(0, size - 1))
    proof, root_hash, leaf = TREE.inclusion_proof(index, size), mth(0, size), HASHES[index]
    assert not verify_inclusion(index, size, _flip(leaf, bit), proof, root_hash)
    assert not verify_inclusion(index, size, leaf, proof, _flip(root_hash, bit))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        forged = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
        assert not verify_inclusion(index, size, leaf, forged, root_hash)


@settings(max_examples=200)
@given(st.data())
def test_inclusion_refuses_a_wrong_index(data: st.DataObject) -> None:
    size = data.draw(st.integers(2, N))
    index = data.draw(st.integers(0, size - 1))
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
    proof, root_hash = TREE.inclusion_proof(index, size), mth(0, size)
    # The leaf claimed at the wrong place, and another leaf passed off with this leaf's proof.
    assert not verify_inclusion(other, size, HASHES[index], proof, root_hash)
    assert not verify_inclusion(other, size, HASHES[other], proof, root_hash)


@settings(max_examples=200)
@given(st.data())
def test_inclusion_refuses_a_wrong_size(data: st.DataObject) -> None:
    size = data.draw(sizes)
    index = data.draw(st.integers(0, size - 1))
    other = data.draw(st.integers(index + 1, N).filter(lambda s: s != size))
    proof = TREE.inclusion_proof(index, size)
    assert not verify_inclusion(index, other, HASHES[index], proof, mth(0, other))


@settings(max_examples=200)
@given(st.data())
def test_inclusion_refuses_a_truncated_or_padded_proof(data: st.DataObject) -> None:
    size = data.draw(st.integers(2, N))
    index = data.draw(st.integers(0, size - 1))
    proof, root_hash, leaf = TREE.inclusion_proof(index, size), mth(0, size), HASHES[index]
    cut = data.draw(st.integers(0, len(proof) - 1))
    assert not verify_inclusion(index, size, leaf, proof[:cut], root_hash)
    assert not verify_inclusion(index, size, leaf, proof[1:], root_hash)
    extra = data.draw(st.sampled_from([HASHES[0], root_hash, proof[-1]]))
    assert not verify_inclusion(index, size, leaf, [*proof, extra], root_hash)
    assert not verify_inclusion(index, size, leaf, [extra, *proof], root_hash)


def test_the_root_alone_does_not_fix_the_size() -> None:
    """Why verifiers take (size, root) from one signed head: leaf 0's path in a tree of four
    also walks a tree of three, so the same proof and root pass for either size."""
    proof = TREE.inclusion_proof(0, 4)
    assert verify_inclusion(0, 4, HASHES[0], proof, mth(0, 4))
    assert verify_inclusion(0, 3, HASHES[0], proof, mth(0, 4))
    assert not verify_inclusion(0, 3, HASHES[0], proof, mth(0, 3))


def _pair(data: st.DataObject, min_old: int = 1) -> tuple[int, int]:
    new = data.draw(st.integers(min_old + 1, N))
    old = data.draw(st.integers(min_old, new - 1))
    return old, new


@settings(max_examples=200)
@given(st.data(), bits)
def test_consistency_refuses_any_flipped_bit(data: st.DataObject, bit: int) -> None:
    old, new = _pair(data)
    proof, old_root, new_root = TREE.consistency_proof(old, new), mth(0, old), mth(0, new)
    assert not verify_consistency(old, new, _flip(old_root, bit), new_root, proof)
    assert not verify_consistency(old, new, old_root, _flip(new_root, bit), proof)
    at = data.draw(st.integers(0, len(proof) - 1))
    forged = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
    assert not verify_consistency(old, new, old_root, new_root, forged)


@settings(max_examples=200)
@given(st.data())
def test_consistency_refuses_wrong_sizes(data: st.DataObject) -> None:
    old, new = _pair(data)
    proof = TREE.consistency_proof(old, new)
    other_old = data.draw(st.integers(1, new).filter(lambda m: m != old))
    assert not verify_consistency(other_old, new, mth(0, other_old), mth(0, new), proof)
    other_new = data.draw(st.integers(old, N).filter(lambda n: n != new))
    assert not verify_consistency(old, other_new, mth(0, old), mth(0, other_new), proof)


@settings(max_examples=200)
@given(st.data())
def test_consistency_refuses_a_truncated_or_padded_proof(data: st.DataObject) -> None:
    old, new = _pair(data)
    proof, old_root, new_root = TREE.consistency_proof(old, new), mth(0, old), mth(0, new)
    cut = data.draw(st.integers(0, len(proof) - 1))
    assert not verify_consistency(old, new, old_root, new_root, proof[:cut])
    assert not verify_consistency(old, new, old_root, new_root, proof[1:])
    extra = data.draw(st.sampled_from([HASHES[0], old_root, new_root, proof[-1]]))
    assert not verify_consistency(old, new, old_root, new_root, [*proof, extra])
    assert not verify_consistency(old, new, old_root, new_root, [extra, *proof])


@settings(max_examples=200)
@given(st.data())
def test_a_rewritten_history_is_not_consistent(data: st.DataObject) -> None:
    """The point of it all: change one old entry and no proof links the old head to the new."""
    old, new = _pair(data)
    victim = data.draw(st.integers(0, old - 1))
    forged = [*HASHES[:victim], leaf_hash(b"forged"), *HASHES[victim + 1 : new]]
    forged_tree = MerkleTree(forged)
    proof = forged_tree.consistency_proof(old, new)
    assert not verify_consistency(old, new, mth(0, old), forged_tree.root(), proof)


def test_edge_sizes() -> None:
    r0, r5 = EMPTY_ROOT, mth(0, 5)
    assert verify_consistency(0, 5, r0, r5, [])
    assert not verify_consistency(0, 5, r5, r5, [])  # size 0 has one possible root
    assert not verify_consistency(0, 5, r0, r5, [r5])
    assert verify_consistency(5, 5, r5, r5, [])
    assert not verify_consistency(5, 5, r5, mth(0, 4), [])
    assert not verify_consistency(5, 5, r5, r5, [r5])
    assert not verify_consistency(5, 4, r5, mth(0, 4), TREE.consistency_proof(4, 5))
    assert not verify_consistency(-1, 5, r0, r5, [])
    assert not verify_inclusion(5, 5, HASHES[5], [], r5)
    assert not verify_inclusion(-1, 5, HASHES[0], [], r5)
    assert not verify_inclusion(0, 0, HASHES[0], [], EMPTY_ROOT)
    assert verify_inclusion(0, 1, HASHES[0], [], HASHES[0])


def test_malformed_hashes_are_refused() -> None:
    proof = TREE.inclusion_proof(3, 10)
    short = [*proof[:-1], proof[-1][:31]]
    assert not verify_inclusion(3, 10, HASHES[3], short, mth(0, 10))
    assert not verify_inclusion(3, 10, HASHES[3][:31], proof, mth(0, 10))
    assert not verify_consistency(3, 10, mth(0, 3), mth(0, 10) + b"\x00", [])
    with pytest.raises(ValueError, match="32-byte"):
        root([b"not a leaf hash"])
    with pytest.raises(ValueError, match="32-byte"):
        MerkleTree([HASHES[0].hex().encode()])
    with pytest.raises(ValueError, match="32-byte"):
        CompactRange().append(b"")


def test_out_of_range_requests_raise() -> None:
    for bad in [(-1, 5), (5, 5), (0, N + 1)]:
        with pytest.raises(ValueError):
            inclusion_proof(*bad, HASHES)
        with pytest.raises(ValueError):
            TREE.inclusion_proof(*bad)
    for bad in [(-1, 5), (6, 5), (0, N + 1)]:
        with pytest.raises(ValueError):
            consistency_proof(*bad, HASHES)
        with pytest.raises(ValueError):
            TREE.consistency_proof(*bad)
    with pytest.raises(ValueError):
        TREE.root(N + 1)


# --- the compact range: following a growing log ------------------------------------------------


def test_compact_range_holds_one_hash_per_set_bit() -> None:
    stream = CompactRange()
    for size, h in enumerate(HASHES, start=1):
        stream.append(h)
        assert len(stream.hashes) == size.bit_count()


@given(st.integers(0, N), st.integers(0, N))
def test_compact_range_resumes_from_its_stored_state(split: int, end: int) -> None:
    split, end = min(split, end), max(split, end)
    first = CompactRange()
    first.extend(HASHES[:split])
    resumed = CompactRange(first.size, first.hashes)
    resumed.extend(HASHES[split:end])
    assert resumed.size == end and resumed.root() == mth(0, end)


def test_compact_range_refuses_a_state_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match="does not match"):
        CompactRange(3, [HASHES[0]])
    with pytest.raises(ValueError, match="does not match"):
        CompactRange(-1, [])
    with pytest.raises(ValueError, match="32-byte"):
        CompactRange(1, [b"short"])


def test_large_tree_agrees_three_ways() -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(20_000)]
    stream = CompactRange()
    stream.extend(hashes)
    tree = MerkleTree(hashes)
    assert root(hashes) == tree.root() == stream.root()
    index = 12_345
    proof = tree.inclusion_proof(index)
    assert verify_inclusion(index, len(hashes), hashes[index], proof, tree.root())
    assert verify_consistency(
        10_001, len(hashes), tree.root(10_001), tree.root(), tree.consistency_proof(10_001)
    )
