"""The workflow runner of every worker and replayer: the SDK's sandbox, minus a per-payload cost
our data converter never needs.

Around every workflow activation the SDK's worker passes each payload sequence through the data
converter's codec and external storage: decoding an activation, encoding its completion, about
six passes in all. Before each pass it asks the workflow instance for a serialization context,
and the sandboxed instance answers by ``exec``-ing a small program inside the sandbox (importer
patched in and out around it). With no payload codec and no external storage those passes change
nothing, and the context they ask for is never read; yet a profile of ``bench/cases.py`` spent
about a fifth of the worker's CPU there (20,000 calls for 24 cases).

:class:`ContextFreeSandboxRunner` is the SDK's :class:`SandboxedWorkflowRunner` whose instances
answer those two questions outside the sandbox: no serialization context, the default store
context. That is exactly what a codec-free, storage-free converter does with any answer.
Everything the workflow code runs (activations, the determinism guard, payload conversion inside
the workflow, which keeps its own contexts) is the SDK's, unchanged: histories are the same
command for command. :func:`workflow_runner` gives the plain sandbox for a converter that has a
codec or external storage, where the context matters.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import DataConverter, SerializationContext, StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.workflow import Info

from uep.converter import DATA_CONVERTER


def context_free(converter: DataConverter) -> bool:
    """Whether the worker's codec and external-storage passes leave every payload as it is
    (no payload codec, no external storage), so their serialization context is never read."""
    return converter.payload_codec is None and converter.external_storage is None


class _ContextFreeInstance(WorkflowInstance):
    """A sandboxed workflow instance that answers the codec's context questions itself."""

    def __init__(self, sandboxed: WorkflowInstance) -> None:
        self._sandboxed = sandboxed

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self._sandboxed.activate(act)

    def get_serialization_context(self, command_info: object) -> SerializationContext | None:
        return None

    def get_external_store_context(self, command_info: object) -> StorageDriverStoreContext:
        return StorageDriverStoreContext(target=None)

    def get_info(self) -> Info:
        return self._sandboxed.get_info()

    def get_thread_id(self) -> int | None:
        return self._sandboxed.get_thread_id()


@dataclass(frozen=True)
class ContextFreeSandboxRunner(SandboxedWorkflowRunner):
    """The SDK's sandbox for a data converter with no codec and no external storage."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        """The sandboxed instance, asked for no serialization context."""
        return _ContextFreeInstance(super().create_instance(det))


def workflow_runner(converter: DataConverter = DATA_CONVERTER) -> WorkflowRunner:
    """The runner for workers and replayers using ``converter``: the context-free sandbox when
    the converter's passes cannot use a context, else the SDK's plain sandbox."""
    if context_free(converter):
        return ContextFreeSandboxRunner()
    return SandboxedWorkflowRunner()
