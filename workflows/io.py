"""Payloads of the workflow itself: its input, what continue-as-new carries, update results."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.calendar import WorkingDayCalendar
from domain.commands import StartCase
from domain.state import CaseState
from domain.view import RejectedMessage


class CarriedState(BaseModel):
    """The run's state, all in one object: the folded case, where its stream ends, its calendar
    snapshot and what it remembers of messages. Continue-as-new hands it to the next run as is
    (its field names are in recorded histories: keep them)."""

    case: CaseState
    stream_version: int
    calendar: WorkingDayCalendar
    seen_messages: dict[str, list[str]] = Field(default_factory=dict)
    rejected: list[RejectedMessage] = Field(default_factory=list)
    duplicates_ignored: int = 0
    watched_steps: list[str] = Field(default_factory=list)
    seen_fingerprints: dict[str, str] = Field(default_factory=dict)
    """Message id -> what the message said (name and content digest): a reused id with other
    content is refused, not answered as a duplicate."""


class WorkflowInput(StartCase):
    """A run's input: the :class:`StartCase` a case was started with and, for a run that
    continues an earlier one, the state carried over.

    Internal: only a run that Temporal itself continued (``continued_run_id`` set) may carry
    state; a start from outside is the public :class:`StartCase` and nothing more.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    continued: CarriedState | None = Field(
        default=None, description="Internal: state carried over by continue-as-new."
    )
    continue_as_new_after: int | None = Field(
        default=None,
        description="Internal, no longer read: the history limit of runs continued before "
        "December 2026 (kept so their input still loads).",
    )


class UpdateResult(BaseModel):
    """What an accepted update did."""

    accepted: bool = True
    duplicate: bool = False
    events: list[str]
    stage: str
    stream_version: int
    message: str = ""
    position: int | None = Field(
        default=None,
        description="The global position of the last event this message appended (None for a "
        "repeat or a message that appended nothing since the run began): read your write there.",
    )


class CaseResult(BaseModel):
    """The workflow's result when the case closes."""

    case_id: str
    status: str
    completed_on: str | None = None
    user_id: str | None = None
    stream_version: int
