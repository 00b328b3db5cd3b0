"""The one hash function of the event chain, shared by both stores and the verifier."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventstore.models import ChainReport, RecordedEvent

GENESIS = ""  # the "previous hash" of a stream's first event


def utc_iso(moment: datetime) -> str:
    """Render a timestamp in one canonical form (UTC, microseconds) whatever its tz."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces, so the same content always hashes the same."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    *,
    stream_id: str,
    version: int,
    event_id: UUID,
    type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    recorded_at: datetime,
    prev_hash: str | None,
) -> str:
    """SHA-256 hex of the event's canonical content chained to the previous hash."""
    body = canonical_json(
        {
            "stream_id": stream_id,
            "version": version,
            "event_id": str(event_id),
            "type": type,
            "schema_version": schema_version,
            "data": data,
            "metadata": metadata,
            "recorded_at": utc_iso(recorded_at),
        }
    )
    digest = hashlib.sha256()
    digest.update((prev_hash or GENESIS).encode())
    digest.update(b"\n")
    digest.update(body.encode())
    return digest.hexdigest()


def hash_of(event: RecordedEvent) -> str:
    """Recompute the hash a stored event should carry."""
    return event_hash(
        stream_id=event.stream_id,
        version=event.version,
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        data=event.data,
        metadata=event.metadata,
        recorded_at=event.recorded_at,
        prev_hash=event.prev_hash,
    )


def verify_events(stream_id: str, events: Iterable[RecordedEvent]) -> ChainReport:
    """Walk a stream in version order and report the first broken link or content hash."""
    prev: str | None = None
    count = 0
    for count, event in enumerate(events, start=1):
        if event.version != count:
            return ChainReport(
                stream_id=stream_id,
                events=count,
                ok=False,
                first_bad_version=count,
                detail=f"version {count} is missing (found {event.version})",
            )
        if event.prev_hash != prev:
            return ChainReport(
                stream_id=stream_id,
                events=count,
                ok=False,
                first_bad_version=event.version,
                detail=f"version {event.version}: prev_hash does not match the previous hash",
            )
        if hash_of(event) != event.hash:
            return ChainReport(
                stream_id=stream_id,
                events=count,
                ok=False,
                first_bad_version=event.version,
                detail=f"version {event.version}: content does not match its hash",
            )
        prev = event.hash
    return ChainReport(stream_id=stream_id, events=count, ok=True)
