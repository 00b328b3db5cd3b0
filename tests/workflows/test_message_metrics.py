"""uep_messages_total: each message counted once by name and outcome, and never by a replay."""

from __future__ import annotations

import uuid

from prometheus_client import REGISTRY
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.roles import UserRole
from eventstore.memory import InMemoryEventStore
from tests.workflows import story
from tests.workflows.conftest import Harness
from uep.converter import DATA_CONVERTER
from uep.metrics import MESSAGES, MessageMetrics, prepare_process
from worker import WORKFLOWS, build_worker

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
    assert delta(before) == {
        ("propose_user_id", "accepted"): 1,
        ("propose_user_id", "refused"): 1,
        ("start_uept", "refused"): 1,
        ("accept_user_id", "received"): 1,
        ("record_srept_completed", "accepted"): 1,
        # the Party record's messages count too: SECAS's range, the case's poke, the answer
        ("allocate_user_id_range", "accepted"): 1,
        ("role_case", "received"): 1,
        ("party_changed", "received"): 1,
    }

    # Replaying the whole history (as a worker does after a restart or a cache eviction)
    # runs the handlers again: the counts must not move.
    replayed = counted()
    replayer = Replayer(
        workflows=list(WORKFLOWS), data_converter=DATA_CONVERTER, interceptors=[MessageMetrics()]
    )
    await replayer.replay_workflow(await handle.fetch_history())
    assert delta(replayed) == {}
