"""The workers' runner: the SDK's sandbox, asked for no serialization context (uep/sandbox.py)."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.converter import DataConverter, PayloadCodec, WorkflowSerializationContext
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tests.workflows.conftest import Harness
from tests.workflows.wall_clock import ReadsTheWallClock
from uep.converter import DATA_CONVERTER
from uep.sandbox import ContextFreeSandboxRunner, context_free, workflow_runner


class _Identity(PayloadCodec):
    async def encode(self, payloads):  # type: ignore[no-untyped-def]
        return list(payloads)

    async def decode(self, payloads):  # type: ignore[no-untyped-def]
        return list(payloads)


def test_the_projects_converter_needs_no_context() -> None:
    assert context_free(DATA_CONVERTER)
    assert isinstance(workflow_runner(), ContextFreeSandboxRunner)


def test_a_converter_with_a_codec_keeps_the_plain_sandbox() -> None:
    with_codec = DataConverter(
        payload_converter_class=DATA_CONVERTER.payload_converter_class, payload_codec=_Identity()
    )
    assert not context_free(with_codec)
    runner = workflow_runner(with_codec)
    assert type(runner) is SandboxedWorkflowRunner


async def test_workers_use_it(harness: Harness) -> None:
    assert isinstance(harness.worker.config().get("workflow_runner"), ContextFreeSandboxRunner)


async def test_the_sandbox_still_guards_determinism(env: WorkflowEnvironment) -> None:
    queue = f"sandbox-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ReadsTheWallClock],
        workflow_runner=workflow_runner(),
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            await env.client.execute_workflow(
                ReadsTheWallClock.run, id=f"clock-{uuid.uuid4()}", task_queue=queue
            )
    assert "RestrictedWorkflowAccessError" in str(failed.value.cause)


def test_a_context_changes_nothing_in_the_projects_converter() -> None:
    context = WorkflowSerializationContext(namespace="default", workflow_id="w")
    # the codec passes would hand back the payloads untouched whatever the context
    assert DATA_CONVERTER.with_context(context) is DATA_CONVERTER
