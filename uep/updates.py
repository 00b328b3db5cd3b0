"""Sending an update to a workflow across its hand-overs (continue-as-new).

One path for the HTTP API and the `uep` tools: a run that hands over to its successor just as an
update reaches it closes without taking it, and Temporal answers "not found" ("workflow
execution already completed"). The update was not taken, so it is sent again, once, to the
workflow's current run when that run is running; its id, when given, keeps a retry single.
"""

from __future__ import annotations

from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode


async def execute_update(
    client: Client,
    handle: WorkflowHandle[Any, Any],
    name: str,
    payload: dict[str, Any],
    update_id: str | None,
) -> Any:
    """The update's answer (``WorkflowUpdateFailedError`` when refused); asked once more at the
    workflow's current run when the run it reached closed under it and the workflow runs on."""
    try:
        return await handle.execute_update(name, payload, id=update_id, result_type=dict)
    except RPCError as err:
        if not _handed_over(err):
            raise
        if not await _running(client, handle.id):
            raise
        current = client.get_workflow_handle(handle.id)
        return await current.execute_update(name, payload, id=update_id, result_type=dict)


async def _running(client: Client, workflow_id: str) -> bool:
    """Whether the workflow's current run is running (its status only: the raw description,
    so no search attribute needs decoding)."""
    described = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    status = described.workflow_execution_info.status
    return status == WorkflowExecutionStatus.RUNNING.value


def _handed_over(err: RPCError) -> bool:
    """Whether Temporal's answer could mean the run closed under the update (for good, or by
    handing over): "workflow execution already completed", or on some servers "update ... not
    found". Whether the workflow still runs decides the rest."""
    return err.status == RPCStatusCode.NOT_FOUND
