"""The engine's process-level metrics: Temporal's SDK exporter and the messages the workflows
receive, counted by a worker interceptor (docs/operations.md lists every metric).

Workflow code stays free of I/O and of anything replay would repeat: the interceptor counts an
update refused by its validator (validators never run on replay) and the outcome of a handler or
a signal only when the workflow is not replaying.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import stamina.instrumentation
from prometheus_client import REGISTRY, Counter, Info, disable_created_metrics
from prometheus_client.registry import Collector
from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

MESSAGES = Counter(
    "uep_messages_total",
    "Messages the case workflows received, by message name and outcome: accepted or refused "
    "(updates: by the validator, or by the handler deciding again), received (signals, whose "
    "refusals are listed in the case's rejected messages).",
    ["message", "outcome"],
    registry=None,
)
BUILD = Info("uep_build", "The engine's version.", registry=None)

WORKER_COLLECTORS: tuple[Collector, ...] = (MESSAGES,)


def prepare_process(*collectors: Collector) -> None:
    """Expose ``uep_build_info`` and ``collectors`` (this service's metrics) on the default
    registry, beside prometheus-client's process metrics; idempotent."""
    disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` doubles every counter
    quiet_retries()
    try:
        installed = version("uep")
    except PackageNotFoundError:
        installed = "unknown"
    BUILD.info({"version": installed})
    for collector in (BUILD, *collectors):
        if collector not in _registered:
            REGISTRY.register(collector)
            _registered.add(collector)


_registered: set[Collector] = set()


def sdk_runtime(host: str, port: int) -> Runtime:
    """A Temporal runtime whose metrics Prometheus scrapes at ``http://host:port/metrics``,
    named as Prometheus expects: ``_total`` on counters, durations in seconds with their unit."""
    prometheus = PrometheusConfig(
        bind_address=f"{host}:{port}",
        counters_total_suffix=True,
        unit_suffix=True,
        durations_as_seconds=True,
    )
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))


def quiet_retries() -> None:
    """No per-attempt log line or counter from stamina: the services log changes of state, and
    its counter's ``retry_num`` label would grow without bound during a long outage."""
    stamina.instrumentation.set_on_retry_hooks([])


class MessageMetrics(Interceptor):
    """Worker interceptor counting the messages each case receives, by name and outcome."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        """Count in every workflow the worker runs."""
        return _CountMessages


class _CountMessages(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        try:
            super().handle_update_validator(input)
        except Exception:
            MESSAGES.labels(input.update, "refused").inc()
            raise

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        try:
            result = await super().handle_update_handler(input)
        except FailureError:
            _count(input.update, "refused")
            raise
        _count(input.update, "accepted")
        return result

    async def handle_signal(self, input: HandleSignalInput) -> None:
        _count(input.signal, "received")
        await super().handle_signal(input)


def _count(message: str, outcome: str) -> None:
    """Count once per delivery: a replayed handler already counted when it first ran."""
    if not workflow.unsafe.is_replaying():
        MESSAGES.labels(message, outcome).inc()
