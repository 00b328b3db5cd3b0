"""uep_messages_total: each message counted once by name and outcome, and never by a replay."""

from __future__ import annotations

import uuid
from typing import Any

from prometheus_client import REGISTRY
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.roles import UserRole
from eventstore.memory import InMemoryEventStore
from tests.workflows import story
from tests.workflows.conftest import Harness
from uep.converter import DATA_CONVERTER
from uep.metrics import MESSAGES, MessageMetrics, prepare_process
from worker import WORKFLOWS, build_worker
from workflows.senders import replay_interceptors

UID = "90-B3-D5-1F-30-01-00-00"


def counted() -> dict[tuple[str, str], float]:
    """Every (message, outcome) sample of the counter as the default registry serves it."""
    prepare_process(MESSAGES)
    return {
        (s.labels["message"], s.labels["outcome"]): s.value
        for metric in REGISTRY.collect()
        if metric.name == "uep_messages"
        for s in metric.samples
        if s.name == "uep_messages_total"
    }


def delta(before: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    """What moved since ``before``."""
    after = counted()
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


async def signals_named(handle: WorkflowHandle[Any, Any], name: str) -> int:
    """How many signals of ``name`` the run's history holds."""
    received = [
        e
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and e.workflow_execution_signaled_event_attributes.signal_name == name
    ]
    return len(received)


async def test_each_message_is_counted_once_by_name_and_outcome(env: WorkflowEnvironment) -> None:
    store = InMemoryEventStore()
    queue = f"uep-test-{uuid.uuid4()}"
    before = counted()
    worker = build_worker(env.client, store, queue, interceptors=[MessageMetrics()])
    async with worker:
        h = Harness(env, env.client, store, queue, worker)
        on = await story.today(h)
        handle = await story.start(h, UserRole.GAS_SUPPLIER, on)
        await story.opened(handle)
        await story.send(handle, "propose_user_id", user_id=UID, effective_on=on)
        await story.refused(handle, "propose_user_id", {"user_id": "not-an-eui-64"})  # validator
        await story.refused(handle, "start_uept", {"effective_on": on})  # out of turn
        await story.signal(handle, "accept_user_id", user_id=UID, message_id="dcc-1")
        await story.send(handle, "record_srept_completed", effective_on=on)
    moved = delta(before)
    # the engine's own pokes: the case tells its Party record it moved on, the record tells
    # the case its position changed - as often as their news fall into one look or several,
    # so each is counted at least once and never more often than history holds it
    pokes = {name: moved.pop((name, "received"), 0.0) for name in ("role_case", "party_changed")}
    record = story.record_of(h, story.party_id_of(handle))
    assert 1 <= pokes["role_case"] <= await signals_named(record, "role_case")
    assert 1 <= pokes["party_changed"] <= await signals_named(handle, "party_changed")
    assert moved == {
        ("propose_user_id", "accepted"): 1,
        ("propose_user_id", "refused"): 1,
        ("start_uept", "refused"): 1,
        ("accept_user_id", "received"): 1,
        ("record_srept_completed", "accepted"): 1,
        # the Party record's messages count too: SECAS's range
        ("allocate_user_id_range", "accepted"): 1,
    }

    # Replaying the whole history (as a worker does after a restart or a cache eviction)
    # runs the handlers again: the counts must not move.
    replayed = counted()
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        data_converter=DATA_CONVERTER,
        interceptors=[*replay_interceptors(), MessageMetrics()],
    )
    await replayer.replay_workflow(await handle.fetch_history())
    assert delta(replayed) == {}
