"""The PostgreSQL event store: append-only, hash-chained, gapless global positions.

Every append transaction first locks the single ``event_log_head`` row, so positions are assigned
one transaction at a time and a transaction that holds position N+1 can only start after the one
holding N committed: gapless and in commit order. To avoid capping throughput at one commit per
append, concurrent appends in this process are coalesced by a group-commit batcher into one
transaction (see docs/event-store.md). Each append in a batch is validated on its own (idempotency,
expected version, User ID claims) so one bad append fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from uep.eventstore.claims import apply_claims_in_memory
from uep.eventstore.hashing import canonical_json, event_hash, verify_events
from uep.eventstore.memory import check_new_events, find_duplicate
from uep.eventstore.models import (
    AppendResult,
    ChainReport,
    EventStoreError,
    ExpectedVersionError,
    NewEvent,
    RecordedEvent,
    UserIdClaimChange,
    UserIdClaimError,
)

NOTIFY_CHANNEL = "uep_events"

_COLUMNS = (
    "position, stream_id, version, event_id, type, schema_version, data, metadata, "
    "recorded_at, prev_hash, hash"
)

# Run after the head-row lock is held: in READ COMMITTED this statement's snapshot is taken
# after the lock, so it sees every append that committed before ours.
_READ_STATE = """
SELECT 'head' AS kind, NULL::text AS key, position, NULL::int AS version, NULL::text AS hash,
       NULL::uuid AS event_id, NULL::text AS party_id, NULL::text AS role
  FROM event_log_head
UNION ALL
SELECT 'dup', stream_id, position, version, hash, event_id, NULL, NULL
  FROM events WHERE event_id = ANY($1::uuid[])
UNION ALL
SELECT 'stream', s.id, NULL, e.version, e.hash, NULL, NULL, NULL
  FROM unnest($2::text[]) AS s(id)
  CROSS JOIN LATERAL (
      SELECT version, hash FROM events WHERE stream_id = s.id ORDER BY version DESC LIMIT 1
  ) AS e
UNION ALL
SELECT 'claim', user_id, NULL, NULL, NULL, NULL, party_id, role
  FROM user_id_claims WHERE user_id = ANY($3::text[])
"""

_INSERT_EVENTS = f"""
INSERT INTO events ({_COLUMNS})
SELECT p, s, v, e, t, sv, d::jsonb, m::jsonb, $9, ph, h
  FROM unnest($1::bigint[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::int[],
              $7::text[], $8::text[], $10::text[], $11::text[])
       AS r(p, s, v, e, t, sv, d, m, ph, h)
"""

_ADVANCE_HEAD = """
WITH moved AS (UPDATE event_log_head SET position = $1 RETURNING position)
SELECT pg_notify($2, position::text) FROM moved
"""

_ADD_CLAIMS = """
INSERT INTO user_id_claims (user_id, party_id, role, stream_id, position, claimed_at)
SELECT u, p, r, s, pos, $6
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS c(u, p, r, s, pos)
"""

_DROP_CLAIMS = """
DELETE FROM user_id_claims c
 USING unnest($1::text[], $2::text[], $3::text[]) AS d(u, p, r)
 WHERE c.user_id = d.u AND c.party_id = d.p AND c.role = d.r
"""


class _Ref(NamedTuple):
    """An already stored event, as idempotency needs it."""

    stream_id: str
    version: int
    position: int


Outcome = AppendResult | BaseException


@dataclass
class _Append:
    """One caller's append waiting for a batch."""

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int
    claims: Sequence[UserIdClaimChange]
    future: asyncio.Future[AppendResult] = field(repr=False)


@dataclass
class _Staged:
    """Rows a batch will insert, column by column, for one ``unnest`` insert."""

    position: list[int] = field(default_factory=list)
    stream_id: list[str] = field(default_factory=list)
    version: list[int] = field(default_factory=list)
    event_id: list[UUID] = field(default_factory=list)
    type: list[str] = field(default_factory=list)
    schema_version: list[int] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)
    prev_hash: list[str | None] = field(default_factory=list)
    hash: list[str] = field(default_factory=list)


def record_from_row(row: asyncpg.Record) -> RecordedEvent:
    """Turn an ``events`` row into a RecordedEvent."""
    return RecordedEvent(
        position=row["position"],
        stream_id=row["stream_id"],
        version=row["version"],
        event_id=row["event_id"],
        type=row["type"],
        schema_version=row["schema_version"],
        data=json.loads(row["data"]),
        metadata=json.loads(row["metadata"]),
        recorded_at=row["recorded_at"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


class PostgresEventStore:
    """EventStorePort on PostgreSQL through an asyncpg pool, with group commit."""

    def __init__(self, pool: asyncpg.Pool, *, group_commit: bool = True, max_batch: int = 500):
        self._pool = pool
        self._group_commit = group_commit
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Append] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        claims: Sequence[UserIdClaimChange] = (),
    ) -> AppendResult:
        """Append after ``expected_version`` (0 for a new stream); idempotent by event id."""
        check_new_events(events)
        loop = asyncio.get_running_loop()
        item = _Append(
            stream_id, list(events), expected_version, list(claims), loop.create_future()
        )
        if not self._group_commit:
            await self._commit_batch([item])
        else:
            self._enqueue(item)
        return await item.future

    async def close(self) -> None:
        """Stop the batcher (pending appends are failed); the pool stays open."""
        worker, self._worker, self._queue = self._worker, None, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    def _enqueue(self, item: _Append) -> None:
        """Hand an append to the batcher, starting it on first use."""
        if self._worker is None or self._worker.done() or self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run(self._queue), name="uep-group-commit")
        self._queue.put_nowait(item)

    async def _run(self, queue: asyncio.Queue[_Append]) -> None:
        """Batcher loop: take what is queued, commit it as one transaction, repeat."""
        batch: list[_Append] = []
        try:
            while True:
                batch = [await queue.get()]
                # Appenders released by the previous commit resume in this same loop tick;
                # yielding once lets them enqueue so they join this batch.
                await asyncio.sleep(0)
                while len(batch) < self._max_batch and not queue.empty():
                    batch.append(queue.get_nowait())
                await self._commit_batch(batch)
                batch = []
        except asyncio.CancelledError:
            for item in [*batch, *_drain(queue)]:
                if not item.future.done():
                    item.future.set_exception(EventStoreError("event store closed"))
            raise

    async def _commit_batch(self, batch: list[_Append]) -> None:
        """Commit a batch; if the transaction itself fails, retry each append on its own."""
        try:
            async with self._pool.acquire() as conn:
                outcomes = await _write(conn, batch)
        except Exception as exc:  # any failure must reach the callers, never kill the batcher
            if len(batch) == 1:
                outcomes = [exc]
            else:
                for item in batch:
                    await self._commit_batch([item])
                return
        for item, outcome in zip(batch, outcomes, strict=True):
            if item.future.done():
                continue  # the caller was cancelled; a retry will find its events stored
            if isinstance(outcome, BaseException):
                item.future.set_exception(outcome)
            else:
                item.future.set_result(outcome)

    async def stream_version(self, stream_id: str) -> int:
        """Current version of a stream (0 when it has no events)."""
        value = await self._pool.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        return int(value)

    async def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[RecordedEvent]:
        """Events of one stream, optionally up to a version or a recorded time."""
        rows = await self._pool.fetch(
            f"""
            SELECT {_COLUMNS} FROM events
             WHERE stream_id = $1 AND version >= $2
               AND ($3::int IS NULL OR version <= $3)
               AND ($4::timestamptz IS NULL OR recorded_at <= $4)
             ORDER BY version
            """,
            stream_id,
            from_version,
            to_version,
            as_of,
        )
        return [record_from_row(r) for r in rows]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """The global log after a position, in position order, at most ``limit`` events."""
        return await read_all(self._pool, after_position, limit)

    async def verify_chain(self, stream_id: str) -> ChainReport:
        """Recompute a stream's hash chain from the stored rows."""
        return verify_events(stream_id, await self.read_stream(stream_id))

    async def user_id_holders(self, user_id: str) -> list[tuple[str, str]]:
        """Current ``(party_id, role)`` holders of a User ID."""
        rows = await self._pool.fetch(
            "SELECT party_id, role FROM user_id_claims WHERE user_id = $1 ORDER BY 1, 2", user_id
        )
        return [(r["party_id"], r["role"]) for r in rows]

    async def head_position(self) -> int:
        """Position of the last committed event (0 when the log is empty)."""
        return int(await self._pool.fetchval("SELECT position FROM event_log_head"))


async def read_all(
    conn: asyncpg.Pool | asyncpg.Connection, after_position: int, limit: int
) -> list[RecordedEvent]:
    """The global log after a position, on any pool or connection (the projector's too)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
        after_position,
        limit,
    )
    return [record_from_row(r) for r in rows]


def _drain(queue: asyncio.Queue[_Append]) -> list[_Append]:
    """Everything still queued."""
    items: list[_Append] = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def _write(conn: asyncpg.Connection, batch: list[_Append]) -> list[Outcome]:
    """One transaction: lock the head row, validate each append, insert the valid ones."""
    await conn.execute("BEGIN; SELECT 1 FROM event_log_head FOR UPDATE")
    try:
        rows = await conn.fetch(
            _READ_STATE,
            [e.event_id for item in batch for e in item.events],
            sorted({item.stream_id for item in batch}),
            sorted({c.user_id for item in batch for c in item.claims}),
        )
        plan = _Plan(rows)
        outcomes = [plan.stage(item) for item in batch]
        if plan.staged.position:
            await plan.flush(conn)
            await conn.execute("COMMIT")
        else:
            await conn.execute("ROLLBACK")
    except BaseException:
        # Also on cancellation: never hand a connection with an open transaction to the pool.
        if conn.is_in_transaction():
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.execute("ROLLBACK"))
        raise
    return outcomes


class _Plan:
    """In-memory view of the locked state, updated as each append of the batch is staged."""

    def __init__(self, rows: list[asyncpg.Record]) -> None:
        self.head = 0
        self.refs: dict[UUID, _Ref] = {}
        self.streams: dict[str, tuple[int, str | None]] = {}
        self.holders: dict[str, set[tuple[str, str]]] = {}
        for r in rows:
            kind = r["kind"]
            if kind == "head":
                self.head = r["position"]
            elif kind == "dup":
                self.refs[r["event_id"]] = _Ref(r["key"], r["version"], r["position"])
            elif kind == "stream":
                self.streams[r["key"]] = (r["version"], r["hash"])
            else:
                self.holders.setdefault(r["key"], set()).add((r["party_id"], r["role"]))
        self.original = {uid: set(h) for uid, h in self.holders.items()}
        self.claim_stream: dict[tuple[str, str, str], tuple[str, int]] = {}
        self.staged = _Staged()
        self.recorded_at = datetime.now(UTC)  # taken under the lock: follows position order

    def stage(self, item: _Append) -> Outcome:
        """Validate one append against the state so far and stage its rows, or say why not."""
        try:
            duplicate = find_duplicate(
                item.stream_id, item.events, [self.refs.get(e.event_id) for e in item.events]
            )
        except EventStoreError as exc:
            return exc
        if duplicate is not None:
            return duplicate
        version, prev = self.streams.get(item.stream_id, (0, None))
        if version != item.expected_version:
            return ExpectedVersionError(item.stream_id, item.expected_version, version)
        try:
            holders = apply_claims_in_memory(self.holders, item.claims)
        except UserIdClaimError as exc:
            return exc
        self.holders = holders
        positions: list[int] = []
        s = self.staged
        for event in item.events:
            self.head += 1
            version += 1
            digest = event_hash(
                stream_id=item.stream_id,
                version=version,
                event_id=event.event_id,
                type=event.type,
                schema_version=event.schema_version,
                data=event.data,
                metadata=event.metadata,
                recorded_at=self.recorded_at,
                prev_hash=prev,
            )
            s.position.append(self.head)
            s.stream_id.append(item.stream_id)
            s.version.append(version)
            s.event_id.append(event.event_id)
            s.type.append(event.type)
            s.schema_version.append(event.schema_version)
            s.data.append(canonical_json(event.data))
            s.metadata.append(canonical_json(event.metadata))
            s.prev_hash.append(prev)
            s.hash.append(digest)
            self.refs[event.event_id] = _Ref(item.stream_id, version, self.head)
            positions.append(self.head)
            prev = digest
        self.streams[item.stream_id] = (version, prev)
        for change in item.claims:
            key = (change.user_id, change.party_id, change.role)
            self.claim_stream[key] = (item.stream_id, positions[-1])
        return AppendResult(
            stream_id=item.stream_id,
            first_version=version - len(item.events) + 1,
            last_version=version,
            positions=positions,
        )

    async def flush(self, conn: asyncpg.Connection) -> None:
        """Write the staged events, the net claim changes and the new head; notify followers."""
        s = self.staged
        await conn.execute(
            _INSERT_EVENTS,
            s.position,
            s.stream_id,
            s.version,
            s.event_id,
            s.type,
            s.schema_version,
            s.data,
            s.metadata,
            self.recorded_at,
            s.prev_hash,
            s.hash,
        )
        added, dropped = self._claim_changes()
        if dropped:
            await conn.execute(_DROP_CLAIMS, *_columns(dropped, 3))
        if added:
            at = [self.claim_stream[k] for k in added]
            await conn.execute(
                _ADD_CLAIMS,
                *_columns(added, 3),
                [a[0] for a in at],
                [a[1] for a in at],
                self.recorded_at,
            )
        # NOTIFY is delivered at commit, so a follower never wakes before the rows are visible.
        await conn.execute(_ADVANCE_HEAD, self.head, NOTIFY_CHANNEL)

    def _claim_changes(self) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
        """Rows to insert and rows to delete, comparing final holders with the locked state."""
        before = {(u, p, r) for u, hs in self.original.items() for p, r in hs}
        after = {(u, p, r) for u, hs in self.holders.items() for p, r in hs}
        return sorted(after - before), sorted(before - after)


def _columns(rows: list[tuple[str, str, str]], width: int) -> list[list[Any]]:
    """Transpose rows into per-column lists for ``unnest``."""
    return [[row[i] for row in rows] for i in range(width)]
