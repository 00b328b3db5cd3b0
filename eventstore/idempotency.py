"""What both stores agree an append means: at least one event, each id once, and a retry of
the very same events answered with the original result (idempotency by event id)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from eventstore.models import AppendResult, EventStoreError, NewEvent


class StoredRef(Protocol):
    """Where an already stored event is."""

    @property
    def stream_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def position(self) -> int: ...


def check_new_events(events: Sequence[NewEvent]) -> None:
    """Refuse an empty append or one naming the same event id twice."""
    if not events:
        raise ValueError("append needs at least one event")
    if len({e.event_id for e in events}) != len(events):
        raise ValueError("append names the same event id twice")


def find_duplicate(
    stream_id: str,
    events: Sequence[NewEvent],
    stored: Sequence[StoredRef | None],
) -> AppendResult | None:
    """Decide what a re-append means, given the stored event (or None) for each new event id.

    All ids stored, in this stream, at consecutive versions: a retry, return the original
    result. None stored: a fresh append. Anything in between is a caller bug, refused loudly.
    """
    found = [e for e in stored if e is not None]
    if not found:
        return None
    if len(found) != len(events):
        raise EventStoreError(
            f"append to {stream_id!r}: {len(found)} of {len(events)} event ids are already "
            "stored; a retry must resend exactly the same events"
        )
    versions = [e.version for e in found]
    if any(e.stream_id != stream_id for e in found) or versions != list(
        range(versions[0], versions[0] + len(found))
    ):
        raise EventStoreError(
            f"append to {stream_id!r}: the event ids are already stored elsewhere "
            "(another stream or other versions)"
        )
    return AppendResult(
        stream_id=stream_id,
        first_version=versions[0],
        last_version=versions[-1],
        positions=[e.position for e in found],
        duplicate=True,
    )
