"""What a Temporal history says about a case: its runs, the events each run appended, its end.

A run's history holds, as payloads, everything the workflow decided: each ``append_events``
activity's request carries the events with their ids, types, data and metadata, and its result
the versions and positions the store gave them; since ``local-steps-2026-12`` the append is the
local activity ``record_events``, whose one marker holds the request and the result together.
The start input of a continued run carries the state the previous run handed over, and its
close holds the result or the state handed on. So the history alone tells which events the
store must hold and what state they fold into - no worker, no database and no network
needed, which is what lets a bundle be checked offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from activities.case import AppendRequest, RecordedAppend
from domain.history import fold_stored
from domain.state import CaseState
from eventstore.models import AppendResult, NewEvent
from uep.converter import DATA_CONVERTER
from workflows.io import CarriedState, CaseResult, WorkflowInput

APPEND_ACTIVITY = "append_events"
"""The registered name of the activity that appends a run's events (kept across renames)."""
LOCAL_APPEND_ACTIVITY = "record_events"
"""The same append run as a local activity: its marker holds the request and the result."""
LOCAL_ACTIVITY_MARKER = "core_local_activity"

Source = Literal["temporal", "archive", "bundle"]

_CLOSE_STATUS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timed_out",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "canceled",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continued_as_new",
}


class HistoryUnreadable(ValueError):
    """A history that is not a workflow history at all (no start event, broken JSON)."""


@dataclass(frozen=True)
class AppendedEvent:
    """One event a run appended, where the store said it put it."""

    run_id: str
    history_event_id: int
    version: int
    position: int
    event: NewEvent


@dataclass
class RunRecord:
    """One run of a case's workflow, decoded from its history."""

    workflow_id: str
    run_id: str
    source: Source
    history: WorkflowHistory
    started_at: datetime
    closed_at: datetime | None
    status: str
    previous_run_id: str | None
    start_input: WorkflowInput | None
    appended: list[AppendedEvent] = field(default_factory=list)
    first_expected_version: int | None = None
    result: CaseResult | None = None
    handed_on: CarriedState | None = None
    failure: str = ""
    pending: list[NewEvent] = field(default_factory=list)
    """Events of an append a running run scheduled whose answer is not in its history yet."""

    @property
    def carried(self) -> CarriedState | None:
        """The state the previous run handed over (None for a first run)."""
        return None if self.start_input is None else self.start_input.continued

    @property
    def closed(self) -> bool:
        """Whether the run has ended (any way, continue-as-new included)."""
        return self.status != "running"


def _timestamp(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime().replace(tzinfo=UTC)


def _decode(payloads: Payloads | Sequence[Payload], hint: type[Any] | None) -> Any:
    items = list(payloads.payloads if isinstance(payloads, Payloads) else payloads)
    if not items:
        return None
    converter = DATA_CONVERTER.payload_converter
    return (
        converter.from_payload(items[0]) if hint is None else converter.from_payload(items[0], hint)
    )


def decode_run(history: WorkflowHistory, source: Source) -> RunRecord:
    """Decode one run's history: start, appends that completed, and how it closed."""
    events = list(history.events)
    if not events or not events[0].HasField("workflow_execution_started_event_attributes"):
        raise HistoryUnreadable(f"{history.workflow_id}: the history has no start event")
    started = events[0].workflow_execution_started_event_attributes
    start_input: WorkflowInput | None
    try:
        start_input = WorkflowInput.model_validate(_decode(started.input, None))
    except (ValidationError, TypeError, ValueError):
        start_input = None  # the run failed on its input; the replay still covers it
    run = RunRecord(
        workflow_id=history.workflow_id,
        run_id=started.original_execution_run_id or history.run_id,
        source=source,
        history=history,
        started_at=_timestamp(events[0]),
        closed_at=None,
        status="running",
        previous_run_id=started.continued_execution_run_id or None,
        start_input=start_input,
    )
    scheduled: dict[int, tuple[int, AppendRequest]] = {}
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name == APPEND_ACTIVITY:
                request = _decode(attrs.input, AppendRequest)
                scheduled[event.event_id] = (event.event_id, request)
                if run.first_expected_version is None:
                    run.first_expected_version = request.expected_version
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            if done.scheduled_event_id in scheduled:
                event_id, request = scheduled.pop(done.scheduled_event_id)
                result = _decode(done.result, AppendResult)
                for i, new in enumerate(request.events):
                    run.appended.append(
                        AppendedEvent(
                            run_id=run.run_id,
                            history_event_id=event_id,
                            version=result.first_version + i,
                            position=result.positions[i],
                            event=new,
                        )
                    )
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            recorded = _local_append(event)
            if recorded is not None:
                if run.first_expected_version is None:
                    run.first_expected_version = recorded.request.expected_version
                for i, new in enumerate(recorded.request.events):
                    run.appended.append(
                        AppendedEvent(
                            run_id=run.run_id,
                            history_event_id=event.event_id,
                            version=recorded.result.first_version + i,
                            position=recorded.result.positions[i],
                            event=new,
                        )
                    )
        elif kind in _ACTIVITY_FAILS:
            # The append failed for good: the workflow holds nothing of it.
            scheduled.pop(_scheduled_id(event), None)
        elif kind in _CLOSE_STATUS:
            run.status = _CLOSE_STATUS[kind]
            run.closed_at = _timestamp(event)
            _read_close(run, event)
    if not run.closed:
        # Scheduled and not yet answered: the store may already hold these events.
        run.pending = [new for _, request in scheduled.values() for new in request.events]
    return run


_ACTIVITY_FAILS = (
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
)


def _local_append(event: HistoryEvent) -> RecordedAppend | None:
    """The append a local activity's marker records, if it is one that completed (a failed
    attempt records a failure and no result: nothing was stored)."""
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != LOCAL_ACTIVITY_MARKER or marker.HasField("failure"):
        return None
    data = marker.details.get("data")
    result = marker.details.get("result")
    if data is None or result is None:
        return None
    about = _decode(data, None)
    if not isinstance(about, dict) or about.get("activity_type") != LOCAL_APPEND_ACTIVITY:
        return None
    recorded: RecordedAppend = _decode(result, RecordedAppend)
    return recorded


def _scheduled_id(event: HistoryEvent) -> int:
    """The scheduled event id a failed, timed-out or canceled activity answers."""
    for field_name in (
        "activity_task_failed_event_attributes",
        "activity_task_timed_out_event_attributes",
        "activity_task_canceled_event_attributes",
    ):
        if event.HasField(field_name):
            return int(getattr(event, field_name).scheduled_event_id)
    return 0


def _read_close(run: RunRecord, event: HistoryEvent) -> None:
    """What the closing event says: the result, the state handed on, or why it ended."""
    if event.HasField("workflow_execution_completed_event_attributes"):
        run.result = _decode(event.workflow_execution_completed_event_attributes.result, CaseResult)
    elif event.HasField("workflow_execution_continued_as_new_event_attributes"):
        raw = _decode(event.workflow_execution_continued_as_new_event_attributes.input, None)
        with_state = WorkflowInput.model_validate(raw)
        run.handed_on = with_state.continued
    elif event.HasField("workflow_execution_failed_event_attributes"):
        run.failure = event.workflow_execution_failed_event_attributes.failure.message
    elif event.HasField("workflow_execution_terminated_event_attributes"):
        run.failure = "terminated: " + (
            event.workflow_execution_terminated_event_attributes.reason or "no reason given"
        )
    elif event.HasField("workflow_execution_timed_out_event_attributes"):
        run.failure = "the run's execution timeout passed"


def history_from_json(workflow_id: str, text: str) -> WorkflowHistory:
    """A history from its JSON text (as the archive or a bundle holds it)."""
    try:
        return WorkflowHistory.from_json(workflow_id, text)
    except (ValueError, TypeError, KeyError) as err:
        raise HistoryUnreadable(f"{workflow_id}: not a Temporal history ({err})") from None


@dataclass(frozen=True)
class HistoryEnd:
    """The state a case's history ends with: what the workflow held when its last run stopped."""

    state: CaseState | None
    stream_version: int
    run_id: str
    status: str
    problems: list[tuple[str, str]]
    """(run id, what disagrees) within the history itself: a handed-on state or a result that
    is not the fold of what the run appended."""


def execution_chain(runs: Sequence[RunRecord]) -> list[RunRecord]:
    """The runs of the latest execution (first run to latest, following continue-as-new)."""
    if not runs:
        return []
    by_id = {r.run_id: r for r in runs}
    chain = [max(runs, key=lambda r: r.started_at)]
    while chain[-1].previous_run_id and chain[-1].previous_run_id in by_id:
        chain.append(by_id[chain[-1].previous_run_id])
    chain.reverse()
    return chain


def _fold_appended(state: CaseState | None, run: RunRecord) -> CaseState | None:
    return fold_stored((_Stored(a.event.type, a.event.data) for a in run.appended), state)


@dataclass(frozen=True)
class _Stored:
    type: str
    data: dict[str, Any]


def history_end(chain: Sequence[RunRecord]) -> HistoryEnd:
    """Fold what the latest execution's runs appended, run by run, checking each hand-over."""
    problems: list[tuple[str, str]] = []
    first = chain[0]
    state = first.carried.case if first.carried else None
    version = first.carried.stream_version if first.carried else 0
    if first.first_expected_version is not None and first.carried is None:
        version = first.first_expected_version  # a case started again continues its stream
    for run in chain:
        if run.carried is not None and run is not first:
            if run.carried.case != state:
                problems.append((run.run_id, "the state it started with is not the previous run's"))
            state = run.carried.case
            version = run.carried.stream_version
        state = _fold_appended(state, run)
        if run.appended:
            version = run.appended[-1].version
        if run.handed_on is not None:
            if run.handed_on.case != state:
                problems.append((run.run_id, "the state handed on is not the fold of its appends"))
            if run.handed_on.stream_version != version:
                problems.append(
                    (
                        run.run_id,
                        f"handed on stream version {run.handed_on.stream_version}, "
                        f"appended up to {version}",
                    )
                )
        if run.result is not None:
            problems.extend(_result_problems(run.run_id, run.result, state, version))
    last = chain[-1]
    return HistoryEnd(state, version, last.run_id, last.status, problems)


def _result_problems(
    run_id: str, result: CaseResult, state: CaseState | None, version: int
) -> list[tuple[str, str]]:
    """Where a completed run's result disagrees with the fold of its appends."""
    if state is None:
        return [(run_id, "completed without a case")]
    expected = {
        "status": state.status,
        "stream_version": version,
        "user_id": state.user_id.accepted,
        "completed_on": state.completed_on.isoformat() if state.completed_on else None,
    }
    found = {
        "status": result.status,
        "stream_version": result.stream_version,
        "user_id": result.user_id,
        "completed_on": result.completed_on,
    }
    return [
        (run_id, f"result {k} {found[k]!r}, the appends give {expected[k]!r}")
        for k in expected
        if expected[k] != found[k]
    ]
