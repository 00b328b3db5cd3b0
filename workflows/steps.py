"""Short steps a workflow waits on: regular activities, or local ones in a few histories.

A local activity runs in the worker within the workflow task, and history records its answer
in one marker: for a 5 ms append it saves a task-queue round trip, a second workflow task and
three history events (docs/performance.md measured 0.33 -> 0.43 of a bare workflow's cases/s).
Runs that recorded ``local-steps-2026-12`` took the append (as ``record_events``, whose marker
holds the request beside the result), the stream's end, the calendar, the Party record's
signal and the notices' outbox as local activities. ``regular-steps-2026-12`` took new runs
back to regular activities: with local ones, a flood of signals reaching a case while its task
ran local activities produced histories that failed to replay (the time-skipping server's
memo-limit test, 3 runs in 4; a dev-server flood, 5 cases in 8). The local path stays for the
histories recorded in between (tests/histories/*.g6.json), which must keep replaying.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case import AppendRequest, CaseActivities
    from eventstore.models import AppendResult
    from workflows.patches import patched

LOCAL_STEPS_PATCH = "local-steps-2026-12"
"""Short steps run as local activities; older histories ran them as regular activities."""
REGULAR_STEPS_PATCH = "regular-steps-2026-12"
"""New runs take regular activities again: with local ones, a flood of signals reaching a case
while its task ran local activities made histories that did not replay (docs/performance.md).
Only the histories recorded between the two patches (tests/histories/*.g6.json) run local."""

STORE_READS_PATCH = "store-reads-2026-12"
"""A role case and its Party record read each other from the event store (the other's stream,
folded by an activity) instead of by a query, which waited for the other workflow's task."""

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
    if _local():
        local: R = await workflow.execute_local_activity_method(
            method, arg, start_to_close_timeout=limit, summary=summary
        )
        return local
    regular: R = await workflow.execute_activity_method(
        method, arg, start_to_close_timeout=limit, summary=summary
    )
    return regular


async def append(request: AppendRequest, *, limit: timedelta, summary: str) -> AppendResult:
    """Append decided events: the regular activity ``append_events`` (new runs, and histories
    before ``local-steps-2026-12``), or in the generation-6 histories the local activity
    ``record_events``, whose marker holds the request and the result (the audit reads it); its
    echoed request must be the one decided, anything else fails the workflow task."""
    if not _local():
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


def _local() -> bool:
    """Whether this run takes its short steps as local activities: only runs that recorded
    ``local-steps-2026-12`` and not ``regular-steps-2026-12`` (the first answer is remembered
    for the run, so a run never mixes the two)."""
    if patched(REGULAR_STEPS_PATCH):
        return False
    return patched(LOCAL_STEPS_PATCH)
