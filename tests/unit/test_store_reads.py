"""The reads a role case and its Party record make of each other's streams
(store-reads-2026-12): nothing for a stream without a record, and a stream that does not fold
is refused with None (the poke is then refused or records nothing), never retried for ever."""

from __future__ import annotations

import uuid
from datetime import date

from activities.coordination import CoordinationActivities, PositionRequest
from domain.roles import UserRole
from eventstore.memory import InMemoryEventStore
from eventstore.models import NewEvent


def reads(store: InMemoryEventStore) -> CoordinationActivities:
    return CoordinationActivities(None, store)  # type: ignore[arg-type]  # no Temporal needed


def broken(event_type: str) -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), type=event_type, data={"effective_on": "not a date"})


async def test_no_stream_reads_as_nothing() -> None:
    store = InMemoryEventStore()
    assert await reads(store).read_case_facts("uep-p1-gas_supplier") is None
    asked = PositionRequest(
        stream_id="uep-party-p1", role=UserRole.GAS_SUPPLIER, on=date(2026, 12, 1)
    )
    assert await reads(store).read_party_position(asked) is None


async def test_a_stream_that_does_not_fold_reads_as_nothing() -> None:
    store = InMemoryEventStore()
    await store.append("uep-p1-gas_supplier", [broken("CaseStarted")], 0)
    await store.append("uep-party-p1", [broken("PartyRecordOpened")], 0)
    assert await reads(store).read_case_facts("uep-p1-gas_supplier") is None
    asked = PositionRequest(
        stream_id="uep-party-p1", role=UserRole.GAS_SUPPLIER, on=date(2026, 12, 1)
    )
    assert await reads(store).read_party_position(asked) is None
