"""Activities through which a workflow reaches Temporal: signal-with-start, queries, and
reading who sent a message from its own history.

A role case opens (or finds) its Party record and pokes it when the case moves on; each side
then *reads* what it needs from the other, so what a workflow records comes from the other
workflow's own record, never from the content of a signal anyone could send. Since
``store-reads-2026-12`` each side folds the other's event stream (:meth:`read_case_facts`,
:meth:`read_party_position`): the store holds everything the other workflow decided before it
poked, and reading it does not wait for the other workflow's task as a query does. Older
histories read by query (:meth:`query_workflow`). Names are passed in by the workflow (the
activity layer does not know the workflows).

A message with no principal header (the Temporal Web UI) is recorded with the Temporal identity
of the client that sent it. Only Temporal's history holds that identity, and workflow code
cannot read it: :meth:`CoordinationActivities.identify_sender` reads it there, and history
records the answer, so a replay reuses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Literal, TypeVar

import structlog
from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError, RPCStatusCode

from domain.history import fold_stored
from domain.party.state import fold_party_stored, position_for
from domain.principals import HEADER
from domain.roles import UserRole
from domain.state import facts_for_party_record
from eventstore.models import EventStorePort, RecordedEvent

log = structlog.get_logger(__name__)
S = TypeVar("S")


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


class PositionRequest(BaseModel):
    """A role's credit and security position, judged on a day, from a Party record's stream."""

    stream_id: str = Field(max_length=300)
    role: UserRole
    on: date


class StoredFact(BaseModel):
    """One stored event, as a workflow reopening its stream needs it."""

    version: int
    type: str
    data: dict[str, Any]
    message_id: str | None = None


class StreamFacts(BaseModel):
    """A stream's events, to fold a record back into state."""

    events: list[StoredFact] = Field(default_factory=list)


IDENTITY_MAX = 200
"""Characters of a Temporal identity kept in an event's metadata (the client chooses it)."""
_STARTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
_SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
_UPDATE_ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED


class SenderIdentityRequest(BaseModel):
    """Which message of which run to find in history: the start, an update by its id, or a
    signal by its name and message id, delivered at or before history event ``up_to``."""

    workflow_id: str = Field(max_length=300)
    run_id: str = Field(max_length=100)
    kind: Literal["start", "signal", "update"]
    update_id: str | None = Field(default=None, max_length=300)
    signal: str | None = Field(default=None, max_length=200)
    message_id: str | None = Field(default=None, max_length=300)
    up_to: int | None = None


def bounded_identity(identity: str) -> str | None:
    """The identity as recorded: printable, at most :data:`IDENTITY_MAX` characters."""
    kept = "".join(ch for ch in identity if ch.isprintable()).strip()
    return kept[:IDENTITY_MAX] or None


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

    @activity.defn(name="read_case_facts")
    async def read_case_facts(self, stream_id: str) -> dict[str, Any] | None:
        """What a Party record records of a role case (role, status, User IDs), folded from the
        case's stream; None when the stream holds no case (refused at its start, or no such
        case): the record refuses the poke then, as it did an unanswered query. A stream that
        does not fold is refused too (logged), not retried for ever."""
        folded = await self._folded(stream_id, fold_stored)
        return None if folded is None else facts_for_party_record(folded[0])

    @activity.defn(name="read_party_position")
    async def read_party_position(self, request: PositionRequest) -> dict[str, Any] | None:
        """A role's position as its Party record's stream stands (the record's ``position``
        query, from the store); None while the record has recorded nothing, or when its stream
        does not fold (logged; the case records nothing and is poked again on news)."""
        folded = await self._folded(request.stream_id, fold_party_stored)
        if folded is None:
            return None
        state, last = folded
        position = position_for(state, request.role, request.on, last.version, last.type)
        return position.model_dump(mode="json")

    async def _folded(
        self, stream_id: str, fold: Callable[[list[RecordedEvent]], S | None]
    ) -> tuple[S, RecordedEvent] | None:
        """The stream folded, with its last event; None for no record in it, or a stream that
        does not fold (logged: a retry would fail the same way for ever)."""
        events = await self._store.read_stream(stream_id)
        try:
            state = fold(events)
        except ValueError as err:  # pydantic's ValidationError too
            log.error("stream does not fold", stream_id=stream_id, error=str(err)[:500])
            return None
        return None if state is None else (state, events[-1])

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

    @activity.defn(name="identify_sender")
    async def identify_sender(self, request: SenderIdentityRequest) -> str | None:
        """The Temporal identity that sent a message with no principal header, read from the
        run's history; None when history names none (or holds no such message)."""
        handle = self._client.get_workflow_handle(request.workflow_id, run_id=request.run_id)
        found: str | None = None
        async for event in handle.fetch_history_events():
            if request.up_to is not None and event.event_id > request.up_to:
                break
            if request.kind == "start" and event.event_type == _STARTED:
                found = event.workflow_execution_started_event_attributes.identity
                break
            if request.kind == "update" and event.event_type == _UPDATE_ACCEPTED:
                accepted = event.workflow_execution_update_accepted_event_attributes
                meta = accepted.accepted_request.meta
                if request.update_id in (meta.update_id, accepted.protocol_instance_id):
                    found = meta.identity
                    break
            if request.kind == "signal" and await self._is_the_signal(event, request):
                # the last match up to the handler's task: a message id repeated after a
                # refusal names the sender of the repeat
                found = event.workflow_execution_signaled_event_attributes.identity
        identity = None if found is None else bounded_identity(found)
        log.info(
            "sender identified",
            workflow_id=request.workflow_id,
            kind=request.kind,
            found=identity is not None,
        )
        return identity

    async def _is_the_signal(self, event: HistoryEvent, request: SenderIdentityRequest) -> bool:
        """Whether ``event`` is the headerless signal of this name carrying this message id."""
        if event.event_type != _SIGNALED:
            return False
        signaled = event.workflow_execution_signaled_event_attributes
        if signaled.signal_name != request.signal or HEADER in signaled.header.fields:
            return False
        payloads = list(signaled.input.payloads)
        if len(payloads) != 1:
            return False
        try:
            (body,) = await self._client.data_converter.decode(payloads)
        except Exception:  # a payload the workflow refused too: not the message sought
            return False
        return isinstance(body, dict) and body.get("message_id") == request.message_id

    def all(self) -> Sequence[Callable[..., Any]]:
        """Every activity, for the worker."""
        return [
            self.signal_with_start,
            self.query_workflow,
            self.read_case_facts,
            self.read_party_position,
            self.read_stream_facts,
            self.identify_sender,
        ]
