"""The durable outbox of completion notices (SEC H1.11, H1.12): written once, then delivered.

A notice is recorded as queued only once it is in PostgreSQL, and as delivered only once a
channel has taken it: never "notified" on the strength of a log line. The workflow chooses
each notice's id, so a retried write changes nothing; a failed delivery is kept with its
attempt count and error, and Temporal retries it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

NoticeStatus = Literal["queued", "delivered", "failed"]


class Notice(BaseModel):
    """One completion notice and where it stands."""

    model_config = ConfigDict(frozen=True)

    notice_id: str
    case_id: str
    recipient: str
    body: dict[str, Any]
    status: NoticeStatus = "queued"
    attempts: int = 0
    channel: str | None = None
    reference: str | None = None
    last_error: str | None = None
    queued_at: datetime
    delivered_at: datetime | None = None


class NoticeOutbox(Protocol):
    """What the notice activities need of an outbox."""

    async def queue(
        self, notice_id: str, case_id: str, recipient: str, body: dict[str, Any]
    ) -> Notice:
        """Write the notice unless it is there already; the stored notice either way."""
        ...

    async def get(self, notice_id: str) -> Notice | None:
        """The notice, if queued."""
        ...

    async def delivered(self, notice_id: str, channel: str, reference: str) -> Notice:
        """Mark the notice delivered (again: no change)."""
        ...

    async def failed(self, notice_id: str, error: str) -> None:
        """Count a failed delivery attempt and keep its error."""
        ...

    async def list(self, case_id: str | None = None, status: str | None = None) -> list[Notice]:
        """Notices, oldest first, optionally of one case or status."""
        ...


class InMemoryNoticeOutbox:
    """The outbox in a dict, for fast tests; same rules as the PostgreSQL one."""

    def __init__(self) -> None:
        self._notices: dict[str, Notice] = {}

    async def queue(
        self, notice_id: str, case_id: str, recipient: str, body: dict[str, Any]
    ) -> Notice:
        """Write the notice unless it is there already; the stored notice either way."""
        if notice_id not in self._notices:
            self._notices[notice_id] = Notice(
                notice_id=notice_id,
                case_id=case_id,
                recipient=recipient,
                body=body,
                queued_at=datetime.now(UTC),
            )
        return self._notices[notice_id]

    async def get(self, notice_id: str) -> Notice | None:
        """The notice, if queued."""
        return self._notices.get(notice_id)

    async def delivered(self, notice_id: str, channel: str, reference: str) -> Notice:
        """Mark the notice delivered (again: no change)."""
        notice = self._notices.get(notice_id)
        if notice is None:
            raise LookupError(f"no notice {notice_id} in the outbox")
        if notice.status != "delivered":
            notice = notice.model_copy(
                update={
                    "status": "delivered",
                    "channel": channel,
                    "reference": reference,
                    "attempts": notice.attempts + 1,
                    "delivered_at": datetime.now(UTC),
                }
            )
            self._notices[notice_id] = notice
        return notice

    async def failed(self, notice_id: str, error: str) -> None:
        """Count a failed delivery attempt and keep its error."""
        notice = self._notices.get(notice_id)
        if notice is not None and notice.status != "delivered":
            self._notices[notice_id] = notice.model_copy(
                update={"status": "failed", "attempts": notice.attempts + 1, "last_error": error}
            )

    async def list(self, case_id: str | None = None, status: str | None = None) -> list[Notice]:
        """Notices, oldest first, optionally of one case or status."""
        return [
            n
            for n in sorted(self._notices.values(), key=lambda n: (n.queued_at, n.notice_id))
            if (case_id is None or n.case_id == case_id) and (status is None or n.status == status)
        ]
