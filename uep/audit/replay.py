"""Replay a run's history against workflow code, and say where the code first diverges.

Temporal's non-determinism error names the mismatching commands but not the history event, so a
failed replay is located by replaying prefixes: a history cut just after a workflow task started
replays every earlier task's commands against what was recorded. The shortest failing prefix
ends at the task whose commands diverge; its first recorded command event is the position.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import Replayer

from uep.converter import DATA_CONVERTER
from uep.sandbox import workflow_runner
from workflows.senders import replay_interceptors


@dataclass(frozen=True)
class ReplayOutcome:
    """Whether a run replays; if not, the failure and the history event where it diverges."""

    ok: bool
    failure: str = ""
    event_id: int | None = None
    event_type: str = ""


@cache
def _quiet_runtime() -> Runtime:
    """A runtime whose core logs errors only."""
    # A failed replay is reported as a finding; the core's warning about it would otherwise
    # land in the middle of a JSON report on stdout.
    filter_ = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=filter_)))


def replayer(workflows: Sequence[type]) -> Replayer:
    """A replayer for ``workflows`` with the project's data converter and the interceptors a
    worker replays with."""
    return Replayer(
        workflows=list(workflows),
        interceptors=replay_interceptors(),
        data_converter=DATA_CONVERTER,
        workflow_runner=workflow_runner(),
        runtime=_quiet_runtime(),
    )


async def _fails(replay: Replayer, history: WorkflowHistory) -> str:
    result = await replay.replay_workflow(history, raise_on_replay_failure=False)
    return "" if result.replay_failure is None else str(result.replay_failure)


async def replay_run(replay: Replayer, history: WorkflowHistory) -> ReplayOutcome:
    """Replay one run; on failure locate the first history event the code disagrees with."""
    failure = await _fails(replay, history)
    if not failure:
        return ReplayOutcome(ok=True)
    events = list(history.events)
    cuts = [
        i + 1
        for i, e in enumerate(events)
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
    ]
    # Bisect for the shortest failing prefix; once replay has diverged every longer prefix
    # fails too. The full history is known to fail.
    low, high = 0, len(cuts)
    while low < high:
        mid = (low + high) // 2
        prefix = WorkflowHistory(history.workflow_id, events[: cuts[mid]])
        if await _fails(replay, prefix):
            high = mid
        else:
            low = mid + 1
    # The diverging commands are recorded after the task before the failing cut completed.
    start = cuts[low - 1] if low > 0 else 0
    end = cuts[low] if low < len(cuts) else len(events)
    command = _diverging(events[start:end], _short(failure)) or events[min(end, len(events)) - 1]
    return ReplayOutcome(
        ok=False,
        failure=_short(failure),
        event_id=command.event_id,
        event_type=EventType.Name(command.event_type).removeprefix("EVENT_TYPE_"),
    )


_TASK_EVENTS = (
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
)


def _diverging(events: Sequence[HistoryEvent], failure: str) -> HistoryEvent | None:
    """The recorded event the failure is about, among one workflow task's command events."""
    # The core names it by id ("HistoryEvent(id: 12, ...)") or by what it scheduled ("scheduled
    # event 'load_calendar'"); failing both, the task's first command event is the closest.
    commands = [e for e in events if e.event_type not in _TASK_EVENTS]
    by_id = re.search(r"HistoryEvent\(id: (\d+)", failure)
    if by_id:
        wanted = int(by_id.group(1))
        return next((e for e in events if e.event_id == wanted), None) or (
            commands[0] if commands else None
        )
    for name in re.findall(r"'([^']+)'", failure):
        quoted = f'"{name}"'
        match = next((e for e in commands if quoted in str(e)), None)
        if match is not None:
            return match
    return commands[0] if commands else None


def _short(failure: str) -> str:
    """The readable part of a core failure ("[TMPRL1100] Nondeterminism error: ...")."""
    marker = 'message: "'
    if marker in failure:
        return failure.split(marker, 1)[1].split('", source', 1)[0]
    return failure
