"""The baseline for bench/cases.py: a bare Temporal workflow doing a case's updates, no engine.

Each update runs one regular activity that inserts one row into the same PostgreSQL, and the
workflow completes after the number of updates it was started with. It runs in the same worker
process as the engine, with the same client, data converter and sandbox, so the difference
between the two is the engine's own path: the domain, the event store, the projections' input.
In a module of its own because the sandbox cannot load a workflow defined in ``__main__``;
the activity lives in bench/cases.py, outside the sandbox (it uses asyncpg).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

BARE_WORKFLOW = "BenchBareCase"
STEP_UPDATE = "step"
INSERT_ACTIVITY = "bench_insert_row"


@workflow.defn(name=BARE_WORKFLOW)
class BareCase:
    """Takes ``updates`` updates, each recorded by one activity, then completes."""

    def __init__(self) -> None:
        self._done = 0

    @workflow.run
    async def run(self, updates: int) -> int:
        """Wait for every update, then complete."""
        await workflow.wait_condition(
            lambda: self._done >= updates and workflow.all_handlers_finished()
        )
        return self._done

    @workflow.update(name=STEP_UPDATE)
    async def step(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record the update's body through the activity and answer with its row id."""
        row: int = await workflow.execute_activity(
            INSERT_ACTIVITY,
            {"case_id": workflow.info().workflow_id, "step": self._done, "body": body},
            start_to_close_timeout=timedelta(seconds=30),
            result_type=int,
        )
        self._done += 1
        return {"row": row, "step": self._done}

    @step.validator
    def _check(self, body: dict[str, Any]) -> None:
        if not isinstance(body, dict):
            raise ValueError("the body must be an object")
