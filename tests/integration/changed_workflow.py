"""The workflow with one more activity before its completion notices: a change replay must catch.

Recorded cases went from the last verification straight to queueing the Party's notice; this code
reads the stream version first, so its commands diverge at the first notice of a completed case.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.io import CaseResult
    from workflows.user_entry import UserEntryProcess


@workflow.defn(name="UserEntryProcess")
class CheckFirstUserEntryProcess(UserEntryProcess):
    """Reads the stream version before the completion notices."""

    async def _notify_through_the_outbox(self) -> None:
        await workflow.execute_activity(
            "stream_version", self.case.case_id, start_to_close_timeout=timedelta(seconds=5)
        )
        await super()._notify_through_the_outbox()

    @workflow.run
    async def run(self, *args: Any) -> CaseResult:
        """Same process; only the end differs."""
        return await super().run(*args)
