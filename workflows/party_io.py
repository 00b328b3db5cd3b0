"""Payloads of the PartyRecord workflow: its input, what continue-as-new carries, results."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.party import commands as pc
from domain.party.state import PartyState
from domain.view import RejectedMessage


class PartyCarried(BaseModel):
    """The record's run state, handed to the next run by continue-as-new."""

    model_config = ConfigDict(extra="forbid")

    state: PartyState
    stream_version: int
    last_event: str = ""
    seen_messages: dict[str, list[str]] = Field(default_factory=dict)
    seen_fingerprints: dict[str, str] = Field(default_factory=dict)
    rejected: list[RejectedMessage] = Field(default_factory=list)
    told: dict[str, str] = Field(default_factory=dict)
    """Case id -> digest of the position last told to it."""


class PartyRecordStart(pc.PartyRecordInput):
    """A run's input: the public :class:`PartyRecordInput`, or state carried over."""

    continued: PartyCarried | None = None


class PartyResult(BaseModel):
    """The record's result when it closes (no open role case, no Credit Support held)."""

    party_id: str
    stream_version: int
    cases: int


class PartyUpdateResult(BaseModel):
    """What an accepted update to the record did."""

    accepted: bool = True
    duplicate: bool = False
    events: list[str]
    stream_version: int
    message: str = ""
    position: int | None = Field(
        default=None,
        description="The global position of the last event this message appended (None for a "
        "repeat or a message that appended nothing since the run began): read your write there.",
    )
