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
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import metrics
from activities.errors import StoreRefusal
from domain.calendar import WorkingDayCalendar
from domain.calendar_data import build_calendar
from eventstore.models import (
    AppendResult,
    EventStorePort,
    ExpectedVersionError,
    NewEvent,
    UserIdClaimChange,
    UserIdClaimError,
)

log = structlog.get_logger(__name__)


class AppendRequest(BaseModel):
    """Events decided by the workflow, to append after ``expected_version``."""

    stream_id: str
    expected_version: int
    events: list[NewEvent]
    claims: list[UserIdClaimChange] = []


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
    """The workflow's activities, bound to an event store and a notifier."""

    def __init__(self, store: EventStorePort, notifier: Notifier | None = None) -> None:
        self._store = store
        self._notifier = notifier or LogNotifier()

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

    @activity.defn(name="stream_version")
    async def stream_version(self, stream_id: str) -> int:
        """Current version of a case's stream (a case started again continues its stream)."""
        return await self._store.stream_version(stream_id)

    @activity.defn(name="load_calendar")
    async def load_calendar(self, request: CalendarRequest) -> WorkingDayCalendar:
        """A Working-Day calendar snapshot, so the holiday data reaches the workflow by history."""
        return build_calendar(request.region, request.first_year, request.last_year)

    @activity.defn(name="send_completion_notice")
    async def send_completion_notice(self, notice: NoticeRequest) -> None:
        """Send one completion notice through the notifier."""
        await self._notifier.send(notice)

    def all(self) -> Sequence[Callable[..., Any]]:
        """Every activity, for the worker."""
        return [
            self.append_events,
            self.stream_version,
            self.load_calendar,
            self.send_completion_notice,
        ]
