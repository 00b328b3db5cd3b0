"""A message with no principal header (the Temporal Web UI) is recorded as SECAS on the console
*with the Temporal identity that sent it*, read from the run's history by an activity.

The clients here connect to the time-skipping test server with an identity of their own, as an
operator's Web UI session or tool would; the worker is real, nothing is mocked.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload, Payloads, WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import SignalWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.coordination import (
    IDENTITY_MAX,
    CoordinationActivities,
    SenderIdentityRequest,
    bounded_identity,
)
from domain.principals import Principal, PrincipalKind
from domain.roles import UserRole
from eventstore.models import RecordedEvent
from tests.workflows import story
from tests.workflows.conftest import Harness
from uep.converter import DATA_CONVERTER
from uep.principal import PrincipalHeaders, signing_as
from workflows.io import UpdateResult
from workflows.names import WORKFLOW_TYPE, workflow_id

ALICE = "alice@secas-console"
BOB = "bob@secas-console"
IDENTIFY = "identify_sender"


async def connect_as(env: WorkflowEnvironment, identity: str) -> Client:
    """A client of the session's server that gives Temporal ``identity``."""
    return await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        identity=identity,
        data_converter=DATA_CONVERTER,
    )


@pytest.fixture
async def alice(env: WorkflowEnvironment) -> AsyncIterator[Client]:
    yield await connect_as(env, ALICE)


@pytest.fixture
async def bob(env: WorkflowEnvironment) -> AsyncIterator[Client]:
    yield await connect_as(env, BOB)


async def activities_of(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The activity types the run scheduled, in order."""
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


async def stored_for(h: Harness, stream: str, message_id: str) -> list[RecordedEvent]:
    """The events a message recorded (its id is their causation id)."""
    return [
        e for e in await h.store.read_stream(stream) if e.metadata.get("causation_id") == message_id
    ]


async def settled(
    h: Harness, handle: WorkflowHandle[Any, Any], message_id: str, attempts: int = 2_000
) -> list[RecordedEvent]:
    """Ask the state until a signal is recorded or listed as refused (each query a round
    trip, no sleep); the events it recorded."""
    for _ in range(attempts):
        recorded = await stored_for(h, handle.id, message_id)
        if recorded:
            return recorded
        state = await story.view(handle)
        if message_id in {r["message_id"] for r in state.get("rejected_messages", [])}:
            return []
    raise AssertionError(f"{handle.id}: signal {message_id} neither recorded nor refused")


async def open_case(h: Harness, client: Client | None = None) -> WorkflowHandle[Any, Any]:
    """A Gas Supplier case started ten days ago (by ``client``, or the harness's client)."""
    data = story.party(UserRole.GAS_SUPPLIER)
    started_on = await story.today(h) - timedelta(days=10)
    handle = await (client or h.client).start_workflow(
        WORKFLOW_TYPE,
        {"party": data, "role": "gas_supplier", "started_on": started_on.isoformat()},
        id=workflow_id(str(data["party_id"]), "gas_supplier"),
        task_queue=h.task_queue,
    )
    await story.opened(handle)
    return handle


def console_metadata(event: RecordedEvent) -> dict[str, Any]:
    """The event's metadata, checked to name the console as its principal."""
    meta = event.metadata
    assert meta["principal"] == {
        "kind": "secas",
        "id": "temporal-ui",
        "name": "SECAS (Temporal Web UI)",
    }
    return meta


async def test_a_headerless_update_records_the_identity_that_sent_it(
    harness: Harness, alice: Client
) -> None:
    handle = await open_case(harness)
    from_alice = alice.get_workflow_handle(handle.id)
    result = await from_alice.execute_update(
        "record_srept_completed", {"message_id": "u1"}, result_type=UpdateResult
    )
    assert result.events == ["SreptCompleted"]
    (event,) = await stored_for(harness, handle.id, "u1")
    meta = console_metadata(event)
    assert meta["temporal_identity"] == ALICE
    assert meta["on_behalf_of"]["kind"] == "dcc"
    assert IDENTIFY in await activities_of(handle)
    await story.record_history(handle, "ui-identity-update")


async def test_a_headerless_signal_records_the_identity_that_sent_it(
    harness: Harness, alice: Client, bob: Client
) -> None:
    handle = await open_case(harness)
    future = (await story.today(harness) + timedelta(days=30)).isoformat()
    # Bob's signal of the same name comes first and is refused (a future date): Alice's is
    # found by its message id, not by its name
    await bob.get_workflow_handle(handle.id).signal(
        "record_srept_completed", {"message_id": "s-bob", "effective_on": future}
    )
    assert await settled(harness, handle, "s-bob") == []
    await alice.get_workflow_handle(handle.id).signal(
        "record_srept_completed", {"message_id": "s-alice"}
    )
    (event,) = await settled(harness, handle, "s-alice")
    assert console_metadata(event)["temporal_identity"] == ALICE
    await story.record_history(handle, "ui-identity-signal")


async def test_a_case_started_from_the_console_records_the_identity_that_started_it(
    harness: Harness, alice: Client
) -> None:
    handle = await open_case(harness, alice)
    started = (await harness.store.read_stream(handle.id))[0]
    assert started.type == "CaseStarted"
    assert console_metadata(started)["temporal_identity"] == ALICE


async def test_the_party_record_records_the_identity_of_headerless_messages(
    harness: Harness, alice: Client, bob: Client
) -> None:
    handle = await open_case(harness)
    record = story.record_of(harness, story.party_id_of(handle))
    await story.party_open(record)
    await alice.get_workflow_handle(record.id).execute_update(
        "allocate_user_id_range",
        {"first": story.TEST_RANGE[0], "last": story.TEST_RANGE[1], "message_id": "r1"},
        result_type=dict,
    )
    (allocated,) = await stored_for(harness, record.id, "r1")
    assert console_metadata(allocated)["temporal_identity"] == ALICE
    await bob.get_workflow_handle(record.id).signal(
        "notify_party_credit_cover", {"requirement": "0", "threshold": "2400", "message_id": "c1"}
    )
    credited: list[RecordedEvent] = []
    for _ in range(2_000):  # each pass a round trip through the record's query: no sleep
        credited = await stored_for(harness, record.id, "c1")
        if credited:
            break
        await story.party_view(record)
    (event,) = credited
    assert console_metadata(event)["temporal_identity"] == BOB
    assert (await activities_of(record)).count(IDENTIFY) == 2
    await story.record_history(record, "ui-identity-party-record")


async def test_bad_headerless_input_records_nothing_and_looks_up_no_one(
    harness: Harness, alice: Client
) -> None:
    handle = await open_case(harness)
    from_alice = alice.get_workflow_handle(handle.id)
    before = await harness.store.stream_version(handle.id)
    message = await story.refused(from_alice, "record_srept_completed", {"bogus": 1})
    assert "bogus: Extra inputs are not permitted" in message
    await from_alice.signal("record_srept_completed", {"message_id": "b1", "bogus": 1})
    assert await settled(harness, handle, "b1") == []
    assert await harness.store.stream_version(handle.id) == before
    # the start was headerless too (the harness's own client): that one lookup, no other
    assert (await activities_of(handle)).count(IDENTIFY) == 1


async def signal_events(handle: WorkflowHandle[Any, Any], name: str) -> list[int]:
    """The history event ids of the signals of ``name`` the run received."""
    return [
        e.event_id
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and e.workflow_execution_signaled_event_attributes.signal_name == name
    ]


async def test_the_identity_is_read_from_the_message_asked_about(
    harness: Harness, alice: Client, bob: Client
) -> None:
    """The activity on its own, against the real history: a signal by its name, its message id
    and the task that delivered it (a repeat of the id later names the repeat's sender), never
    a signed signal; an update by its id; the start."""
    handle = await open_case(harness, alice)
    run_id = handle.result_run_id  # the run start_workflow started
    assert run_id is not None
    future = (await story.today(harness) + timedelta(days=30)).isoformat()
    name = "record_srept_completed"
    await alice.get_workflow_handle(handle.id).signal(
        name, {"message_id": "m1", "effective_on": future}
    )
    await bob.get_workflow_handle(handle.id).signal(name, {"message_id": "m2"})
    await bob.get_workflow_handle(handle.id).signal(
        name, {"message_id": "m1", "effective_on": future}
    )
    config = alice.config()
    config["interceptors"] = [PrincipalHeaders(bytes(range(32)))]
    with signing_as(Principal(kind=PrincipalKind.DCC, id="dcc", name="DCC")):
        await Client(**config).get_workflow_handle(handle.id).signal(name, {"message_id": "m3"})
    await bob.get_workflow_handle(handle.id).execute_update(
        "correct_calendar", {"add_holidays": ["2030-01-02"]}, id="upd-bob", result_type=UpdateResult
    )
    first_m1, m2, second_m1, m3 = await signal_events(handle, name)
    activities = CoordinationActivities(harness.client, harness.store)

    async def identify(kind: str, **fields: Any) -> str | None:
        request = SenderIdentityRequest(workflow_id=handle.id, run_id=run_id, kind=kind, **fields)
        return await activities.identify_sender(request)

    assert await identify("start") == ALICE
    assert await identify("signal", signal=name, message_id="m1", up_to=first_m1) == ALICE
    assert await identify("signal", signal=name, message_id="m1", up_to=m2) == ALICE
    assert await identify("signal", signal=name, message_id="m1", up_to=second_m1) == BOB
    assert await identify("signal", signal=name, message_id="m2") == BOB
    assert await identify("signal", signal=name, message_id="m2", up_to=first_m1) is None
    assert await identify("signal", signal=name, message_id="m3", up_to=m3) is None
    assert await identify("signal", signal="accept_user_id", message_id="m2") is None
    assert await identify("update", update_id="upd-bob") == BOB
    assert await identify("update", update_id="no-such-update") is None


def test_an_identity_is_recorded_printable_and_bounded() -> None:
    assert bounded_identity("  alice\x00@console\n ") == "alice@console"
    assert bounded_identity("x" * 500) == "x" * IDENTITY_MAX
    assert bounded_identity("\x01\x02") is None


async def test_a_message_that_names_no_identity_records_null(harness: Harness) -> None:
    """As the Web UI's own requests do: the lookup finds an empty identity and says so."""
    handle = await open_case(harness)
    body = {"message_id": "anonymous"}
    await harness.client.workflow_service.signal_workflow_execution(
        SignalWorkflowExecutionRequest(
            namespace=harness.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=handle.id),
            signal_name="record_srept_completed",
            input=Payloads(
                payloads=[
                    Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(body).encode())
                ]
            ),
        )
    )
    (event,) = await settled(harness, handle, "anonymous")
    meta = console_metadata(event)
    assert "temporal_identity" in meta
    assert meta["temporal_identity"] is None
