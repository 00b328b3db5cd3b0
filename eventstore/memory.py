"""An in-memory event store with the same rules as the PostgreSQL one, for fast tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from eventstore.claims import apply_claims
from eventstore.hashing import event_hash, verify_events
from eventstore.idempotency import check_new_events, find_duplicate
from eventstore.models import (
    AppendResult,
    ChainReport,
    ExpectedVersionError,
    NewEvent,
    RecordedEvent,
    UnstorableEventError,
    UserIdClaimChange,
)


def utc_now() -> datetime:
    """Wall-clock time in UTC, at the microsecond precision PostgreSQL keeps."""
    return datetime.now(UTC)


def _has_nul(value: Any) -> bool:
    """Whether a NUL character hides anywhere in a JSON-like value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class InMemoryEventStore:
    """EventStorePort kept in lists and dicts; one lock makes each append atomic."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._by_id: dict[str, RecordedEvent] = {}
        self._claims: dict[str, set[tuple[str, str]]] = {}
        self._lock = asyncio.Lock()

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        claims: Sequence[UserIdClaimChange] = (),
    ) -> AppendResult:
        """Append after ``expected_version`` (0 for a new stream); idempotent by event id."""
        check_new_events(events)
        if any(_has_nul(e.data) or _has_nul(e.metadata) for e in events):
            # PostgreSQL's text and jsonb cannot hold NUL; refuse what the real store refuses
            raise UnstorableEventError("PostgreSQL refuses to store these events: NUL in text")
        async with self._lock:
            stored = [self._by_id.get(str(e.event_id)) for e in events]
            duplicate = find_duplicate(stream_id, events, stored)
            if duplicate is not None:
                return duplicate
            stream = self._streams.get(stream_id, [])
            if len(stream) != expected_version:
                raise ExpectedVersionError(stream_id, expected_version, len(stream))
            # Check every claim before writing anything: an append is all or nothing.
            new_claims = apply_claims(self._claims, claims)
            recorded_at = self._clock()
            prev = stream[-1].hash if stream else None
            written: list[RecordedEvent] = []
            for offset, event in enumerate(events):
                version = expected_version + offset + 1
                digest = event_hash(
                    stream_id=stream_id,
                    version=version,
                    event_id=event.event_id,
                    type=event.type,
                    schema_version=event.schema_version,
                    data=event.data,
                    metadata=event.metadata,
                    recorded_at=recorded_at,
                    prev_hash=prev,
                )
                written.append(
                    RecordedEvent(
                        position=len(self._log) + offset + 1,
                        stream_id=stream_id,
                        version=version,
                        event_id=event.event_id,
                        type=event.type,
                        schema_version=event.schema_version,
                        data=event.data,
                        metadata=event.metadata,
                        recorded_at=recorded_at,
                        prev_hash=prev,
                        hash=digest,
                    )
                )
                prev = digest
            self._claims = new_claims
            self._log.extend(written)
            self._streams.setdefault(stream_id, []).extend(written)
            self._by_id.update({str(e.event_id): e for e in written})
            return AppendResult(
                stream_id=stream_id,
                first_version=written[0].version,
                last_version=written[-1].version,
                positions=[e.position for e in written],
            )

    async def stream_version(self, stream_id: str) -> int:
        """Current version of a stream (0 when it has no events)."""
        return len(self._streams.get(stream_id, []))

    async def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[RecordedEvent]:
        """Events of one stream, optionally up to a version or a recorded time."""
        return [
            e
            for e in self._streams.get(stream_id, [])
            if e.version >= from_version
            and (to_version is None or e.version <= to_version)
            and (as_of is None or e.recorded_at <= as_of)
        ]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """The global log after a position, in position order, at most ``limit`` events."""
        return self._log[after_position : after_position + limit]

    async def verify_chain(self, stream_id: str) -> ChainReport:
        """Recompute a stream's hash chain."""
        return verify_events(stream_id, self._streams.get(stream_id, []))

    async def user_id_holders(self, user_id: str) -> list[tuple[str, str]]:
        """Current ``(party_id, role)`` holders of a User ID."""
        return sorted(self._claims.get(user_id, set()))
