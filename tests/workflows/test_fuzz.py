"""Fuzzing through Temporal: invalid payloads for every update, signal and the start input.

Payloads come from the message models (``tests/workflows/fuzz.py``) and go through the
time-skipping server as plain JSON, the way the Web UI sends them. Every one must be refused
with a message naming what is wrong, record nothing in the event store, and leave the case open,
answering ``state`` and accepting the next valid message. The counts are printed at the end of
the run.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from domain.commands import MESSAGES, StartCase
from domain.roles import UserRole
from tests.summary import report
from tests.workflows import fuzz, story
from tests.workflows.conftest import Harness
from workflows.errors import REFUSAL_MAX, REFUSAL_TYPES
from workflows.messages import format_validation_error
from workflows.names import WORKFLOW_TYPE, workflow_id

UPDATES = sorted(MESSAGES)
SIGNALS = sorted(n for n, m in MESSAGES.items() if m.signal)
UPDATE_EXAMPLES = 900
SIGNAL_EXAMPLES = 150
START_EXAMPLES = 40


def collect(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` examples drawn by hypothesis (generation only; the sending is async)."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(example: Any) -> None:
        drawn.append(example)

    draw()
    return drawn


def expected_refusal(name: str, payload: Any) -> str:
    """What the model says of the payload, as the workflow words a refusal."""
    model = MESSAGES[name].model
    try:
        model.model_validate({} if payload is None else payload)
    except ValidationError as err:
        return f"{name}: " + format_validation_error(err)
    raise AssertionError(f"{name}: {payload!r} is valid")


async def test_invalid_updates_are_refused_naming_the_field_and_record_nothing(
    harness: Harness,
) -> None:
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, await story.today(harness))
    await story.opened(handle)
    stored = len(await harness.store.read_stream(handle.id))  # CaseStarted, the Party's range
    examples = [
        (name, payload)
        for name, payload, _ in collect(fuzz.invalid_message(UPDATES), UPDATE_EXAMPLES)
        if fuzz.is_invalid(MESSAGES[name].model, payload)
    ]
    refused = 0
    for name, payload in examples:
        try:
            await handle.execute_update(name, payload)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError), (name, payload, cause)
            assert cause.type in REFUSAL_TYPES, (name, payload, cause.type)
            assert cause.message == expected_refusal(name, payload)[: len(cause.message)]
            assert len(cause.message) <= REFUSAL_MAX
            refused += 1
            continue
        raise AssertionError(f"{name} accepted {payload!r}")
    # arity and undecodable payloads, for every update
    for name in UPDATES:
        arities: list[list[Any]] = [[], [{}, {}], [undecodable()]]
        for args in arities:
            try:
                await handle.execute_update(name, args=args)
            except WorkflowUpdateFailedError as err:
                assert isinstance(err.cause, ApplicationError)
                assert err.cause.message.startswith(f"{name}: ")
                refused += 1
                continue
            raise AssertionError(f"{name} accepted {len(args)} arguments")
    tried = len(examples) + 3 * len(UPDATES)
    assert refused == tried
    assert len(await harness.store.read_stream(handle.id)) == stored
    assert (await story.view(handle))["status"] == "open"
    assert (await story.send(handle, "propose_user_id", user_id="90b3d51f300100b1")).events
    report(f"fuzz: {tried} invalid updates tried, {refused} refused, 0 recorded")


def undecodable() -> RawValue:
    """A payload that claims to be JSON and is not."""
    return RawValue(Payload(metadata={"encoding": b"json/plain"}, data=b"\xff{"))


async def test_invalid_signals_are_listed_and_record_nothing(harness: Harness) -> None:
    handle = await story.start(harness, UserRole.GAS_SUPPLIER, await story.today(harness))
    await story.opened(handle)
    stored = len(await harness.store.read_stream(handle.id))  # CaseStarted, the Party's range
    examples = [
        (name, payload)
        for name, payload, _ in collect(fuzz.invalid_message(SIGNALS), SIGNAL_EXAMPLES)
        if fuzz.is_invalid(MESSAGES[name].model, payload)
    ]
    for name, payload in examples:
        await handle.signal(name, payload)
    odd: list[tuple[str, list[Any]]] = [
        ("accept_user_id", []),
        ("set_security_status", [undecodable()]),
        ("nope", [{}]),
    ]
    for name, args in odd:
        await handle.signal(name, args=args)
    await story.send(handle, "record_srept_completed")  # orders the query after the signals
    view = await story.view(handle)
    tried = len(examples) + len(odd)
    assert len(view["rejected_messages"]) == min(tried, 50)
    assert all(len(r["error"]) <= 500 for r in view["rejected_messages"])
    assert len(await harness.store.read_stream(handle.id)) == stored + 1  # SreptCompleted
    report(f"fuzz: {tried} invalid signals tried, {tried} refused and listed, 0 recorded")


async def test_invalid_start_inputs_fail_the_start_at_once_and_record_nothing(
    harness: Harness,
) -> None:
    valid = {"party": story.party(UserRole.GAS_SUPPLIER), "role": "gas_supplier"}
    StartCase.model_validate(valid)
    examples = [
        payload
        for payload, _ in collect(fuzz.invalid_start(valid), START_EXAMPLES)
        if fuzz.start_is_invalid(payload)
    ]
    for n, payload in enumerate(examples):
        handle: WorkflowHandle[Any, Any] = await harness.client.start_workflow(
            WORKFLOW_TYPE,
            payload,
            id=workflow_id(f"fuzz{n}", "gas_supplier"),
            task_queue=harness.task_queue,
        )
        try:
            await story.result(harness, handle)
        except WorkflowFailureError as err:
            assert isinstance(err.cause, ApplicationError), err.cause
            assert err.cause.type == "invalid_input"
            assert err.cause.message.startswith(("start input: ", "workflow id must be"))
            assert await harness.store.read_stream(handle.id) == []
            continue
        raise AssertionError(f"a start with {payload!r} did not fail")
    report(f"fuzz: {len(examples)} invalid start inputs tried, {len(examples)} refused at once")
