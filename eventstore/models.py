"""Contract of the event store: what goes in, what comes out, and its errors.

The workflow chooses every event id (``workflow.uuid4()``), so a retried append finds its events
already stored and writes nothing. Both the PostgreSQL store and the in-memory fake implement
:class:`EventStorePort`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class NewEvent(BaseModel):
    """An event to append; its id is chosen by the caller for idempotency."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    type: str
    schema_version: int = 1
    data: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)


class RecordedEvent(BaseModel):
    """An event as stored, with its global position, stream version and hash link."""

    model_config = ConfigDict(frozen=True)

    position: int
    stream_id: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    prev_hash: str | None
    hash: str


class UserIdClaimChange(BaseModel):
    """Claim or release of a User ID, written in the same transaction as the events."""

    model_config = ConfigDict(frozen=True)

    action: Literal["claim", "release"]
    user_id: str
    party_id: str
    role: str


class AppendResult(BaseModel):
    """Where the appended (or already stored) events are."""

    stream_id: str
    first_version: int
    last_version: int
    positions: list[int]
    duplicate: bool = False


class ChainReport(BaseModel):
    """Result of re-computing a stream's hash chain."""

    stream_id: str
    events: int
    ok: bool
    first_bad_version: int | None = None
    detail: str = ""


class EventStoreError(Exception):
    """Base class of event-store errors."""


class ExpectedVersionError(EventStoreError):
    """The stream moved on: another writer appended first. Not retryable as-is."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, expected {expected}: "
            "another writer appended first"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class UserIdClaimError(EventStoreError):
    """A User ID claim breaks the sharing rule; nothing was written."""


class UnstorableEventError(EventStoreError):
    """The database will never accept these events as they are (a NUL in text, a value out of
    range): retrying cannot help; nothing was written."""


class EventStorePort(Protocol):
    """What the activities and tools need of an event store."""

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        claims: Sequence[UserIdClaimChange] = (),
    ) -> AppendResult:
        """Append after ``expected_version`` (0 for a new stream); idempotent by event id."""
        ...

    async def stream_version(self, stream_id: str) -> int:
        """Current version of a stream (0 when it has no events)."""
        ...

    async def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[RecordedEvent]:
        """Events of one stream, optionally up to a version or a recorded time."""
        ...

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """The global log after a position, in position order, at most ``limit`` events."""
        ...
