"""Short steps a workflow waits on: local activities in new runs, regular ones in old histories.

A regular activity costs a task-queue round trip and a second workflow task (three history
events and a wait in the matching service), which for a 5 ms append was most of an update's
time. A local activity runs in the worker that runs the workflow task, within that task, and
history records its answer in one marker; it is retried like a regular one. It suits steps that
are short, idempotent and do not wait on another workflow's task: the append (idempotent by the
event ids the workflow chose), reading a stream's end, building a calendar snapshot, signalling
the Party record, queueing a notice in the outbox. Reading another workflow by a query stays a
regular activity: two workflows each holding their task open while querying the other would
wait on each other.

Behind one patch per run (``workflow.patched`` is remembered for the run), so histories recorded
with regular activities replay as they ran, and a run keeps one kind of step throughout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case import AppendRequest, CaseActivities
    from eventstore.models import AppendResult

LOCAL_STEPS_PATCH = "local-steps-2026-12"
"""Short steps run as local activities; older histories ran them as regular activities."""

A = TypeVar("A")
R = TypeVar("R")


async def run_step(
    method: Callable[[Any, A], Awaitable[R]],
    arg: A,
    *,
    limit: timedelta,
    summary: str,
) -> R:
    """Run one short step (an activity method) and return its answer."""
    if workflow.patched(LOCAL_STEPS_PATCH):
        local: R = await workflow.execute_local_activity_method(
            method, arg, start_to_close_timeout=limit, summary=summary
        )
        return local
    regular: R = await workflow.execute_activity_method(
        method, arg, start_to_close_timeout=limit, summary=summary
    )
    return regular


async def append(request: AppendRequest, *, limit: timedelta, summary: str) -> AppendResult:
    """Append decided events: ``record_events`` as a local activity (its marker holds the
    request and the result, which the audit reads), or ``append_events`` in older histories.
    The echoed request must be the one decided: anything else fails the workflow task."""
    if not workflow.patched(LOCAL_STEPS_PATCH):
        regular: AppendResult = await workflow.execute_activity_method(
            CaseActivities.append_events, request, start_to_close_timeout=limit, summary=summary
        )
        return regular
    recorded = await workflow.execute_local_activity_method(
        CaseActivities.record_events, request, start_to_close_timeout=limit, summary=summary
    )
    if recorded.request.model_dump(mode="json") != request.model_dump(mode="json"):
        raise RecordedAppendMismatch(
            f"{request.stream_id}: the append recorded in history is not the one decided"
        )
    return recorded.result


class RecordedAppendMismatch(RuntimeError):
    """History's append differs from the workflow's decision: a bug or a tampered history.
    Not an ApplicationError, so it fails the workflow task (retried, shown) and never the case."""
