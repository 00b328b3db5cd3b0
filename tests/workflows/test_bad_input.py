"""Bad input gets a clear error and changes nothing: not the history, the state or the store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.commands import MESSAGES
from domain.roles import UserRole
from tests.workflows import story
from tests.workflows.conftest import Harness
from workflows.names import WORKFLOW_TYPE

UPDATES = sorted(MESSAGES)


_MESSAGES = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
}


async def snapshot(
    h: Harness, handle: WorkflowHandle[Any, Any]
) -> tuple[list[Any], dict[str, Any], int]:
    """What a message could change: the updates and signals history accepted, the state, and
    the events stored - leaving out what the Party record sends on its own time.

    The time-skipping test server records a workflow task even for an update its validator
    rejects (the dev server's speculative tasks leave no trace), and the Party record's pokes
    (signal ``party_changed``, the read they start, the position they record) arrive whenever
    the record has news: neither is the message's doing.
    """
    history = await handle.fetch_history()
    events = [
        (e.event_type, e.workflow_execution_signaled_event_attributes.signal_name)
        for e in history.events
        if e.event_type in _MESSAGES
        and e.workflow_execution_signaled_event_attributes.signal_name != "party_changed"
    ]
    state = {k: v for k, v in (await story.view(handle)).items() if k != "party_record"}
    stored = [e for e in await h.store.read_stream(handle.id) if e.type != "PartyPositionRecorded"]
    return events, state, len(stored)


@pytest.fixture
async def fresh(harness: Harness) -> WorkflowHandle[Any, Any]:
    """A Gas Supplier case just opened, waiting for its User ID."""
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, await story.today(harness))
    await story.opened(handle)
    return handle


async def test_every_update_refuses_unknown_fields_and_records_nothing(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    before = await snapshot(harness, fresh)
    for name in UPDATES:
        message = await story.refused(fresh, name, {"bogus_field": 1})
        assert message.startswith(f"{name}: ")
        assert "bogus_field: Extra inputs are not permitted" in message
    assert await snapshot(harness, fresh) == before


BAD_FIELDS: list[tuple[str, dict[str, Any], str]] = [
    (
        "propose_user_id",
        {"user_id": "90-B3-D5-1F-30-01-00"},
        "user_id: '90-B3-D5-1F-30-01-00' has 7 octets",
    ),
    ("propose_user_id", {"user_id": "90b3d51f3001000g"}, "user_id:"),
    ("propose_user_id", {"user_id": "00-00-00-00-00-00-00-00"}, "user_id:"),
    ("propose_user_id", {}, "user_id: Field required"),
    (
        "give_uept_notice",
        {"planned_start_on": "next week"},
        "planned_start_on: must be a date written YYYY-MM-DD",
    ),
    ("confirm_entry_criteria", {"criteria": ["coffee"]}, "criteria.0: Input should be"),
    ("book_security_assessment", {"assessment_on": "2027-13-01"}, "assessment_on:"),
    ("set_security_status", {"status": "fine"}, "status: Input should be"),
    ("notify_credit_cover", {"value_at_risk": "10"}, "give either 'requirement'"),
    (
        "notify_credit_cover",
        {"requirement": "-5"},
        "requirement: Input should be greater than or equal to 0",
    ),
    ("lodge_credit_support", {"items": [{"form": "iou", "amount": "1"}]}, "items.0.form"),
    ("verify_evidence", {"requirement": "everything"}, "requirement: Input should be"),
    ("raise_dispute", {"subject": "security"}, "reason: Field required"),
    ("withdraw", {"reason": ""}, "reason: String should have at least 1 character"),
    ("propose_user_id", "90b3d51f30010000", "Input should be a valid dictionary"),  # type: ignore[list-item]
]


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    BAD_FIELDS,
    ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BAD_FIELDS)],
)
async def test_malformed_fields_are_named(
    harness: Harness, fresh: WorkflowHandle[Any, Any], name: str, payload: Any, expected: str
) -> None:
    before = await snapshot(harness, fresh)
    message = await story.refused(fresh, name, payload)
    assert expected in message
    assert await snapshot(harness, fresh) == before


OUT_OF_STAGE: list[tuple[str, dict[str, Any], str]] = [
    ("accept_user_id", {"user_id": "90b3d51f30010000"}, "no User ID is awaiting the DCC's answer"),
    ("start_uept", {}, "UEPT needs 60 Working Days' notice first"),
    ("submit_test_completion_report", {}, "while UEPT is testing"),
    ("confirm_report_receipt", {}, "no Test Completion Report is awaiting"),
    ("issue_test_certificate", {"certificate_ref": "X"}, "follows a successful quality gate"),
    ("complete_security_assessment", {}, "send 'complete_party_security_assessment'"),
    ("set_security_status", {"status": "approved"}, "send 'set_party_security_status'"),
    ("book_privacy_assessment", {"assessment_on": "2030-01-01"}, "Other User role only"),
    ("assess_credit_support", {}, "send 'assess_party_credit' to the Party record"),
    (
        "lodge_credit_support",
        {"items": [{"form": "cash_deposit", "amount": "10"}]},
        "Credit Support belongs to the Party, not to one role: send 'lodge_instrument'",
    ),
    ("verify_evidence", {"requirement": "uept"}, "not met yet"),
    ("record_panel_determination", {"dispute_id": "D1", "upheld": True}, "no dispute 'D1'"),
]


@pytest.mark.parametrize(
    ("name", "payload", "expected"), OUT_OF_STAGE, ids=[n for n, _, _ in OUT_OF_STAGE]
)
async def test_out_of_stage_calls_say_what_the_case_waits_for(
    harness: Harness,
    fresh: WorkflowHandle[Any, Any],
    name: str,
    payload: dict[str, Any],
    expected: str,
) -> None:
    before = await snapshot(harness, fresh)
    message = await story.refused(fresh, name, payload)
    assert expected in message
    assert await snapshot(harness, fresh) == before


async def test_refusal_lists_what_the_case_waits_for(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    message = await story.refused(fresh, "confirm_report_receipt", {})
    assert "The case is waiting for:" in message
    assert "Party: propose a User ID to the DCC" in message


async def test_future_effective_date_is_refused(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    later = (await story.today(harness)) + timedelta(days=5)
    message = await story.refused(
        fresh, "propose_user_id", {"user_id": "90b3d51f30010000", "effective_on": later}
    )
    assert "effective_on:" in message and "in the future" in message


async def test_repeated_update_message_id_is_applied_once(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    first = await story.send(fresh, "propose_user_id", user_id="90b3d51f300100aa", message_id="m-1")
    again = await story.send(fresh, "propose_user_id", user_id="90b3d51f300100aa", message_id="m-1")
    assert first.events == ["UserIdProposed"] and not first.duplicate
    assert again.duplicate and again.events == ["UserIdProposed"]
    stored = [e.type for e in await harness.store.read_stream(fresh.id)]
    assert stored.count("UserIdProposed") == 1
    assert stored[0] == "CaseStarted" and stored[-1] == "UserIdProposed"


async def test_repeated_signal_is_applied_once_and_bad_signal_is_kept_visible(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    uid = "90b3d51f300100ab"
    await story.send(fresh, "propose_user_id", user_id=uid)
    for _ in range(3):
        await story.signal(fresh, "accept_user_id", user_id=uid, message_id="dcc-1")
    await story.signal(fresh, "accept_user_id", user_id="90-B3", message_id="dcc-2")
    await story.signal(fresh, "reject_user_id", user_id=uid, reason="late", message_id="dcc-3")
    await story.signal(fresh, "accept_user_id", user_id=uid)  # no message id
    # an update sent after the signals is handled after them (they queue on the case's lock)
    await story.send(fresh, "record_srept_completed")
    view = await story.view(fresh)
    stored = [e.type for e in await harness.store.read_stream(fresh.id)]
    assert stored.count("UserIdAccepted") == 1 and "UserIdRejected" not in stored
    rejected = {r["message_id"]: r["error"] for r in view["rejected_messages"]}
    assert "octets" in rejected["dcc-2"]
    assert "no User ID is awaiting" in rejected["dcc-3"]
    assert "message_id is required" in rejected[None]
    assert view["requirements"][0]["status"] == "accepted"


async def test_bad_start_input_fails_the_case_with_a_readable_message(harness: Harness) -> None:
    handle = await harness.client.start_workflow(
        WORKFLOW_TYPE,
        {
            "party": {"party_id": "zed", "party_name": "Zed", "category": "small_supplier"},
            "role": "gas_supplier",
        },
        id="uep-zed-gas_supplier",
        task_queue=harness.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as info, harness.env.auto_time_skipping_disabled():
        await handle.result()
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    assert "Gas Supplier needs a gas supply licence" in cause.message
    assert await harness.store.read_stream("uep-zed-gas_supplier") == []


async def test_wrong_workflow_id_is_refused(harness: Harness) -> None:
    p = story.party(UserRole.GAS_SUPPLIER)
    handle = await harness.client.start_workflow(
        WORKFLOW_TYPE,
        {"party": p, "role": "gas_supplier"},
        id="my-case",
        task_queue=harness.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as info, harness.env.auto_time_skipping_disabled():
        await handle.result()
    assert isinstance(info.value.cause, ApplicationError)
    assert f"uep-{p['party_id']}-gas_supplier" in info.value.cause.message


async def test_refusal_carries_no_stack_trace(
    harness: Harness, fresh: WorkflowHandle[Any, Any]
) -> None:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await fresh.execute_update("propose_user_id", {"user_id": "nope"})
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "invalid_input"
    assert cause.failure is not None and cause.failure.stack_trace == ""


PARTY_OUT_OF_STAGE: list[tuple[str, dict[str, Any], str]] = [
    ("assess_party_credit", {}, "the DCC assesses Credit Support against a notified requirement"),
    ("complete_party_security_assessment", {"assessment_id": "S9"}, "no assessment 'S9'"),
    (
        "set_party_security_status",
        {"assessment_id": "S9", "status": "approved"},
        "no assessment 'S9' (assessments: none)",
    ),
    ("withdraw_instrument", {"reference": "BG-1"}, "no instrument 'BG-1'"),
    ("allocate_user_id_range", {"first": "90b3d51f30020000", "last": "90b3d51f3001ffff"}, "before"),
]


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    PARTY_OUT_OF_STAGE,
    ids=[n for n, _, _ in PARTY_OUT_OF_STAGE],
)
async def test_party_record_refuses_what_its_state_does_not_allow(
    harness: Harness,
    fresh: WorkflowHandle[Any, Any],
    name: str,
    payload: dict[str, Any],
    expected: str,
) -> None:
    record = story.record_of(harness, story.party_id_of(fresh))
    await story.party_open(record)
    before = await snapshot(harness, record)
    message = await story.party_refused(record, name, payload)
    assert expected in message
    assert await snapshot(harness, record) == before
