"""The workflow with its opening activities swapped: an incompatible change to replay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.io import CaseResult, WorkflowInput
    from workflows.senders import LEGACY, Origin
    from workflows.user_entry import UserEntryProcess


@workflow.defn(name="UserEntryProcess")
class ReorderedUserEntryProcess(UserEntryProcess):
    """Reads the stream version before doing anything else: not what recorded cases did."""

    async def _open_case(self, params: WorkflowInput, origin: Origin = LEGACY) -> None:
        await workflow.execute_activity(
            "stream_version",
            workflow.info().workflow_id,
            start_to_close_timeout=timedelta(seconds=5),
        )
        await super()._open_case(params, origin)

    @workflow.run
    async def run(self, *args: Any) -> CaseResult:
        """Same process; only the opening differs."""
        return await super().run(*args)
