"""A workflow that breaks the rules (reads the wall clock), for the sandbox runner's test."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow


@workflow.defn(name="ReadsTheWallClock", failure_exception_types=[Exception])
class ReadsTheWallClock:
    """Reads ``datetime.now()`` in workflow code: the sandbox must refuse it."""

    @workflow.run
    async def run(self) -> str:
        """The wall clock's time, if the sandbox let it through."""
        return datetime.now().isoformat()
