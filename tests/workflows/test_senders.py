"""Who may say what, checked by the workflow itself (time-skipping server, real worker).

Every message x every principal kind is sent as a signed update: a principal the matrix allows
passes the sender check (the domain may still refuse for the stage: that is not a sender
refusal), every other one is refused by the validator, and nothing is recorded. Unsigned,
forged and misdirected headers are refused; a Party gets "not found" for another Party's case;
signals are checked by the local activity and a refused one is listed, not recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.notices import MemoryChannel
from domain.commands import MESSAGES
from domain.party.commands import PARTY_MESSAGES
from domain.principals import PUBLIC_KINDS, SENDER_MATRIX, Principal, PrincipalKind, Sender
from domain.roles import UserRole
from eventstore.memory import InMemoryEventStore
from tests.workflows import story
from uep.principal import PrincipalHeaders, signing_as
from worker import build_worker
from workflows.io import UpdateResult
from workflows.names import STATE_QUERY, WORKFLOW_TYPE, party_record_id, workflow_id

KEY = bytes(range(32))
SENDER_REFUSALS = {"forbidden", "unauthenticated", "not_found"}


@dataclass
class Secured:
    """A worker that holds the key and takes no unsigned message, and a signing client."""

    env: WorkflowEnvironment
    client: Client
    store: InMemoryEventStore
    task_queue: str


@pytest.fixture
async def secured(env: WorkflowEnvironment) -> AsyncIterator[Secured]:
    store = InMemoryEventStore()
    task_queue = f"uep-test-{uuid.uuid4()}"
    config = env.client.config()
    config["interceptors"] = [PrincipalHeaders(KEY)]
    client = Client(**config)
    worker = build_worker(
        env.client,
        store,
        task_queue,
        channel=MemoryChannel(),
        principal_key=KEY,
        allow_ui_writes=False,
    )
    async with worker:
        yield Secured(env, client, store, task_queue)


def as_(kind: PrincipalKind, party_id: str = "x") -> Principal:
    ident = party_id if kind == PrincipalKind.PARTY else str(kind)
    return Principal(kind=kind, id=ident, name=f"{kind.label} {ident}")


async def open_case(s: Secured) -> tuple[WorkflowHandle[Any, Any], str]:
    data = story.party(UserRole.GAS_SUPPLIER)
    today = (await s.env.get_current_time()).date()
    payload = {
        "party": data,
        "role": "gas_supplier",
        "started_on": (today - timedelta(days=30)).isoformat(),
    }
    with signing_as(as_(PrincipalKind.SECAS)):
        handle = await s.client.start_workflow(
            WORKFLOW_TYPE,
            payload,
            id=workflow_id(str(data["party_id"]), "gas_supplier"),
            task_queue=s.task_queue,
        )
    await story.opened(handle)
    return handle, str(data["party_id"])


async def answer(handle: WorkflowHandle[Any, Any], name: str, principal: Principal) -> str:
    """``ok`` or the refusal's type."""
    with signing_as(principal):
        try:
            await handle.execute_update(name, {}, result_type=UpdateResult)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError), cause
            return cause.type or "?"
    return "ok"


def expected_pass(name: str, kind: PrincipalKind) -> bool:
    row = SENDER_MATRIX[name]
    return kind in row.senders or (kind == PrincipalKind.SECAS and row.secas_records)


async def test_every_message_as_every_kind_of_principal(secured: Secured) -> None:
    handle, party_id = await open_case(secured)
    record = secured.client.get_workflow_handle(party_record_id(party_id))
    await story.opened(record)
    before = await secured.store.read_all()
    failures = []
    targets = [(n, handle) for n in MESSAGES] + [(n, record) for n in PARTY_MESSAGES]
    for name, target in targets:
        for kind in PUBLIC_KINDS:
            got = await answer(target, name, as_(kind, party_id))
            passed = got not in SENDER_REFUSALS
            if passed != expected_pass(name, kind):
                failures.append(f"{name} as {kind}: {got}")
            if not passed and got != "forbidden":
                failures.append(f"{name} as {kind}: {got}, expected forbidden")
    assert not failures, failures
    # a few empty payloads are whole messages (record_srept_completed): those were recorded,
    # each as an allowed principal; no refused principal recorded anything
    for event in (await secured.store.read_all())[len(before) :]:
        name = str(event.metadata.get("command"))
        if name in MESSAGES or name in PARTY_MESSAGES:
            kind = PrincipalKind(event.metadata["principal"]["kind"])
            assert expected_pass(name, kind), (name, kind)


async def test_allowed_message_records_the_principal(secured: Secured) -> None:
    handle, _ = await open_case(secured)
    dcc = Sender(kind=PrincipalKind.DCC, id="dcc", name="DCC")
    operator = Principal(kind=PrincipalKind.SECAS, id="alice", name="Alice", on_behalf_of=dcc)
    with signing_as(operator, request_id="req-42"):
        await handle.execute_update(
            "record_srept_completed", {"message_id": "m1"}, result_type=UpdateResult
        )
    with signing_as(as_(PrincipalKind.ADMIN)):
        await handle.execute_update(
            "correct_calendar", {"add_holidays": ["2030-01-02"]}, result_type=UpdateResult
        )
    events = await secured.store.read_stream(handle.id)
    meta = {e.type: e.metadata for e in events}
    started = meta["CaseStarted"]
    assert started["principal"]["kind"] == "secas"
    srept = next(
        e.metadata for e in events if e.metadata.get("command") == "record_srept_completed"
    )
    assert srept["principal"] == {"kind": "secas", "id": "alice", "name": "Alice"}
    assert srept["on_behalf_of"]["kind"] == "dcc"
    assert srept["request_id"] == "req-42"
    assert srept["actor"] == "Alice for DCC"


async def test_a_party_cannot_learn_another_partys_case(secured: Secured) -> None:
    handle, party_id = await open_case(secured)
    assert await answer(handle, "withdraw", as_(PrincipalKind.PARTY, "other")) == "not_found"
    assert await answer(handle, "withdraw", as_(PrincipalKind.PARTY, party_id)) == "invalid_input"


async def test_unsigned_and_forged_headers_are_refused(secured: Secured) -> None:
    handle, _ = await open_case(secured)
    unsigned = secured.env.client.get_workflow_handle(handle.id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await unsigned.execute_update("correct_calendar", {}, result_type=UpdateResult)
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "unauthenticated"
    config = secured.env.client.config()
    config["interceptors"] = [PrincipalHeaders(b"not the deployment's key!")]
    forger = Client(**config).get_workflow_handle(handle.id)
    with signing_as(as_(PrincipalKind.PANEL)), pytest.raises(WorkflowUpdateFailedError) as forged:
        await forger.execute_update("set_security_status", {}, result_type=UpdateResult)
    assert isinstance(forged.value.cause, ApplicationError)
    assert forged.value.cause.type == "unauthenticated"
    assert "not validly signed" in forged.value.cause.message


async def test_signals_are_checked_by_the_local_activity(secured: Secured) -> None:
    handle, party_id = await open_case(secured)
    before = await secured.store.stream_version(handle.id)
    with signing_as(as_(PrincipalKind.PARTY, party_id)):
        await handle.signal("accept_user_id", {"user_id": "90b3d51f30010000", "message_id": "s1"})
    await secured.env.client.get_workflow_handle(handle.id).signal(
        "record_srept_completed", {"message_id": "s2"}
    )
    with signing_as(as_(PrincipalKind.DCC)):
        await handle.signal("record_srept_completed", {"message_id": "s3"})
    view: dict[str, Any] = {}
    for _ in range(2_000):  # each query is a round trip: no sleep
        view = await handle.query(STATE_QUERY, result_type=dict)
        rejected = {r["message_id"] for r in view["rejected_messages"]}
        if {"s1", "s2"} <= rejected and await secured.store.stream_version(handle.id) > before:
            break
    reasons = {r["message_id"]: r["error"] for r in view["rejected_messages"]}
    assert "may not send" in reasons["s1"]
    assert "no principal header" in reasons["s2"]
    assert "s3" not in reasons
    events = await secured.store.read_stream(handle.id)
    assert len(events) == before + 1
    assert events[-1].metadata["principal"]["kind"] == "dcc"
    await story.record_history(handle, "signed-senders")  # principals in headers, for replay


async def test_a_start_the_matrix_refuses_opens_nothing(secured: Secured) -> None:
    data = story.party(UserRole.GAS_SUPPLIER)
    case_id = workflow_id(str(data["party_id"]), "gas_supplier")
    with signing_as(as_(PrincipalKind.DCC)):
        handle = await secured.client.start_workflow(
            WORKFLOW_TYPE,
            {"party": data, "role": "gas_supplier"},
            id=case_id,
            task_queue=secured.task_queue,
        )
    with (
        pytest.raises(WorkflowFailureError) as failed,
        secured.env.auto_time_skipping_disabled(),
    ):
        await handle.result()
    assert "may not send" in str(failed.value.cause)
    assert await secured.store.stream_version(case_id) == 0


async def test_signed_messages_pay_no_identity_lookup(secured: Secured) -> None:
    """The Temporal identity is looked up only for headerless messages: a signed start, update
    and signal record none and schedule no ``identify_sender``."""
    handle, _ = await open_case(secured)
    with signing_as(as_(PrincipalKind.DCC)):
        await handle.execute_update(
            "record_srept_completed", {"message_id": "u1"}, result_type=UpdateResult
        )
        await handle.signal("accept_user_id", {"user_id": "90b3d51f30010000", "message_id": "s1"})
    for _ in range(2_000):  # each query is a round trip: no sleep
        view = await handle.query(STATE_QUERY, result_type=dict)
        if "s1" in {r["message_id"] for r in view["rejected_messages"]}:
            break
    events = await secured.store.read_stream(handle.id)
    commands = {str(e.metadata.get("command")) for e in events}
    assert {"start", "record_srept_completed"} <= commands
    assert all("temporal_identity" not in e.metadata for e in events)
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    # the activities are listed (the sender check, the appends, the read of the Party record's
    # position), the lookup is not among them
    assert {"check_sender", "append_events", "read_party_position"} <= set(scheduled)
    assert "identify_sender" not in scheduled
