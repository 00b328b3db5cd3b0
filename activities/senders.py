"""The local activity that checks who sent a signal or a start (its answer is in history).

A signal handler is replayed, so it must not read the deployment's key: it asks this activity,
which holds the key in the worker's memory, and the recorded answer makes replay deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field
from temporalio import activity

from domain.principals import Verdict, judge


class SenderCheckRequest(BaseModel):
    """One message to check: its raw header (JSON text, or none), where it went, its name."""

    header: str | None = Field(default=None, max_length=8000)
    workflow_id: str
    message: str
    party_id: str | None = None


class SenderActivities:
    """Sender checks with the deployment's principal key and its UI-writes setting."""

    def __init__(self, key: bytes | None = None, allow_ui_writes: bool = True) -> None:
        self._key = key
        self._allow_ui_writes = allow_ui_writes

    @activity.defn(name="check_sender")
    async def check_sender(self, request: SenderCheckRequest) -> Verdict:
        """Verify the header and apply the sender matrix."""
        header = None if request.header is None else request.header.encode()
        return judge(
            self._key,
            self._allow_ui_writes,
            header,
            request.workflow_id,
            request.message,
            request.party_id,
        )

    def all(self) -> Sequence[Callable[..., Any]]:
        """The activities to register."""
        return [self.check_sender]
