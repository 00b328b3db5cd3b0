"""No single message can wedge, forge or bloat a case: one test per class of poison input.

Each test sends what, before the inputs were bounded and the handlers made total, left a case
stuck, forged or holding an unbounded value, and checks the case now refuses it, records
nothing, still answers its ``state`` query and accepts the next valid message.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from activities.case import AppendRequest, CaseActivities
from activities.errors import StoreRefusal
from domain.roles import UserRole
from eventstore.memory import InMemoryEventStore
from eventstore.models import NewEvent
from tests.workflows import story
from tests.workflows.conftest import Harness
from workflows.errors import REFUSAL_MAX
from workflows.names import WORKFLOW_TYPE, workflow_id

MEGABYTE = 1_000_000
UID = "90b3d51f300100a1"


@pytest.fixture
async def fresh(harness: Harness) -> WorkflowHandle[Any, Any]:
    """A Gas Supplier case just opened, waiting for its User ID."""
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, await story.today(harness))
    await story.opened(handle)
    return handle


async def case_events(h: Harness, handle: WorkflowHandle[Any, Any]) -> int:
    """How many events the case's own messages recorded (the positions its Party record sends
    arrive on their own, whatever the test does)."""
    stored = await h.store.read_stream(handle.id)
    return sum(e.type != "PartyPositionRecorded" for e in stored)


async def still_well(h: Harness, handle: WorkflowHandle[Any, Any], stored: int) -> None:
    """Nothing was recorded; the case answers its query and takes the next valid message."""
    assert await case_events(h, handle) == stored
    assert (await story.view(handle))["status"] == "open"
    result = await story.send(handle, "propose_user_id", user_id=UID)
    assert result.events == ["UserIdProposed"]


async def refusal_of(handle: WorkflowHandle[Any, Any], name: str, *args: Any) -> ApplicationError:
    """Send an update with exactly these arguments; it must be refused. The refusal."""
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(name, args=list(args))
    cause = info.value.cause
    assert isinstance(cause, ApplicationError), cause
    return cause


async def rejected(handle: WorkflowHandle[Any, Any]) -> list[dict[str, Any]]:
    """The case's list of refused signals (a following update orders it after the signals)."""
    await story.send(handle, "record_srept_completed")
    entries: list[dict[str, Any]] = (await story.view(handle))["rejected_messages"]
    return entries


def undecodable() -> RawValue:
    """A payload that claims to be JSON and is not."""
    return RawValue(Payload(metadata={"encoding": b"json/plain"}, data=b"{not json"))


# 1. NUL in free text ----------------------------------------------------------------------


async def test_nul_in_free_text_is_refused_naming_the_field(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    for field, payload in [
        ("actor", {"actor": "a\u0000b"}),
        ("message_id", {"message_id": "a\u0000b"}),
    ]:
        message = await story.refused(fresh, "record_srept_completed", payload)
        assert message.startswith(f"record_srept_completed: {field}:"), message
    message = await story.refused(fresh, "withdraw", {"reason": "gone\u0000"})
    assert "reason: must not contain control characters" in message
    await still_well(harness, fresh, stored=1)


async def test_events_the_store_can_never_hold_are_refused_without_retrying() -> None:
    """Whatever slips past the models, the append activity fails once, non-retryably."""
    activities = CaseActivities(InMemoryEventStore())
    request = AppendRequest(
        stream_id="uep-x-gas_supplier",
        expected_version=0,
        events=[NewEvent(event_id=uuid.uuid4(), type="CaseStarted", data={"note": "a\u0000"})],
    )
    with pytest.raises(ApplicationError) as info:
        await activities.append_events(request)
    assert info.value.non_retryable
    assert info.value.type == StoreRefusal.UNSTORABLE


# 2. Refusals that would echo an oversized value -------------------------------------------


async def test_a_refusal_never_echoes_an_oversized_value(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    cases = [
        ("propose_user_id", {"user_id": "9" * MEGABYTE}, "user_id: String should have at most"),
        (
            "record_panel_determination",
            {"dispute_id": "D" * MEGABYTE, "upheld": True},
            "dispute_id",
        ),
        ("raise_dispute", {"subject": "uept", "reason": "x" * MEGABYTE}, "reason"),
        ("withdraw", {"reason": "why", "x" * MEGABYTE: 1}, "Extra inputs are not permitted"),
    ]
    for name, payload, expected in cases:
        message = await story.refused(fresh, name, payload)
        assert expected in message
        assert len(message) <= REFUSAL_MAX
    await still_well(harness, fresh, stored=1)


# 3. Signals (and updates) with the wrong number of arguments -------------------------------


async def test_a_signal_with_no_argument_or_two_is_listed_and_changes_nothing(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    await fresh.signal("accept_user_id")
    await fresh.signal("accept_user_id", args=[{"user_id": UID}, {"user_id": UID}])
    entries = await rejected(fresh)
    assert [e["error"] for e in entries] == [
        "accept_user_id: expected one JSON object as the payload, got 0 arguments",
        "accept_user_id: expected one JSON object as the payload, got 2 arguments",
    ]
    await still_well(harness, fresh, stored=2)


async def test_an_update_with_no_argument_or_two_is_refused(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    assert "got 0 arguments" in (await refusal_of(fresh, "propose_user_id")).message
    two = await refusal_of(fresh, "propose_user_id", {"user_id": UID}, {"user_id": UID})
    assert "got 2 arguments" in two.message
    await still_well(harness, fresh, stored=1)


# 4. Start inputs not fully checked ---------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"calendar_region": "mars"}, "calendar_region: Input should be"),
        ({"started_on": "0001-01-01"}, "started_on: must lie between 2013-01-01"),
        ({"party_name": "N" * 3000}, "party.party_name: String should have at most 200"),
        ({"party_name": "Acme\u202eygrene"}, "party.party_name: must not contain bidirectional"),
        ({"category": "small_supplier", "licences": []}, "needs a gas supply licence"),
    ],
)
async def test_a_start_that_cannot_proceed_fails_at_once_with_its_reason(
    harness: Harness, change: dict[str, Any], expected: str
) -> None:
    party = story.party(UserRole.GAS_SUPPLIER)
    payload: dict[str, Any] = {"party": party, "role": "gas_supplier"}
    for key, value in change.items():
        target = payload if key in ("calendar_region", "started_on") else party
        target[key] = value
    handle = await harness.client.start_workflow(
        WORKFLOW_TYPE,
        payload,
        id=workflow_id(party["party_id"], "gas_supplier"),
        task_queue=harness.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as info:
        await story.result(harness, handle)
    assert expected in str(info.value.cause)
    assert await harness.store.read_stream(handle.id) == []


# 5. Internal fields from the public input --------------------------------------------------


async def test_state_carried_over_cannot_be_forged_at_start(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    """A copy of a continue-as-new input with the case "completed" starts nothing."""
    history = await fresh.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.input.payloads  # the real start had a plain StartCase input
    party = story.party(UserRole.GAS_SUPPLIER)
    forged = {
        "party": party,
        "role": "gas_supplier",
        "continued": {"case": {"status": "completed"}, "stream_version": 9, "calendar": {}},
    }
    handle = await harness.client.start_workflow(
        WORKFLOW_TYPE,
        forged,
        id=workflow_id(party["party_id"], "gas_supplier"),
        task_queue=harness.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as info:
        await story.result(harness, handle)
    assert "continued: Extra inputs are not permitted" in str(info.value.cause)
    assert await harness.store.read_stream(handle.id) == []
    internal = story.party(UserRole.GAS_SUPPLIER)
    other: WorkflowHandle[Any, Any] = await harness.client.start_workflow(
        WORKFLOW_TYPE,
        {"party": internal, "role": "gas_supplier", "continue_as_new_after": 10},
        id=workflow_id(internal["party_id"], "gas_supplier"),
        task_queue=harness.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as refused:
        await story.result(harness, other)
    assert "continue_as_new_after: Extra inputs are not permitted" in str(refused.value.cause)


# 6. Unbounded or coerced values ------------------------------------------------------------


UNBOUNDED: list[tuple[str, dict[str, Any], str]] = [
    ("give_uept_notice", {"planned_start_on": "9999-12-31"}, "planned_start_on: must lie"),
    ("give_uept_notice", {"planned_start_on": 1_800_000_000}, "planned_start_on: must be a date"),
    ("notify_credit_cover", {"requirement": "1e999999"}, "requirement: must be written"),
    ("notify_credit_cover", {"requirement": 10**30}, "requirement: Decimal input should have"),
    ("notify_credit_cover", {"requirement": "\uff11\uff10\uff10\uff10"}, "requirement: must be"),
    ("notify_credit_cover", {"requirement": "1_000"}, "requirement: must be written"),
    (
        "lodge_credit_support",
        {"items": [{"form": "cash_deposit", "amount": "10", "provider": "p" * MEGABYTE}]},
        "items.0.provider: String should have at most 200",
    ),
    (
        "lodge_credit_support",
        {"items": [{"form": "cash_deposit", "amount": "10"}] * 5000},
        "items: List should have at most 50 items",
    ),
    (
        "confirm_entry_criteria",
        {"criteria": ["accession_confirmed"] * 10_000},
        "criteria: List should have at most 50 items",
    ),
    ("withdraw", {"reason": "   "}, "reason: must not be blank"),
    ("record_srept_completed", {"message_id": ""}, "message_id: String should have at least 1"),
    ("record_quality_gate_meeting", {"successful": "yes"}, "successful: Input should be a valid"),
    ("record_srept_completed", {"effective_on": 1_700_000_000}, "effective_on: must be a date"),
]


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    UNBOUNDED,
    ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(UNBOUNDED)],
)
async def test_unbounded_or_coerced_values_are_refused(
    harness: Harness,
    fresh: WorkflowHandle[Any, Any],
    name: str,
    payload: dict[str, Any],
    expected: str,
) -> None:
    message = await story.refused(fresh, name, payload)
    assert expected in message
    assert len(message) <= REFUSAL_MAX
    await still_well(harness, fresh, stored=1)


async def test_a_planned_uept_start_years_away_is_refused(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    far = (await story.today(harness)) + timedelta(days=6 * 366)
    message = await story.refused(fresh, "give_uept_notice", {"planned_start_on": far.isoformat()})
    assert "planned_start_on:" in message and "years" in message
    await still_well(harness, fresh, stored=1)


# 7. A reused message id answers only for the same message -----------------------------------


async def test_a_reused_message_id_with_other_content_is_refused(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    await story.send(fresh, "propose_user_id", user_id=UID, message_id="m-1")
    await story.send(fresh, "accept_user_id", user_id=UID, message_id="dcc-1")
    again = await story.send(fresh, "accept_user_id", user_id=UID, message_id="dcc-1")
    assert again.duplicate  # the same message again: answered, nothing new
    message = await story.refused(fresh, "withdraw", {"reason": "bye", "message_id": "dcc-1"})
    assert "message_id 'dcc-1' was already used for another message (accept_user_id" in message
    await fresh.signal("verify_evidence", {"requirement": "user_id", "message_id": "m-1"})
    entries = await rejected(fresh)
    assert "message_id 'm-1' was already used for another message" in entries[-1]["error"]
    view = await story.view(fresh)
    assert view["status"] == "open" and view["requirements"][0]["verified_on"] is None
    assert await case_events(harness, fresh) == 4  # + SREPT, ordering update


# 8. Oversized and endless invalid signals --------------------------------------------------


async def test_oversized_refused_signals_are_kept_small(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    for n in range(3):
        await fresh.signal("accept_user_id", {"user_id": UID, "message_id": str(n) * 900_000})
    entries = await rejected(fresh)
    assert len(entries) == 3
    assert all(len(e["message_id"]) <= 64 and len(e["error"]) <= 500 for e in entries)
    await still_well(harness, fresh, stored=2)


# 9. Nothing is dropped silently ------------------------------------------------------------


async def test_undecodable_unknown_and_repeated_signals_are_all_listed(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    await fresh.signal("accept_user_id", undecodable())
    await fresh.signal("no_such_signal", {"anything": 1})
    await story.send(fresh, "propose_user_id", user_id=UID)
    await story.signal(fresh, "accept_user_id", user_id=UID, message_id="dcc-9")
    await story.signal(fresh, "accept_user_id", user_id=UID, message_id="dcc-9")
    entries = await rejected(fresh)
    errors = [e["error"] for e in entries]
    assert errors[0].startswith("accept_user_id: the payload could not be decoded")
    assert errors[1].startswith("unknown signal 'no_such_signal'; known: accept_user_id")
    assert errors[2] == "already applied (a repeat of this message_id)"
    assert await case_events(harness, fresh) == 4


# 10. Refusals are readable: no stack trace, the right field --------------------------------


async def test_undecodable_or_unknown_updates_get_a_readable_refusal(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    bad = await refusal_of(fresh, "propose_user_id", undecodable())
    assert bad.message.startswith("propose_user_id: the payload could not be decoded")
    assert bad.failure is not None and bad.failure.stack_trace == ""
    unknown = await refusal_of(fresh, "no_such_update", {})
    assert unknown.message.startswith("unknown update 'no_such_update'; known: accept_user_id")
    assert unknown.failure is not None and unknown.failure.stack_trace == ""
    await still_well(harness, fresh, stored=1)
