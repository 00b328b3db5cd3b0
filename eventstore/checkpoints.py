"""Whole-log checkpoints: signed tree heads over the event log, and the log verified against them.

A tree head is the RFC 9162 Merkle tree hash over every event's chain hash in global-position
order (leaf ``i`` is the event at position ``i + 1``), its size, the time and an Ed25519
signature. The per-stream hash chain shows an event edited or removed inside a stream; it cannot
show a stream whose last events were cut off, or a whole stream gone. A signed size and root
can: the log must still reproduce every root it was ever signed at.

Each checkpoint also stores the leaves it saw (``log_tree_leaves``), so a verifier that finds a
root no longer reproduced can name the exact positions that changed, once those stored leaves
themselves reproduce the signed root.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel

from eventstore.hashing import hash_of
from eventstore.merkle import CompactRange, MerkleTree, leaf_hash, verify_consistency
from eventstore.models import EventStoreError
from eventstore.postgres import read_all
from eventstore.signing import (
    SignedTreeHead,
    fingerprint,
    sign_tree_head,
    verify_tree_head,
)
from eventstore.types import Conn
from eventstore.verdicts import Check, Finding

CHECKPOINT_LOCK_KEY = 0x5545_5031  # "UEP1": one checkpointer at a time, whatever the process
READ_BATCH = 5_000


class CheckpointRefused(EventStoreError):
    """The log does not verify where the checkpoint would extend it: nothing is signed."""

    def __init__(self, position: int, detail: str) -> None:
        super().__init__(f"position {position}: {detail}; no tree head was signed")
        self.position = position
        self.detail = detail


@dataclass(frozen=True)
class StoredHead:
    """A signed tree head as stored, with its sequence number and resumable compact range."""

    seq: int
    head: SignedTreeHead
    compact_range: tuple[str, ...]

    @property
    def size(self) -> int:
        """The number of events the head covers."""
        return self.head.tree_size


@dataclass(frozen=True)
class CheckpointResult:
    """What ``create_checkpoint`` did: the latest head and whether it is new."""

    head: StoredHead
    created: bool
    new_events: int


class Leaf(BaseModel):
    """One checkpointed position: which event sat there and its chain hash."""

    position: int
    stream_id: str
    version: int
    hash: str


def event_leaf(event_hash: str) -> bytes:
    """The Merkle leaf hash of an event: over the 32 bytes of its SHA-256 chain hash."""
    try:
        raw = bytes.fromhex(event_hash)
    except ValueError:
        raw = b""
    # A stored hash that is not 64 hex digits still gets a leaf of its own (its text), so the
    # root cannot match and the verifier reports it rather than crashing on it.
    return leaf_hash(raw if len(raw) == 32 else event_hash.encode())


def _head_from_row(row: asyncpg.Record) -> StoredHead:
    head = SignedTreeHead(
        tree_size=row["tree_size"],
        root_hash=row["root_hash"],
        timestamp=row["signed_at"],
        key_fingerprint=row["key_fingerprint"],
        signature=row["signature"],
    )
    return StoredHead(seq=row["seq"], head=head, compact_range=tuple(row["compact_range"]))


_HEAD_COLUMNS = "seq, tree_size, root_hash, signed_at, key_fingerprint, signature, compact_range"


async def tree_heads(conn: Conn | asyncpg.Pool) -> list[StoredHead]:
    """Every stored tree head, oldest first."""
    rows = await conn.fetch(f"SELECT {_HEAD_COLUMNS} FROM log_tree_heads ORDER BY seq")
    return [_head_from_row(r) for r in rows]


async def latest_head(conn: Conn | asyncpg.Pool) -> StoredHead | None:
    """The newest tree head, or None before the first checkpoint."""
    row = await conn.fetchrow(
        f"SELECT {_HEAD_COLUMNS} FROM log_tree_heads ORDER BY seq DESC LIMIT 1"
    )
    return None if row is None else _head_from_row(row)


async def checkpoint_leaves(conn: Conn | asyncpg.Pool, up_to: int | None = None) -> list[Leaf]:
    """The checkpointed leaves in position order (up to a position)."""
    rows = await conn.fetch(
        "SELECT position, stream_id, version, hash FROM log_tree_leaves "
        "WHERE $1::bigint IS NULL OR position <= $1 ORDER BY position",
        up_to,
    )
    return [Leaf(**dict(r)) for r in rows]


async def create_checkpoint(
    pool: asyncpg.Pool, key: Ed25519PrivateKey, now: datetime, *, batch: int = READ_BATCH
) -> CheckpointResult:
    """Extend the latest tree head over the events appended since and sign the new head."""
    # Each new event must follow its stream and carry the hash of its own content, else
    # CheckpointRefused names the position and nothing is signed: a tree head never vouches for
    # a log that does not verify. Nothing appended since: the latest head comes back unchanged.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", CHECKPOINT_LOCK_KEY)
        latest = await latest_head(conn)
        compact = CompactRange()
        if latest is not None:
            compact = CompactRange(latest.size, [bytes.fromhex(h) for h in latest.compact_range])
            if compact.root().hex() != latest.head.root_hash:
                raise CheckpointRefused(
                    latest.size,
                    f"tree head #{latest.seq}'s stored compact range does not reproduce its "
                    "root (run `uep audit log`)",
                )
        streams: dict[str, tuple[int, str | None]] = {}
        position = compact.size
        new = 0
        while True:
            events = await read_all(conn, position, batch)
            if not events:
                break
            await _load_stream_heads(conn, {e.stream_id for e in events} - streams.keys(), streams)
            for event in events:
                position += 1
                if event.position != position:
                    raise CheckpointRefused(
                        position, f"missing from the log (the next event is at {event.position})"
                    )
                version, prev = streams[event.stream_id]
                where = f"{event.stream_id} version {event.version}"
                if event.version != version + 1:
                    raise CheckpointRefused(position, f"{where} follows version {version}")
                if event.prev_hash != prev:
                    raise CheckpointRefused(position, f"{where}: prev_hash is not the last hash")
                if hash_of(event) != event.hash:
                    raise CheckpointRefused(position, f"{where}: content does not match its hash")
                streams[event.stream_id] = (event.version, event.hash)
                compact.append(event_leaf(event.hash))
            await conn.execute(
                """
                INSERT INTO log_tree_leaves (position, stream_id, version, hash)
                SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[])
                """,
                [e.position for e in events],
                [e.stream_id for e in events],
                [e.version for e in events],
                [e.hash for e in events],
            )
            new += len(events)
        if latest is not None and new == 0:
            return CheckpointResult(latest, created=False, new_events=0)
        head = sign_tree_head(compact.size, compact.root(), key, timestamp=now)
        row = await conn.fetchrow(
            f"""
            INSERT INTO log_tree_heads (tree_size, root_hash, signed_at, key_fingerprint,
                                        signature, compact_range)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_HEAD_COLUMNS}
            """,
            head.tree_size,
            head.root_hash,
            head.timestamp,
            head.key_fingerprint,
            head.signature,
            [h.hex() for h in compact.hashes],
        )
    assert row is not None
    return CheckpointResult(_head_from_row(row), created=True, new_events=new)


async def _load_stream_heads(
    conn: Conn, stream_ids: set[str], into: dict[str, tuple[int, str | None]]
) -> None:
    """The last checkpointed (version, hash) of each stream not seen yet; (0, None) if none."""
    if not stream_ids:
        return
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (stream_id) stream_id, version, hash FROM log_tree_leaves
         WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, version DESC
        """,
        sorted(stream_ids),
    )
    for stream_id in stream_ids:
        into[stream_id] = (0, None)
    for r in rows:
        into[r["stream_id"]] = (r["version"], r["hash"])


def inclusion(leaves: Sequence[Leaf], head: SignedTreeHead, position: int) -> list[bytes] | None:
    """The inclusion proof of ``position`` in ``head`` from the checkpointed leaves, or None."""
    # None when the leaves do not reproduce the head's signed root: then they prove nothing.
    if not 0 < position <= head.tree_size or len(leaves) < head.tree_size:
        return None
    tree = MerkleTree([event_leaf(leaf.hash) for leaf in leaves[: head.tree_size]])
    if tree.root().hex() != head.root_hash:
        return None
    return tree.inclusion_proof(position - 1)


# -- verifying the whole log ---------------------------------------------------------------------


class LogReport(BaseModel):
    """The whole log checked against its tree heads."""

    events: int
    head_position: int
    tree_heads: int
    latest_tree_size: int | None
    checks: list[Check]


@dataclass
class _Scan:
    """What one pass over the events found."""

    hashes: dict[int, tuple[str, int, str]]  # position -> (stream, version, hash)
    ordered: list[bytes]  # leaf hashes in position order
    chain: list[Finding]
    last_position: int


async def _scan_events(conn: Conn) -> _Scan:
    """Read the whole log once: every event's hash, re-hashed and chained per stream."""
    hashes: dict[int, tuple[str, int, str]] = {}
    ordered: list[bytes] = []
    chain: list[Finding] = []
    streams: dict[str, tuple[int, str | None]] = {}
    position = 0
    while True:
        events = await read_all(conn, position, READ_BATCH)
        if not events:
            break
        for e in events:
            position = e.position
            hashes[e.position] = (e.stream_id, e.version, e.hash)
            ordered.append(event_leaf(e.hash))
            version, prev = streams.get(e.stream_id, (0, None))
            where = {"position": e.position, "stream_id": e.stream_id, "version": e.version}
            if e.version != version + 1:
                gap = e.version > version + 1
                missing = f"versions {version + 1}..{e.version - 1}" if gap else ""
                chain.append(
                    Finding(
                        detail=f"{e.stream_id} version {e.version} follows version {version}"
                        + (f": {missing} missing" if missing else ""),
                        **where,
                    )
                )
            elif e.prev_hash != prev:
                chain.append(Finding(detail="prev_hash is not the previous event's hash", **where))
            if hash_of(e) != e.hash:
                chain.append(Finding(detail="content does not match its hash", **where))
            streams[e.stream_id] = (e.version, e.hash)
    return _Scan(hashes, ordered, chain, position)


def _ranges(positions: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted positions as (first, last)."""
    runs: list[tuple[int, int]] = []
    for p in sorted(positions):
        if runs and runs[-1][1] == p - 1:
            runs[-1] = (runs[-1][0], p)
        else:
            runs.append((p, p))
    return runs


def _missing_findings(missing: Iterable[int], leaves: dict[int, Leaf], why: str) -> list[Finding]:
    """Missing positions grouped by the stream they held when checkpointed, where known."""
    groups: dict[str | None, list[int]] = {}
    for p in sorted(missing):
        leaf = leaves.get(p)
        groups.setdefault(leaf.stream_id if leaf else None, []).append(p)
    findings: list[Finding] = []
    for stream, positions in groups.items():
        for first, last in _ranges(positions):
            span = f"position {first}" if first == last else f"positions {first}..{last}"
            if stream is None:
                findings.append(Finding(detail=f"{span} missing ({why})", position=first))
                continue
            versions = [leaves[p].version for p in range(first, last + 1)]
            held = f"{stream} version {versions[0]}" + (
                f"..{versions[-1]}" if len(versions) > 1 else ""
            )
            findings.append(
                Finding(
                    detail=f"{span} missing: held {held} when checkpointed ({why})",
                    position=first,
                    stream_id=stream,
                    version=versions[0],
                )
            )
    return findings


async def verify_log(conn: Conn, public_key: Ed25519PublicKey) -> LogReport:
    """Verify the whole event log against every stored tree head, signed by ``public_key``."""
    # Signatures; gapless positions up to the log head and the latest tree head; every event's
    # content hash and chain link; each head's root still reproduced (else which positions
    # differ from the leaves it was computed from); each head consistent with the one before.
    heads = await tree_heads(conn)
    head_position = int(await conn.fetchval("SELECT position FROM event_log_head"))
    leaves_list = await checkpoint_leaves(conn)
    leaves = {leaf.position: leaf for leaf in leaves_list}
    scan = await _scan_events(conn)
    checks = [
        _check_signatures(heads, public_key),
        _check_positions(scan, head_position, heads, leaves),
        Check.of(
            "hash-chain",
            scan.chain,
            f"{len(scan.hashes)} events re-hashed, every stream's chain intact",
            "{n} broken link(s) or altered event(s)",
        ),
    ]
    witness = _witness(leaves_list)
    current = MerkleTree(scan.ordered)
    checks.append(_check_roots(heads, scan, current, witness, leaves))
    checks.append(_check_consistency(heads, current, witness))
    return LogReport(
        events=len(scan.hashes),
        head_position=head_position,
        tree_heads=len(heads),
        latest_tree_size=heads[-1].size if heads else None,
        checks=checks,
    )


def _check_signatures(heads: list[StoredHead], public_key: Ed25519PublicKey) -> Check:
    if not heads:
        return Check.skipped("signatures", "no tree head yet: run `uep audit checkpoint`")
    trusted = fingerprint(public_key)
    findings = []
    for h in heads:
        if h.head.key_fingerprint != trusted:
            detail = f"tree head #{h.seq} was signed by another key ({h.head.key_fingerprint[:16]})"
            findings.append(Finding(detail=detail, position=h.size))
        elif not verify_tree_head(h.head, public_key):
            detail = f"tree head #{h.seq}: the signature does not verify"
            findings.append(Finding(detail=detail, position=h.size))
    return Check.of(
        "signatures",
        findings,
        f"{len(heads)} tree head(s) signed by key {trusted[:16]}",
        "{n} tree head(s) not signed by the trusted key",
    )


def _check_positions(
    scan: _Scan, head_position: int, heads: list[StoredHead], leaves: dict[int, Leaf]
) -> Check:
    signed = heads[-1].size if heads else 0
    end = max(head_position, signed, scan.last_position)
    missing = [p for p in range(1, end + 1) if p not in scan.hashes]
    findings = _missing_findings(missing, leaves, "the log must be gapless")
    if head_position < max(signed, scan.last_position):
        findings.append(
            Finding(
                detail=f"the log head says {head_position} positions were assigned, but "
                f"{max(signed, scan.last_position)} are stored or signed",
                position=head_position,
            )
        )
    return Check.of(
        "positions",
        findings,
        f"positions 1..{end} all present",
        "{n} gap(s) or a log head out of step",
    )


def _witness(leaves: list[Leaf]) -> MerkleTree | None:
    """The tree over the checkpointed leaves, when they are contiguous from position 1."""
    if any(leaf.position != i for i, leaf in enumerate(leaves, start=1)):
        return None
    return MerkleTree([event_leaf(leaf.hash) for leaf in leaves])


def _reproduces(tree: MerkleTree | None, head: StoredHead) -> bool:
    return (
        tree is not None
        and tree.size >= head.size
        and tree.root(head.size).hex() == (head.head.root_hash)
    )


def _check_roots(
    heads: list[StoredHead],
    scan: _Scan,
    current: MerkleTree,
    witness: MerkleTree | None,
    leaves: dict[int, Leaf],
) -> Check:
    if not heads:
        return Check.skipped("tree-heads", "no tree head yet: run `uep audit checkpoint`")
    findings: list[Finding] = []
    located: set[int] = set()
    last_good = 0
    for h in heads:
        if _reproduces(current, h) and _positions_match(scan, h.size):
            last_good = h.size
            continue
        if _reproduces(witness, h):
            for p in range(1, h.size + 1):
                if p in located:
                    continue
                finding = _compare_leaf(p, scan, leaves[p], h.seq)
                if finding is not None:
                    located.add(p)
                    findings.append(finding)
        else:
            findings.append(
                Finding(
                    detail=f"tree head #{h.seq} (size {h.size}) is not reproduced by the events "
                    "nor by its checkpointed leaves: the change lies after position "
                    f"{last_good}",
                    position=last_good + 1,
                )
            )
    latest = heads[-1]
    newer = scan.last_position - latest.size
    ok = f"the log reproduces all {len(heads)} tree head(s); latest #{latest.seq} at size " + (
        f"{latest.size}" + (f", {newer} newer event(s) not yet covered" if newer > 0 else "")
    )
    return Check.of("tree-heads", findings, ok, "{n} position(s) differ from what was signed")


def _positions_match(scan: _Scan, size: int) -> bool:
    """Whether the first ``size`` events sit at positions 1..size (a root alone hides a shift)."""
    return all(p in scan.hashes for p in range(1, size + 1))


def _compare_leaf(p: int, scan: _Scan, leaf: Leaf, seq: int) -> Finding | None:
    """How position ``p`` now differs from the leaf tree head #seq was computed from."""
    now = scan.hashes.get(p)
    where = {"position": p, "stream_id": leaf.stream_id, "version": leaf.version}
    if now is None:
        return Finding(
            detail=f"missing: held {leaf.stream_id} version {leaf.version} when "
            f"tree head #{seq} was signed",
            **where,
        )
    stream, version, digest = now
    if (stream, version) != (leaf.stream_id, leaf.version):
        return Finding(
            detail=f"now holds {stream} version {version}; held {leaf.stream_id} version "
            f"{leaf.version} when tree head #{seq} was signed",
            **where,
        )
    if digest != leaf.hash:
        return Finding(
            detail=f"{stream} version {version} was rewritten: its hash differs from the one "
            f"tree head #{seq} signed",
            **where,
        )
    return None


def _check_consistency(
    heads: list[StoredHead], current: MerkleTree, witness: MerkleTree | None
) -> Check:
    if len(heads) < 2:
        why = "no tree head yet" if not heads else "only one tree head: nothing to compare"
        return Check.skipped("consistency", why) if not heads else Check.passed("consistency", why)
    findings: list[Finding] = []
    unchecked: list[str] = []
    for old, new in itertools.pairwise(heads):
        if new.size < old.size:
            findings.append(
                Finding(
                    detail=f"tree head #{new.seq} (size {new.size}) is smaller than #{old.seq} "
                    f"(size {old.size}): the log shrank",
                    position=new.size + 1,
                )
            )
            continue
        tree = witness if _reproduces(witness, new) else current
        if not _reproduces(tree, new):
            unchecked.append(f"#{old.seq}->#{new.seq}")
            continue
        assert tree is not None
        proof = tree.consistency_proof(old.size, new.size)
        if not verify_consistency(
            old.size,
            new.size,
            bytes.fromhex(old.head.root_hash),
            bytes.fromhex(new.head.root_hash),
            proof,
        ):
            findings.append(
                Finding(
                    detail=f"tree head #{new.seq} is not an extension of #{old.seq}: the first "
                    f"{old.size} events changed between them",
                    position=old.size,
                )
            )
    if findings:
        return Check.failed("consistency", f"{len(findings)} inconsistent pair(s)", findings)
    if unchecked:
        return Check.skipped(
            "consistency",
            f"no copy of the log reproduces {', '.join(unchecked)} (see tree-heads)",
        )
    return Check.passed("consistency", f"each of {len(heads)} tree heads extends the one before it")
