"""Activities of the UserEntryProcess workflow: append events, load the calendar, notify.

Every write is idempotent: event ids are chosen by the workflow (``workflow.uuid4()``), so a
retried append finds its events already stored and writes nothing. Errors that retrying cannot
fix (a version conflict, a User ID claim refused) are raised as non-retryable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import structlog
from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import metrics
from activities.errors import RequestRefusal, StoreRefusal
from activities.notices import DeliveryChannel, NoChannel
from domain.calendar import WorkingDayCalendar
from domain.calendar_data import build_calendar
from domain.errors import DomainError
from eventstore.models import (
    AppendResult,
    EventStorePort,
    ExpectedVersionError,
    NewEvent,
    UnstorableEventError,
    UserIdClaimChange,
    UserIdClaimError,
)
from eventstore.outbox import InMemoryNoticeOutbox, NoticeOutbox

log = structlog.get_logger(__name__)


class AppendRequest(BaseModel):
    """Events decided by the workflow, to append after ``expected_version``."""

    stream_id: str
    expected_version: int
    events: list[NewEvent]
    claims: list[UserIdClaimChange] = []


class RecordedAppend(BaseModel):
    """A local append's answer: the request and where the store put its events. A local
    activity's marker in history holds only its answer, so the request travels back in it:
    history keeps what the workflow decided, as a regular activity's scheduled event did, and
    the workflow checks the echo against what it decided (``workflows.steps``)."""

    request: AppendRequest
    result: AppendResult


class CalendarRequest(BaseModel):
    """Which Working-Day calendar snapshot the workflow needs."""

    region: str
    first_year: int
    last_year: int


class NoticeRequest(BaseModel):
    """A completion notice SECAS sends (H1.11, H1.12)."""

    case_id: str
    recipient: str
    party_name: str
    role_label: str
    user_id: str


class QueueNoticeRequest(BaseModel):
    """A completion notice to put in the outbox; its id is the workflow's, for idempotency."""

    notice_id: str
    case_id: str
    recipient: str
    party_name: str
    role_label: str
    user_id: str
    completed_on: str


class QueueNoticesRequest(BaseModel):
    """Every completion notice of a case, put in the outbox by one activity."""

    notices: list[QueueNoticeRequest] = Field(max_length=16)


class DeliveryReceipt(BaseModel):
    """Where a delivered notice went."""

    channel: str
    reference: str


class DeliveredElsewhere(BaseModel):
    """A notice delivered outside any channel (the Panel's information paper)."""

    notice_id: str
    channel: str
    reference: str


class Notifier(Protocol):
    """Where completion notices go (an outbox, e-mail, a Panel paper queue)."""

    async def send(self, notice: NoticeRequest) -> None:
        """Deliver one notice; must tolerate a repeat of the same notice."""
        ...


class LogNotifier:
    """Notifier that records notices in the structured log (the embedded default)."""

    async def send(self, notice: NoticeRequest) -> None:
        """Log the notice with the case id bound."""
        log.info("completion notice", case_id=notice.case_id, recipient=notice.recipient)


class CaseActivities:
    """The workflow's activities, bound to an event store, a notice outbox and a channel."""

    def __init__(
        self,
        store: EventStorePort,
        notifier: Notifier | None = None,
        outbox: NoticeOutbox | None = None,
        channel: DeliveryChannel | None = None,
    ) -> None:
        self._store = store
        self._notifier = notifier or LogNotifier()
        self._outbox: NoticeOutbox = outbox or InMemoryNoticeOutbox()
        self._channel: DeliveryChannel = channel or NoChannel()

    @activity.defn(name="append_events")
    async def append_events(self, request: AppendRequest) -> AppendResult:
        """Append the workflow's events (and User ID claims) in one transaction."""
        logger = log.bind(case_id=request.stream_id)
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await self._store.append(
                request.stream_id, request.events, request.expected_version, request.claims
            )
        except ExpectedVersionError as err:
            outcome = "version_conflict"
            raise ApplicationError(
                str(err), type=StoreRefusal.EXPECTED_VERSION, non_retryable=True
            ) from err
        except UserIdClaimError as err:
            outcome = "user_id_conflict"
            metrics.USER_ID_CLAIM_CONFLICTS.inc()
            raise ApplicationError(
                str(err), type=StoreRefusal.USER_ID_CONFLICT, non_retryable=True
            ) from err
        except UnstorableEventError as err:
            outcome = "unstorable"
            logger.warning("events refused by the store", reason=str(err))
            raise ApplicationError(
                str(err), type=StoreRefusal.UNSTORABLE, non_retryable=True
            ) from err
        else:
            outcome = "duplicate" if result.duplicate else "appended"
            if not result.duplicate:
                metrics.EVENTS_APPENDED.inc(len(request.events))
        finally:
            metrics.APPEND_DURATION.observe(time.perf_counter() - started)
            metrics.APPENDS.labels(outcome).inc()
        logger.info(
            "events appended",
            types=[e.type for e in request.events],
            version=result.last_version,
            duplicate=result.duplicate,
        )
        return result

    @activity.defn(name="record_events")
    async def record_events(self, request: AppendRequest) -> RecordedAppend:
        """``append_events`` run as a local activity: the same append, with the request echoed
        into history beside the result."""
        result = await self.append_events(request)
        return RecordedAppend(request=request, result=result)

    @activity.defn(name="stream_version")
    async def stream_version(self, stream_id: str) -> int:
        """Current version of a case's stream (a case started again continues its stream)."""
        return await self._store.stream_version(stream_id)

    @activity.defn(name="load_calendar")
    async def load_calendar(self, request: CalendarRequest) -> WorkingDayCalendar:
        """A Working-Day calendar snapshot, so the holiday data reaches the workflow by history."""
        try:
            return build_calendar(request.region, request.first_year, request.last_year)
        except DomainError as err:
            raise ApplicationError(
                str(err), type=RequestRefusal.INVALID_REQUEST, non_retryable=True
            ) from err

    @activity.defn(name="send_completion_notice")
    async def send_completion_notice(self, notice: NoticeRequest) -> None:
        """Log one completion notice (cases before revision 2 only)."""
        await self._notifier.send(notice)

    @activity.defn(name="queue_completion_notice")
    async def queue_completion_notice(self, request: QueueNoticeRequest) -> str:
        """Put a completion notice in the durable outbox (a repeat writes nothing)."""
        return await self._queue(request)

    @activity.defn(name="queue_completion_notices")
    async def queue_completion_notices(self, request: QueueNoticesRequest) -> list[str]:
        """Put every notice in the outbox, in order (a repeat writes nothing): their status."""
        return [await self._queue(notice) for notice in request.notices]

    async def _queue(self, request: QueueNoticeRequest) -> str:
        body = request.model_dump(exclude={"notice_id", "case_id", "recipient"})
        notice = await self._outbox.queue(
            request.notice_id, request.case_id, request.recipient, body
        )
        log.info("completion notice queued", case_id=request.case_id, recipient=notice.recipient)
        return notice.status

    @activity.defn(name="deliver_completion_notice")
    async def deliver_completion_notice(self, notice_id: str) -> DeliveryReceipt:
        """Take a queued notice to its recipient through the channel; a failure is recorded
        on the notice and Temporal tries again."""
        notice = await self._outbox.get(notice_id)
        if notice is None:
            raise ApplicationError(
                f"no notice {notice_id} in the outbox",
                type=RequestRefusal.INVALID_REQUEST,
                non_retryable=True,
            )
        if notice.status == "delivered":
            return DeliveryReceipt(channel=notice.channel or "", reference=notice.reference or "")
        try:
            reference = await self._channel.deliver(notice)
        except Exception as err:  # any channel failure: recorded, then retried by Temporal
            await self._outbox.failed(notice_id, f"{type(err).__name__}: {err}")
            log.warning("completion notice not delivered", notice_id=notice_id, error=str(err))
            raise
        delivered = await self._outbox.delivered(notice_id, self._channel.name, reference)
        log.info("completion notice delivered", case_id=notice.case_id, channel=self._channel.name)
        return DeliveryReceipt(channel=delivered.channel or "", reference=delivered.reference or "")

    @activity.defn(name="mark_notice_delivered")
    async def mark_notice_delivered(self, request: DeliveredElsewhere) -> None:
        """Record in the outbox a notice delivered outside any channel (idempotent)."""
        await self._outbox.delivered(request.notice_id, request.channel, request.reference)

    def all(self) -> Sequence[Callable[..., Any]]:
        """Every activity, for the worker."""
        return [
            self.append_events,
            self.record_events,
            self.stream_version,
            self.load_calendar,
            self.send_completion_notice,
            self.queue_completion_notice,
            self.queue_completion_notices,
            self.deliver_completion_notice,
            self.mark_notice_delivered,
        ]
