"""Activities through which one workflow reaches another: signal-with-start and queries.

A role case opens (or finds) its Party record and pokes it when the case moves on; each side
then *reads* what it needs from the other by a query, so what a workflow records comes from
the other workflow itself, never from the content of a signal anyone could send. Names are
passed in by the workflow (the activity layer does not know the workflows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import structlog
from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError, RPCStatusCode

from eventstore.models import EventStorePort

log = structlog.get_logger(__name__)


class SignalWithStartRequest(BaseModel):
    """Start the workflow if it is not running, and signal it either way."""

    workflow_id: str
    workflow_type: str
    task_queue: str
    start_input: dict[str, Any]
    signal: str
    signal_payload: dict[str, Any]
    static_summary: str | None = None


class QueryRequest(BaseModel):
    """Ask a workflow a query; ``argument`` is its one JSON argument, if it takes one."""

    workflow_id: str
    query: str
    argument: dict[str, Any] | None = None


class StoredFact(BaseModel):
    """One stored event, as a workflow reopening its stream needs it."""

    version: int
    type: str
    data: dict[str, Any]
    message_id: str | None = None


class StreamFacts(BaseModel):
    """A stream's events, to fold a record back into state."""

    events: list[StoredFact] = Field(default_factory=list)


class CoordinationActivities:
    """Signal-with-start, queries and stream reads for workflows that coordinate."""

    def __init__(self, client: Client, store: EventStorePort) -> None:
        self._client = client
        self._store = store

    @activity.defn(name="signal_with_start")
    async def signal_with_start(self, request: SignalWithStartRequest) -> None:
        """Start the workflow if needed and deliver the signal (a repeat is harmless: the
        receiver reads the facts itself and records nothing new)."""
        await self._client.start_workflow(
            request.workflow_type,
            request.start_input,
            id=request.workflow_id,
            task_queue=request.task_queue,
            start_signal=request.signal,
            start_signal_args=[request.signal_payload],
            static_summary=request.static_summary,
        )
        log.info("signalled", workflow_id=request.workflow_id, signal=request.signal)

    @activity.defn(name="query_workflow")
    async def query_workflow(self, request: QueryRequest) -> dict[str, Any] | None:
        """The query's answer, or None when the workflow is not there or cannot answer yet
        (the caller is poked again when there is news)."""
        handle = self._client.get_workflow_handle(request.workflow_id)
        args = [] if request.argument is None else [request.argument]
        try:
            answer = await handle.query(request.query, *args, result_type=dict)
        except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as err:
            log.warning("query not answered", workflow_id=request.workflow_id, error=str(err))
            return None
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                return None
            raise
        return answer if isinstance(answer, dict) else None

    @activity.defn(name="read_stream_facts")
    async def read_stream_facts(self, stream_id: str) -> StreamFacts:
        """Every event of a stream with the message id it answered (to reopen a record)."""
        events = await self._store.read_stream(stream_id)
        return StreamFacts(
            events=[
                StoredFact(
                    version=e.version,
                    type=e.type,
                    data=e.data,
                    message_id=e.metadata.get("causation_id"),
                )
                for e in events
            ]
        )

    def all(self) -> Sequence[Callable[..., Any]]:
        """Every activity, for the worker."""
        return [self.signal_with_start, self.query_workflow, self.read_stream_facts]
