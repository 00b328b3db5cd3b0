"""RFC 9162 (Certificate Transparency v2) Merkle trees over the global event log.

Leaves are byte strings; every other function takes *leaf hashes* (``leaf_hash(leaf)``), so a
caller can keep 32 bytes per event instead of the events themselves. The tree is the RFC's
``MTH``: a tree of ``n > 1`` leaves splits at the largest power of two below ``n``, the empty tree
hashes to ``SHA-256("")``. Computing it level by level, carrying a lone last node up unhashed,
gives the same root as the RFC's recursion without recursing.

- :func:`root`, :func:`inclusion_proof`, :func:`consistency_proof`: one-shot, O(n) each.
- :class:`MerkleTree`: every level kept, then any number of proofs at O(log^2 n) each.
- :class:`CompactRange`: O(log n) state that absorbs appended leaves and gives the root of the
  log so far, for a checkpointer that follows the log without rereading it.
- :func:`verify_inclusion`, :func:`verify_consistency`: RFC 9162 s.2.1.3.2 and s.2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"
_sha256 = hashlib.sha256


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf): the hash of one log entry."""
    return _sha256(_LEAF + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return _sha256(_NODE + left + right).digest()


def _check_hashes(hashes: Iterable[bytes]) -> None:
    # Raw leaves or hex text passed where leaf hashes belong would give a valid-looking but
    # different root. Lengths only, in C (map/set), so the check stays cheap for big logs.
    wrong = set(map(len, hashes)) - {HASH_SIZE}
    if wrong:
        raise ValueError(f"expected {HASH_SIZE}-byte leaf hashes, found lengths {sorted(wrong)}")


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    """Hash adjacent pairs; an odd last node moves up as it is (the RFC's unbalanced right edge)."""
    sha, node = _sha256, _NODE
    # strict=False on purpose: the odd last node has no partner and is appended below.
    pairs = zip(level[::2], level[1::2], strict=False)
    upper = [sha(node + left + right).digest() for left, right in pairs]
    if len(level) % 2:
        upper.append(level[-1])
    return upper


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (MTH) of all the given leaf hashes."""
    _check_hashes(leaf_hashes)
    if not leaf_hashes:
        return EMPTY_ROOT
    level: Sequence[bytes] = leaf_hashes
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def _is_complete(start: int, size: int) -> bool:
    """Whether [start, start+size) is a perfect subtree: power-of-two size, aligned start."""
    return size & (size - 1) == 0 and start % size == 0


class MerkleTree:
    """Every level of the tree over a fixed list of leaf hashes, for many proofs against it."""

    __slots__ = ("_levels", "_size")

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        """Hash all levels once (O(n)); the leaf hashes are copied, not referenced."""
        _check_hashes(leaf_hashes)
        self._size = len(leaf_hashes)
        # One bytes object per level, 32 bytes a node, where a list of small bytes objects
        # costs about 80: a million leaves keep about 64 MB rather than 160.
        levels: list[bytes] = []
        level: Sequence[bytes] = leaf_hashes
        while level:
            levels.append(b"".join(level))
            if len(level) == 1:
                break
            level = _next_level(level)
        self._levels = levels

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._size

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (all of them by default)."""
        size = self._size if size is None else size
        if not 0 <= size <= self._size:
            raise ValueError(f"size {size} outside 0..{self._size}")
        return self._range_root(0, size) if size else EMPTY_ROOT

    def _node(self, height: int, index: int) -> bytes:
        """The stored node covering leaves [index << height, (index+1) << height)."""
        start = index * HASH_SIZE
        return self._levels[height][start : start + HASH_SIZE]

    def _range_root(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end), a subtree the RFC's recursion can ask for."""
        # Such a range starts at a multiple of twice its split point (a prefix of the tree, or
        # a right child of an earlier split), so its left half is a perfect subtree that is
        # already stored; only the right spine is hashed here, O(log n).
        lefts: list[bytes] = []
        while not _is_complete(start, end - start):
            k = _split(end - start)
            assert start % k == 0, f"[{start}, {end}) is not a subtree of the RFC's tree"
            lefts.append(self._node(k.bit_length() - 1, start // k))
            start += k
        size = end - start
        acc = self._node(size.bit_length() - 1, start // size)
        for left in reversed(lefts):
            acc = node_hash(left, acc)
        return acc

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 PATH(index, D[size]): sibling hashes from the leaf up to the root."""
        size = self._size if size is None else size
        if not 0 <= index < size <= self._size:
            raise ValueError(f"need 0 <= index ({index}) < size ({size}) <= {self._size}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self._range_root(start + k, end))
                end = start + k
            else:
                path.append(self._range_root(start, start + k))
                start += k
        path.reverse()  # collected top-down; the RFC orders the path leaf-first
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 PROOF(old_size, D[new_size]); empty when old_size is 0 or equals new_size."""
        new_size = self._size if new_size is None else new_size
        if not 0 <= old_size <= new_size <= self._size:
            raise ValueError(f"need 0 <= old ({old_size}) <= new ({new_size}) <= {self._size}")
        if old_size in (0, new_size):
            return []
        path: list[bytes] = []
        start, end, m = 0, new_size, old_size
        # SUBPROOF's flag b: true while the old tree's root is itself a node of the new tree
        # along the path taken, so the verifier already knows it and it is left out.
        old_root_known = True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                path.append(self._range_root(start + k, end))
                end = start + k
            else:
                path.append(self._range_root(start, start + k))
                start += k
                m -= k
                old_root_known = False
        if not old_root_known:
            path.append(self._range_root(start, end))
        path.reverse()
        return path


def inclusion_proof(index: int, size: int, hashes: Sequence[bytes]) -> list[bytes]:
    """Inclusion proof of leaf ``index`` in the tree of the first ``size`` leaf hashes."""
    if not 0 <= index < size <= len(hashes):
        raise ValueError(f"need 0 <= index ({index}) < size ({size}) <= {len(hashes)}")
    return MerkleTree(hashes[:size]).inclusion_proof(index)


def consistency_proof(old_size: int, new_size: int, hashes: Sequence[bytes]) -> list[bytes]:
    """Consistency proof from the tree of ``old_size`` to that of ``new_size`` leaf hashes."""
    if not 0 <= old_size <= new_size <= len(hashes):
        raise ValueError(f"need 0 <= old ({old_size}) <= new ({new_size}) <= {len(hashes)}")
    return MerkleTree(hashes[:new_size]).consistency_proof(old_size)


def _well_formed(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows ``leaf_hash`` at ``index`` in the tree of ``size`` with ``root``."""
    # A root does not commit to its size (leaf 0 walks trees of 3 and 4 leaves alike), so the
    # caller must take ``size`` and ``root`` from one signed tree head, never from the prover.
    if not 0 <= index < size or not _well_formed(leaf_hash, root, *proof):
        return False
    fn, sn = index, size - 1
    acc = leaf_hash
    for sibling in proof:
        if sn == 0:
            return False  # more hashes than levels
        if fn & 1 or fn == sn:
            acc = node_hash(sibling, acc)
            # Skip the levels where this node was carried up unhashed (a lone right edge).
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            acc = node_hash(acc, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and acc == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree (old_size, old_root) is a prefix of (new_size, new_root)."""
    if not 0 <= old_size <= new_size or not _well_formed(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        # Every log extends the empty one; its root is fixed, so a different claim is false.
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # A power-of-two old tree is a node of the new one: the proof omits it, the verifier has it.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_acc = new_acc = path[0]
    for node in path[1:]:
        if sn == 0:
            return False  # more hashes than levels
        if fn & 1 or fn == sn:
            old_acc = node_hash(node, old_acc)
            new_acc = node_hash(node, new_acc)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            new_acc = node_hash(new_acc, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and old_acc == old_root and new_acc == new_root


class CompactRange:
    """Roots of the perfect subtrees that cover leaves [0, size): the log's state in O(log n).

    There is one hash per set bit of ``size``, largest subtree first. Appending a leaf merges
    equal-sized subtrees like a binary carry, so following the log costs about one node hash per
    leaf, and (size, hashes) can be stored with a checkpoint and resumed later.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Start empty, or resume from a stored ``(size, hashes)``."""
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(f"size {size} does not match {len(hashes)} subtree hashes")
        _check_hashes(hashes)
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        """The number of leaves absorbed so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The subtree roots, largest (leftmost) first: with ``size``, all there is to store."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Absorb the next leaf hash."""
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"expected a {HASH_SIZE}-byte leaf hash, got {leaf_hash!r:.80}")
        stack, size = self._hashes, self._size
        stack.append(leaf_hash)
        # Each trailing 1 bit of the old size is a same-sized subtree to merge with.
        while size & 1:
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            size >>= 1
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Absorb leaf hashes in log order."""
        for h in leaf_hashes:
            self.append(h)

    def root(self) -> bytes:
        """The Merkle tree hash of every leaf absorbed so far."""
        if not self._hashes:
            return EMPTY_ROOT
        acc = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            acc = node_hash(left, acc)
        return acc
