"""The API's parameters and answers: path, header and query types, and the response models."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query
from pydantic import BaseModel, Field

from uep.api.app import Caller, Services, caller, services

CASE_ID = r"^uep-[A-Za-z0-9_-]{1,64}-[a-z_]{1,40}$"
PARTY_ID = r"^[A-Za-z0-9_-]{1,64}$"
IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,100}$"
WAIT_MAX = 10.0

CaseId = Annotated[str, Path(pattern=CASE_ID, description="uep-<party_id>-<role>")]
PartyId = Annotated[str, Path(pattern=PARTY_ID)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY,
        description="A retry with the same key returns the first answer and records nothing "
        "new (it becomes the update id and the message_id).",
    ),
]
AfterPosition = Annotated[
    int | None,
    Query(ge=0, le=2**62, description="Wait until the read models have applied this position."),
]
Wait = Annotated[float, Query(ge=0, le=WAIT_MAX, description="Seconds to wait for it.")]
Who = Annotated[Caller, Depends(caller)]
Svc = Annotated[Services, Depends(services)]


class WriteAnswer(BaseModel):
    """What an accepted message did, and the global position to read your write at."""

    accepted: bool = True
    duplicate: bool = False
    events: list[str]
    stage: str | None = None
    stream_version: int
    message: str = ""
    position: int | None = Field(default=None, description="Pass as after_position to a read.")


class SignalAnswer(BaseModel):
    """A signal was handed to Temporal; a refusal shows under the case's rejected messages."""

    signal: str
    message_id: str


class StartAnswer(BaseModel):
    """The case started (or, for a retried Idempotency-Key, was already open)."""

    case_id: str
    run_id: str | None = None
    already_open: bool = False


class Page(BaseModel):
    """Rows of a read model."""

    items: list[dict[str, Any]]
    limit: int | None = None
    offset: int | None = None
