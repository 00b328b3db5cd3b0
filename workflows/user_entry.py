"""The UserEntryProcess workflow: one durable case per Party x User Role (SEC H1).

The workflow orchestrates; ``domain.decide`` decides. Every real-world fact arrives as an update
(with a validator, so bad input never enters history) or, for fire-and-forget senders, as a
signal carrying a message id. Each decided event is appended to the event store by an activity
before the state evolves, so the store is the record and the workflow never runs ahead of it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.case import (
        AppendRequest,
        CalendarRequest,
        CaseActivities,
        DeliveredElsewhere,
        DeliveryReceipt,
        NoticeRequest,
        QueueNoticeRequest,
        QueueNoticesRequest,
    )
    from activities.coordination import (
        CoordinationActivities,
        PositionRequest,
        QueryRequest,
        SignalWithStartRequest,
    )
    from activities.errors import StoreRefusal
    from domain import commands as c
    from domain import events as ev
    from domain.calendar import WorkingDayCalendar
    from domain.commands import StartCase
    from domain.decider import (
        decide,
        missed_deadlines,
        next_dcc_due,
        start_case,
        user_id_claims,
        watchable_steps,
    )
    from domain.errors import DomainError
    from domain.events import COMPLETION_RECIPIENTS
    from domain.party.position import PartyPosition
    from domain.principals import START
    from domain.progress import next_deadline, notices_due, stage
    from domain.revision import LEGACY as LEGACY_REVISION
    from domain.revision import PARTY_RECORD
    from domain.state import CaseState, evolve, facts_for_party_record, fold
    from domain.view import CaseView, RejectedMessage, build_view, case_summary
    from eventstore.models import AppendResult, NewEvent, UserIdClaimChange
    from workflows import limits, names
    from workflows.alarm import STEADY_ALARM_PATCH, Alarm
    from workflows.errors import Refusal, domain_refusal, refusal, shorten
    from workflows.io import CarriedState, CaseResult, UpdateResult, WorkflowInput
    from workflows.messages import (
        fingerprint,
        format_validation_error,
        message_id_of,
        parse_message,
        signal_handler,
        single_argument,
        update_handler,
    )
    from workflows.patches import Patches, decide_epoch, decide_run_start
    from workflows.senders import (
        LEGACY,
        REGULAR_SENDER_CHECK_PATCH,
        SIGNED_SENDERS_PATCH,
        UI_IDENTITY_PATCH,
        Origin,
        event_metadata,
        signal_origin,
        update_origin,
    )
    from workflows.steps import REGULAR_STEPS_PATCH, STORE_READS_PATCH, append, run_step

# Each activity's timeout fits what it does; Temporal retries a timed-out attempt.
APPEND_TIMEOUT = timedelta(seconds=30)
"""One group-committed transaction; generous for a database under load."""
LOOKUP_TIMEOUT = timedelta(seconds=10)
"""A single read, or building a calendar snapshot in memory."""
NOTICE_TIMEOUT = timedelta(seconds=60)
"""Handing a completion notice to its delivery channel."""
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=30),
)
"""A channel that is down is tried again, less and less often, until it takes the notice."""

CALENDAR_HORIZON_PATCH = "calendar-horizon-2026-11"
"""Added a timer that wakes the case to extend its calendar; older histories have none."""
STRICT_START_PATCH = "strict-start-input-2026-12"
"""A start input is the public StartCase only; older histories ran with the internal fields."""
RULES_REVISION_PATCH = "rules-revision-2-2026-12"
"""New cases open under revision 2 of the engine's reading of the rules (domain.revision)."""
PARTY_RECORD_PATCH = "party-record-2026-12"
"""New cases open under revision 3: credit and security come from the Party record."""
BATCHED_NOTICES_PATCH = "batched-notices-2026-12"
"""The completion notices are queued by one activity and recorded by one append; the channels
deliver side by side and one append records them. Older histories took an activity and an
append per notice, one after the other."""
READ_TIMEOUT = timedelta(seconds=30)
"""Reading another workflow (a query) or signalling it (signal-with-start)."""
REJECTED_KEPT = 50
"""Refused signals listed in the case (the newest); each entry is bounded too."""


@workflow.defn(name=names.WORKFLOW_TYPE)
class UserEntryProcess:
    """The User Entry Process for one Party and one User Role."""

    @workflow.init
    def __init__(self, *args: Any) -> None:
        self.patches: Patches = decide_epoch()  # first: every patch question goes through it
        self._input: WorkflowInput | None = None
        self._start_error: str | None = None
        self._legacy_history_limit: int | None = None
        try:
            self._input = self._read_input(args)
        except ApplicationError as err:
            self._start_error = err.message
        except DomainError as err:
            self._start_error = shorten(str(err), 1000)
        self._run: CarriedState | None = None
        self._rejected_while_opening: list[RejectedMessage] = []
        self._lock = asyncio.Lock()
        self._changed = False
        self._search_attrs: tuple[object, ...] = ()
        self._party_poked = False
        self._told_party: tuple[object, ...] = ()
        self._alarm = Alarm()
        self._position: int | None = None  # of this run's last append, for an update's answer
        self._messages = 0  # signals and accepted updates this run took (limits.run_is_full)
        start = decide_run_start(
            (
                SIGNED_SENDERS_PATCH,
                UI_IDENTITY_PATCH,
                PARTY_RECORD_PATCH,
                REGULAR_STEPS_PATCH,
                CALENDAR_HORIZON_PATCH,
                STEADY_ALARM_PATCH,
                limits.COUNTED_ROLLOVER_PATCH,
                REGULAR_SENDER_CHECK_PATCH,
                BATCHED_NOTICES_PATCH,
                STORE_READS_PATCH,
            ),
            self.patches,
        )
        self._serial_opening, self._order = start.serial_opening, start.order

    # -- the process ---------------------------------------------------------------------

    @workflow.run
    async def run(self, *args: Any) -> CaseResult:
        """Open the case, follow it until it completes or is withdrawn, then send the notices."""
        params = self._open_input()
        origin = await self._start_origin(params)
        await self._open_case(params, origin)
        await self._tell_party_record()
        while self.case.status == "open":
            await self._wait_for_progress_or_dcc_deadline()
            await self._keep_calendar_ahead()
            await self._record_missed_dcc_deadlines()
            await self._read_party_position()
            await self._tell_party_record()
            self._publish()
            if self._history_is_long(params):
                await self._continue_as_new(params)
        await self._tell_party_record()
        if self.case.status == "completed":
            if self.case.revision >= 2:
                await self._notify_through_the_outbox()
            else:
                await self._send_completion_notices()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CaseResult(
            case_id=self.case.case_id,
            status=self.case.status,
            completed_on=self.case.completed_on.isoformat() if self.case.completed_on else None,
            user_id=self.case.user_id.accepted,
            stream_version=self.run_state.stream_version,
        )

    def _read_input(self, args: tuple[Any, ...]) -> WorkflowInput:
        """The start input, checked in full before anything is written: its shape, its
        workflow id, and that the Party may enter the role. State carried over is accepted
        only from a run Temporal itself continued, never from a start."""
        raw = single_argument("start input", args)
        info = workflow.info()
        try:
            if isinstance(raw, dict) and "continued" in raw and info.continued_run_id:
                params = WorkflowInput.model_validate(raw)
                self._legacy_history_limit = params.continue_as_new_after  # None since 2026-12
            elif not self.patches.on(STRICT_START_PATCH):
                # a case started before the public input was checked in full: as it ran then
                params = WorkflowInput.model_validate(raw)
                self._legacy_history_limit = params.continue_as_new_after
            else:
                params = WorkflowInput.model_validate(StartCase.model_validate(raw).model_dump())
        except ValidationError as err:
            raise refusal(
                "start input: " + format_validation_error(err), Refusal.INVALID_INPUT
            ) from None
        expected = names.workflow_id(params.party.party_id, params.role)
        if info.workflow_id != expected:
            raise refusal(
                f"workflow id must be {expected!r} for this Party and role "
                f"(got {shorten(info.workflow_id, 100)!r})",
                Refusal.INVALID_INPUT,
            )
        if params.continued is None:
            start_case(params, info.workflow_id, self._today())  # refuses an ineligible Party
        return params

    def _open_input(self) -> WorkflowInput:
        """The input, or the start refused at once with its reason (never "opening" for ever)."""
        if self._input is None:
            raise refusal(self._start_error or "no input", Refusal.INVALID_INPUT)
        return self._input

    async def _start_origin(self, params: WorkflowInput) -> Origin:
        """Who started the case (a run Temporal continued was started by the case itself);
        a start the sender matrix refuses opens nothing."""
        if params.continued is not None:
            return LEGACY
        try:
            return await signal_origin(START)
        except ApplicationError as err:
            self._start_error = err.message
            raise

    async def _open_case(self, params: WorkflowInput, origin: Origin = LEGACY) -> None:
        """Begin (or, after continue-as-new, resume) the case and its calendar snapshot."""
        if params.continued is not None:
            self._run = params.continued.model_copy(deep=True)
            self._publish()
            return
        today = self._today()
        # the corrected reading of the rules for new cases; an old history replays as it ran
        if self.patches.on(PARTY_RECORD_PATCH):
            revision = PARTY_RECORD
        elif self.patches.on(RULES_REVISION_PATCH):
            revision = PARTY_RECORD - 1
        else:
            revision = LEGACY_REVISION
        try:
            decided = start_case(params, workflow.info().workflow_id, today, revision)
        except DomainError as err:
            raise domain_refusal(err) from None
        opened = decided[0]
        assert isinstance(opened, ev.CaseStarted)
        started_on = opened.effective_on
        # cover the mandate date too, so "working days left" is known for it
        first_year = min(started_on.year, (opened.mandate_due_on or started_on).year) - 1
        calendar = await run_step(
            CaseActivities.load_calendar,
            CalendarRequest(
                region=params.calendar_region,
                first_year=first_year,
                last_year=today.year + 6,
            ),
            limit=LOOKUP_TIMEOUT,
            summary="Load the Working-Day calendar",
        )
        version = await run_step(
            CaseActivities.stream_version,
            workflow.info().workflow_id,
            limit=LOOKUP_TIMEOUT,
            summary="Find where the case's event stream ends",
        )
        appended = await self._append(
            decided,
            None,
            version,
            "start",
            origin.actor(params.actor or "operator"),
            workflow.info().workflow_id,
            origin,
        )
        case = fold(decided)
        assert case is not None
        self._run = CarriedState(
            case=case,
            stream_version=appended.last_version,
            calendar=calendar,
            rejected=self._rejected_while_opening,
        )
        self._after_append()

    # -- the Party record (revision 3) ----------------------------------------------------

    async def _tell_party_record(self) -> None:
        """Open (or find) the Party record and poke it when the case opened or its status or
        User IDs changed; the record reads the case's stream and records what it finds."""
        case = self.case
        if not case.party_backed:
            return
        facts = (case.status, tuple(case.user_id.accepted_ids))
        if facts == self._told_party:
            return
        party = case.party
        await run_step(
            CoordinationActivities.signal_with_start,
            SignalWithStartRequest(
                workflow_id=names.party_record_id(party.party_id),
                workflow_type=names.PARTY_WORKFLOW_TYPE,
                task_queue=workflow.info().task_queue,
                start_input={"party": party.model_dump(mode="json")},
                signal=names.ROLE_CASE_SIGNAL,
                signal_payload={"case_id": case.case_id},
                static_summary=f"{party.party_name} - Party record",
            ),
            limit=READ_TIMEOUT,
            summary="Tell the Party record about this case",
        )
        self._told_party = facts

    async def _read_party_position(self) -> None:
        """After the record's poke: read the role's position from the record and record it
        when it says something new."""
        case = self.case
        if not (self._party_poked and case.party_backed and case.status == "open"):
            return
        self._party_poked = False
        record = names.party_record_id(case.party.party_id)
        if self.patches.on(STORE_READS_PATCH):  # its stream: no wait for the record's task
            answer = await workflow.execute_activity_method(
                CoordinationActivities.read_party_position,
                PositionRequest(stream_id=record, role=case.role, on=self._today()),
                start_to_close_timeout=READ_TIMEOUT,
                summary="Read the credit and security position from the Party record's stream",
            )
        else:  # older histories asked the record by a query
            answer = await workflow.execute_activity_method(
                CoordinationActivities.query_workflow,
                QueryRequest(
                    workflow_id=record,
                    query=names.POSITION_QUERY,
                    argument={"role": str(case.role), "on": self._today().isoformat()},
                ),
                start_to_close_timeout=READ_TIMEOUT,
                summary="Read the credit and security position from the Party record",
            )
        if answer is None:
            return
        try:
            position = PartyPosition.model_validate(answer)
        except ValidationError:
            workflow.logger.warning("the Party record's answer did not fit a position")
            return
        command = c.RecordPartyPosition(position=position)
        async with self._lock:
            try:
                events = decide(self.case, command, self._today(), self.calendar)
                cause = f"{position.party_record}:{position.party_version}"
                await self._persist(events, "party_position", "party-record", cause)
            except DomainError as err:
                self._reject(names.PARTY_CHANGED_SIGNAL, None, str(err))

    async def _wait_for_progress_or_dcc_deadline(self) -> None:
        """Sleep until a message changes the case or the next DCC deadline passes."""
        deadline = self._next_dcc_deadline_moment()
        summary = "DCC completion deadline"
        if self.patches.on(CALENDAR_HORIZON_PATCH):
            horizon = self._calendar_horizon()
            if deadline is None or horizon < deadline:
                deadline, summary = horizon, "extend the Working-Day calendar"
        if self.patches.on(STEADY_ALARM_PATCH):
            # one timer kept while the moment stays the same, not one per message
            self._alarm.set(deadline, summary)
            await workflow.wait_condition(
                lambda: self._changed or self.case.status != "open" or self._alarm.rang
            )
            self._changed = False
            return
        timeout = None if deadline is None else max(deadline - workflow.now(), timedelta(0))
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._changed or self.case.status != "open",
                timeout=timeout,
                timeout_summary=summary if timeout is not None else None,
            )
        self._changed = False

    def _calendar_horizon(self) -> datetime:
        """When the calendar snapshot must grow: two years before it runs out."""
        return datetime(self.calendar.last_year - 1, 1, 1, tzinfo=UTC)

    async def _keep_calendar_ahead(self) -> None:
        """Cases can run for years: keep the Working-Day snapshot at least two years ahead."""
        if workflow.now() < self._calendar_horizon():
            return
        if not self.patches.on(CALENDAR_HORIZON_PATCH):
            return
        later = await run_step(
            CaseActivities.load_calendar,
            CalendarRequest(
                region=self.calendar.region,
                first_year=self.calendar.last_year + 1,
                last_year=self._today().year + 6,
            ),
            limit=LOOKUP_TIMEOUT,
            summary="Extend the Working-Day calendar",
        )
        self.run_state.calendar = self.calendar.extended(later)

    async def _record_missed_dcc_deadlines(self) -> None:
        """Record DCC steps past their due date as missed; the case keeps waiting."""
        async with self._lock:
            await self._record_missed_locked()

    async def _record_missed_locked(self) -> list[ev.Event]:
        """Record DCC steps already past due (a backdated fact can make one late at once)."""
        run = self.run_state
        missed = missed_deadlines(run.case, self._today(), set(run.watched_steps))
        await self._persist(missed, "dcc_deadline_check", "uep-timer", None)
        return missed

    async def _notify_through_the_outbox(self) -> None:
        """SECAS notifies the Party, the DCC, Ofgem and the SEC Panel (H1.11, H1.12): each
        notice is queued in the durable outbox, then recorded delivered once its channel has
        taken it; the Panel is informed by an information paper at its meeting, which SECAS
        records (``record_panel_information_paper``)."""
        if self.patches.on(BATCHED_NOTICES_PATCH):
            await self._queue_and_deliver_together()
        else:
            await self._queue_and_deliver_one_by_one()
        self._publish()
        await workflow.wait_condition(lambda: self.case.panel_paper_on is not None)
        if "sec_panel" not in self.case.notified:
            await run_step(
                CaseActivities.mark_notice_delivered,
                DeliveredElsewhere(
                    notice_id=self.case.notices_queued["sec_panel"],
                    channel="panel_information_paper",
                    reference=self.case.panel_paper_reference,
                ),
                limit=APPEND_TIMEOUT,
                summary="The Panel was informed by an information paper",
            )
            await self._decide_and_persist(
                c.RecordNoticeDelivered(
                    recipient="sec_panel",
                    notice_id=self.case.notices_queued["sec_panel"],
                    channel="panel_information_paper",
                    reference=self.case.panel_paper_reference,
                ),
                "notice_delivered",
            )
        self._publish()

    async def _queue_and_deliver_one_by_one(self) -> None:
        """Histories before ``batched-notices-2026-12``: an activity and an append per notice."""
        case = self.case
        for recipient in COMPLETION_RECIPIENTS:
            if recipient in self.case.notices_queued:
                continue
            notice_id = str(workflow.uuid4())
            await run_step(
                CaseActivities.queue_completion_notice,
                _notice(case, recipient, notice_id),
                limit=APPEND_TIMEOUT,
                summary=f"Queue the completion notice to the {recipient}",
            )
            await self._decide_and_persist(
                c.RecordNoticeQueued(recipient=recipient, notice_id=notice_id), "notice_queued"
            )
        for recipient in COMPLETION_RECIPIENTS:
            if recipient == "sec_panel" or recipient in self.case.notified:
                continue
            notice_id = self.case.notices_queued[recipient]
            receipt = await _deliver(recipient, notice_id)
            await self._decide_and_persist(
                _delivered(recipient, notice_id, receipt), "notice_delivered"
            )

    async def _queue_and_deliver_together(self) -> None:
        """Queue every notice not yet queued with one activity and record them with one append;
        then hand the notices to their channels side by side and record the deliveries with
        one append (a channel that is down holds back only the record, never the others'
        delivery)."""
        case = self.case
        queued = [
            _notice(case, recipient, str(workflow.uuid4()))
            for recipient in COMPLETION_RECIPIENTS
            if recipient not in case.notices_queued
        ]
        if queued:
            await run_step(
                CaseActivities.queue_completion_notices,
                QueueNoticesRequest(notices=queued),
                limit=APPEND_TIMEOUT,
                summary="Queue the completion notices to "
                + ", ".join(f"the {n.recipient}" for n in queued),
            )
            await self._decide_and_persist_all(
                [
                    c.RecordNoticeQueued(recipient=n.recipient, notice_id=n.notice_id)
                    for n in queued
                ],
                "notice_queued",
            )
        due = [
            (recipient, self.case.notices_queued[recipient])
            for recipient in COMPLETION_RECIPIENTS
            if recipient != "sec_panel" and recipient not in self.case.notified
        ]
        # tasks start in the order given, so the deliveries are scheduled in that order
        receipts = await asyncio.gather(
            *(_deliver(recipient, notice_id) for recipient, notice_id in due)
        )
        await self._decide_and_persist_all(
            [
                _delivered(recipient, notice_id, receipt)
                for (recipient, notice_id), receipt in zip(due, receipts, strict=True)
            ],
            "notice_delivered",
        )

    async def _decide_and_persist(self, command: c.Command, name: str) -> None:
        """Decide and record an internal step of SECAS's (no sender message behind it)."""
        await self._decide_and_persist_all([command], name)

    async def _decide_and_persist_all(self, commands: list[c.Command], name: str) -> None:
        """Decide SECAS's internal steps one after another (each on the state the ones before
        it leave), and record them with one append."""
        async with self._lock:
            case, events = self.case, []
            for command in commands:
                decided = decide(case, command, self._today(), self.calendar)
                for e in decided:
                    case = evolve(case, e)
                events += decided
            await self._persist(events, name, "SECAS", None)

    async def _send_completion_notices(self) -> None:
        """SECAS notifies the Party, the DCC, Ofgem and the SEC Panel (H1.11, H1.12); cases
        before revision 2 record a notice once it is handed to the log."""
        for recipient in notices_due(self.case):
            await workflow.execute_activity_method(
                CaseActivities.send_completion_notice,
                NoticeRequest(
                    case_id=self.case.case_id,
                    recipient=recipient,
                    party_name=self.case.party.party_name,
                    role_label=self.case.role.label,
                    user_id=self.case.user_id.accepted or "",
                ),
                start_to_close_timeout=NOTICE_TIMEOUT,
                summary=f"Notify the {recipient} of completion",
            )
            async with self._lock:
                events = decide(
                    self.case,
                    c.RecordCompletionNotice(recipient=recipient),
                    self._today(),
                    self.calendar,
                )
                await self._persist(events, "completion_notice", "SECAS", None)
        self._publish()

    # -- messages ------------------------------------------------------------------------

    propose_user_id = update_handler("propose_user_id")
    accept_user_id = update_handler("accept_user_id")
    reject_user_id = update_handler("reject_user_id")
    record_srept_completed = update_handler("record_srept_completed")
    give_uept_notice = update_handler("give_uept_notice")
    confirm_entry_criteria = update_handler("confirm_entry_criteria")
    start_uept = update_handler("start_uept")
    submit_test_completion_report = update_handler("submit_test_completion_report")
    confirm_report_receipt = update_handler("confirm_report_receipt")
    conclude_uept_review = update_handler("conclude_uept_review")
    record_quality_gate_meeting = update_handler("record_quality_gate_meeting")
    issue_test_certificate = update_handler("issue_test_certificate")
    book_security_assessment = update_handler("book_security_assessment")
    complete_security_assessment = update_handler("complete_security_assessment")
    set_security_status = update_handler("set_security_status")
    book_privacy_assessment = update_handler("book_privacy_assessment")
    complete_privacy_assessment = update_handler("complete_privacy_assessment")
    set_privacy_status = update_handler("set_privacy_status")
    notify_credit_cover = update_handler("notify_credit_cover")
    lodge_credit_support = update_handler("lodge_credit_support")
    assess_credit_support = update_handler("assess_credit_support")
    verify_evidence = update_handler("verify_evidence")
    raise_dispute = update_handler("raise_dispute")
    record_panel_determination = update_handler("record_panel_determination")
    refer_dispute_to_ofgem = update_handler("refer_dispute_to_ofgem")
    record_ofgem_determination = update_handler("record_ofgem_determination")
    withdraw = update_handler("withdraw")
    correct_calendar = update_handler("correct_calendar")
    change_rules_version = update_handler("change_rules_version")
    record_panel_information_paper = update_handler("record_panel_information_paper")

    accept_user_id_signal = signal_handler("accept_user_id")
    reject_user_id_signal = signal_handler("reject_user_id")
    record_srept_completed_signal = signal_handler("record_srept_completed")
    confirm_entry_criteria_signal = signal_handler("confirm_entry_criteria")
    start_uept_signal = signal_handler("start_uept")
    confirm_report_receipt_signal = signal_handler("confirm_report_receipt")
    conclude_uept_review_signal = signal_handler("conclude_uept_review")
    record_quality_gate_meeting_signal = signal_handler("record_quality_gate_meeting")
    issue_test_certificate_signal = signal_handler("issue_test_certificate")
    complete_security_assessment_signal = signal_handler("complete_security_assessment")
    set_security_status_signal = signal_handler("set_security_status")
    complete_privacy_assessment_signal = signal_handler("complete_privacy_assessment")
    set_privacy_status_signal = signal_handler("set_privacy_status")
    notify_credit_cover_signal = signal_handler("notify_credit_cover")
    assess_credit_support_signal = signal_handler("assess_credit_support")
    verify_evidence_signal = signal_handler("verify_evidence")
    record_panel_determination_signal = signal_handler("record_panel_determination")
    record_ofgem_determination_signal = signal_handler("record_ofgem_determination")
    record_panel_information_paper_signal = signal_handler("record_panel_information_paper")

    @workflow.query(name=names.STATE_QUERY, description="The whole case as JSON.")
    def state(self) -> CaseView | dict[str, str]:
        """Stage, requirements, who must act, deadlines, disputes, rejected messages, forecast."""
        run = self._run
        if run is None and self._start_error is not None:
            return {"status": "refused", "detail": f"refused at start: {self._start_error}"}
        if run is None:
            return {"status": "opening", "detail": "the case is being opened"}
        return build_view(run.case, self._today(), run.calendar, run.rejected, run.stream_version)

    @workflow.signal(
        name=names.PARTY_CHANGED_SIGNAL,
        description="Internal: the Party record changed; the case reads its position there.",
    )
    async def party_changed(self, *args: Any) -> None:
        """A poke, nothing more: the case reads the position from the record itself, so the
        payload is never trusted (and a stray poke records nothing new)."""
        self._messages += 1
        if self._run is not None and not self.case.party_backed:
            self._reject(
                names.PARTY_CHANGED_SIGNAL, None, "this case keeps its own credit and security"
            )
            return
        self._party_poked = True
        self._changed = True

    @workflow.query(
        name=names.CASE_FACTS_QUERY,
        description="What the Party record records of this case: role, status, User IDs.",
    )
    def party_facts(self) -> dict[str, Any]:
        """The case as its Party record reads it (empty while the case is opening)."""
        if self._run is None:
            return {}
        return facts_for_party_record(self.case)

    @workflow.signal(dynamic=True, description="Any other signal name: refused and listed.")
    async def unknown_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """A signal no handler knows: listed under rejected messages, nothing else."""
        self._messages += 1
        self._reject(name, None, f"unknown signal {shorten(name, 60)!r}; known: {_signal_names()}")

    @workflow.update(dynamic=True, description="Any other update name: refused.")
    async def unknown_update(self, name: str, args: Sequence[RawValue]) -> None:
        """Never runs: the validator refuses every unknown update."""
        raise refusal(f"unknown update {shorten(name, 60)!r}", Refusal.INVALID_INPUT)

    @unknown_update.validator
    def _refuse_unknown_update(self, name: str, args: Sequence[RawValue]) -> None:
        raise refusal(
            f"unknown update {shorten(name, 60)!r}; known: {', '.join(sorted(c.MESSAGES))}",
            Refusal.INVALID_INPUT,
        )

    def _validate(self, name: str, args: tuple[Any, ...]) -> None:
        """Refuse bad input before it reaches history: shape first, then the domain rules."""
        command = parse_message(name, args)
        if self._start_error is not None:
            raise refusal(f"the case could not open: {self._start_error}", Refusal.INVALID_INPUT)
        run = self._run
        if run is None:
            return  # still opening: the handler waits for the case and decides then
        if self._is_repeat(run, name, command):
            return  # a repeat is answered with the first result, changing nothing
        try:
            decide(run.case, command, self._today(), run.calendar)
        except DomainError as err:
            raise domain_refusal(err) from None

    def _is_repeat(self, run: CarriedState, name: str, command: c.Command) -> bool:
        """Whether the message repeats one already applied; a refusal if its id was used for
        a different message (idempotency keys on the id and the content)."""
        message_id = command.message_id
        if not message_id or message_id not in run.seen_messages:
            return False
        first = run.seen_fingerprints.get(message_id)
        if first is not None and first != fingerprint(name, command):
            raise refusal(
                f"{name}: message_id {shorten(message_id, 64)!r} was already used for another "
                f"message ({first.partition(':')[0]} with other content); a repeat must be the "
                "same message, a new message needs a new message_id",
                Refusal.DUPLICATE_CONFLICT,
            )
        return True

    async def _apply_update(self, name: str, args: tuple[Any, ...]) -> UpdateResult:
        self._messages += 1
        return await self._order.serve(lambda ticket: self._update_in_order(name, args, ticket))

    async def _update_in_order(
        self, name: str, args: tuple[Any, ...], ticket: int | None
    ) -> UpdateResult:
        command = parse_message(name, args)
        if self._serial_opening:
            await self._opened()
        origin = await update_origin(name)
        await workflow.wait_condition(lambda: self._run is not None)
        await self._order.turn(ticket)
        async with self._lock:
            run = self.run_state
            if self._is_repeat(run, name, command):
                assert command.message_id is not None
                return self._result(run.seen_messages[command.message_id], duplicate=True)
            try:
                events = decide(run.case, command, self._today(), run.calendar)
                await self._persist(
                    events,
                    name,
                    origin.actor(command.actor or "operator"),
                    command.message_id,
                    origin,
                )
                events += await self._record_missed_locked()
            except DomainError as err:
                raise domain_refusal(err) from None
            except (ApplicationError, ActivityError):
                raise
            except Exception as err:  # never fail the workflow task: the case must go on
                workflow.logger.exception("update %s failed unexpectedly", name)
                raise refusal(
                    f"{name}: not recorded: {type(err).__name__}", Refusal.INTERNAL
                ) from None
            if isinstance(command, c.CorrectCalendar):
                run.calendar = run.calendar.corrected(command.add_holidays, command.remove_holidays)
            types: list[str] = [e.type for e in events]
            self._remember(run, name, command, types)
            return self._result(types)

    async def _opened(self) -> None:
        """Until the workflow has opened (or its start was refused)."""
        await workflow.wait_condition(
            lambda: self._run is not None or self._start_error is not None
        )

    def _remember(self, run: CarriedState, name: str, command: c.Command, types: list[str]) -> None:
        """Remember an applied message by its id and content, so a repeat changes nothing."""
        if command.message_id:
            run.seen_messages[command.message_id] = types
            run.seen_fingerprints[command.message_id] = fingerprint(name, command)

    async def _apply_signal(self, name: str, args: tuple[Any, ...]) -> None:
        self._messages += 1
        await self._order.serve(lambda ticket: self._signal_in_order(name, args, ticket))

    async def _signal_in_order(self, name: str, args: tuple[Any, ...], ticket: int | None) -> None:
        try:
            command = parse_message(name, args)
        except ApplicationError as err:
            self._reject(name, message_id_of(args), err.message)
            return
        if not command.message_id:
            self._reject(
                name, None, f"{name}: message_id is required on a signal, so a repeat is harmless"
            )
            return
        if self._serial_opening:
            await self._opened()
        try:
            origin = await signal_origin(name, command.message_id)
        except ApplicationError as err:
            self._reject(name, command.message_id, err.message)
            return
        await workflow.wait_condition(lambda: self._run is not None)
        await self._order.turn(ticket)
        async with self._lock:
            run = self.run_state
            try:
                if self._is_repeat(run, name, command):
                    run.duplicates_ignored += 1
                    self._reject(
                        name, command.message_id, "already applied (a repeat of this message_id)"
                    )
                    return
                events = decide(run.case, command, self._today(), run.calendar)
                await self._persist(
                    events,
                    name,
                    origin.actor(command.actor or "system"),
                    command.message_id,
                    origin,
                )
                events += await self._record_missed_locked()
            except DomainError as err:
                self._reject(name, command.message_id, str(err))
                return
            except (ActivityError, ApplicationError) as err:
                cause = err.cause if isinstance(err, ActivityError) else err
                self._reject(name, command.message_id, str(cause or err))
                return
            except Exception as err:  # never fail the workflow task: the case must go on
                workflow.logger.exception("signal %s failed unexpectedly", name)
                self._reject(name, command.message_id, f"not recorded: {type(err).__name__}")
                return
            self._remember(run, name, command, [e.type for e in events])

    def _reject(self, name: str, message_id: str | None, error: str) -> None:
        """List a refused signal (bounded) and wake the main loop, which rolls the run over
        when refused messages have made its history long."""
        workflow.logger.warning("signal %s refused: %s", shorten(name, 60), shorten(error, 300))
        entry = RejectedMessage(
            name=shorten(name, 60),
            message_id=None if message_id is None else shorten(message_id, 64),
            received_at=workflow.now(),
            error=shorten(error, 500),
        )
        if self._run is None:
            self._rejected_while_opening = [*self._rejected_while_opening, entry][-REJECTED_KEPT:]
        else:
            self._run.rejected = [*self._run.rejected, entry][-REJECTED_KEPT:]
        self._changed = True

    def _result(self, types: list[str], duplicate: bool = False) -> UpdateResult:
        return UpdateResult(
            duplicate=duplicate,
            events=types,
            stage=str(stage(self.case)),
            stream_version=self.run_state.stream_version,
            message="already applied: this message id was seen before" if duplicate else "",
            position=None if duplicate else self._position,
        )

    # -- persistence and publishing ------------------------------------------------------

    async def _persist(
        self,
        events: list[ev.Event],
        command: str,
        actor: str,
        causation: str | None,
        origin: Origin = LEGACY,
    ) -> None:
        """Append the events through the activity, then, and only then, evolve the state."""
        if not events:
            return
        run = self.run_state
        appended = await self._append(
            events, run.case, run.stream_version, command, actor, causation, origin
        )
        run.stream_version = appended.last_version
        if appended.positions:
            self._position = appended.positions[-1]
        for e in events:
            run.case = evolve(run.case, e)
        self._after_append()

    async def _append(
        self,
        events: list[ev.Event],
        case: CaseState | None,
        expected_version: int,
        command: str,
        actor: str,
        causation: str | None,
        origin: Origin = LEGACY,
    ) -> AppendResult:
        """Append decided events (and the User ID claims they make) after ``expected_version``."""
        info = workflow.info()
        metadata = event_metadata(command, actor, causation, origin)
        new = [
            NewEvent(
                event_id=workflow.uuid4(),
                type=e.type,
                schema_version=type(e).schema_version,
                data=ev.event_to_data(e),
                metadata=metadata,
            )
            for e in events
        ]
        # Claims follow a proposal, rejection or withdrawal: the case is open by then.
        claims = [
            UserIdClaimChange(
                action=action, user_id=uid, party_id=case.party.party_id, role=case.role
            )
            for action, uid in user_id_claims(case, events)
            if case is not None
        ]
        try:
            return await append(
                AppendRequest(
                    stream_id=info.workflow_id,
                    expected_version=expected_version,
                    events=new,
                    claims=claims,
                ),
                limit=APPEND_TIMEOUT,
                summary=", ".join(e.type for e in events),
            )
        except ActivityError as err:
            # The store refused (a User ID conflict, another writer): nothing was recorded and
            # the state did not evolve; the caller hears the store's reason, not "activity failed".
            cause = err.cause
            if isinstance(cause, ApplicationError):
                kind = _STORE_REFUSALS.get(cause.type or "", Refusal.STORE_REFUSED)
                raise refusal(cause.message, kind) from None
            raise

    def _after_append(self) -> None:
        """Watch the DCC steps now open, wake the main loop and publish the new stage."""
        run = self.run_state
        watched = set(run.watched_steps) | watchable_steps(run.case, self._today())
        run.watched_steps = sorted(watched)
        self._changed = True
        self._publish()

    def _publish(self) -> None:
        """Upsert the search attributes and details when the stage or next deadline changes."""
        case = self.case
        nd = next_deadline(case)
        mandate = case.mandate_due_on
        attrs = (str(stage(case)), nd, mandate)
        if attrs == self._search_attrs:
            return
        self._search_attrs = attrs
        updates: list[SearchAttributeUpdate[Any]] = [
            names.SA_PARTY_ID.value_set(case.party.party_id),
            names.SA_PARTY_NAME.value_set(case.party.party_name),
            names.SA_PARTY_CATEGORY.value_set(str(case.party.category)),
            names.SA_ROLE.value_set(str(case.role)),
            names.SA_STAGE.value_set(str(stage(case))),
            names.SA_NEXT_DEADLINE.value_set(_midnight(nd))
            if nd
            else names.SA_NEXT_DEADLINE.value_unset(),
            names.SA_MANDATE_DATE.value_set(_midnight(mandate))
            if mandate
            else names.SA_MANDATE_DATE.value_unset(),
        ]
        workflow.upsert_search_attributes(updates)
        waiting = "\n".join(
            f"- **{i.who}**: {i.what}"
            for i in build_view(case, self._today(), self.calendar).outstanding
        )
        headline = f"**{case_summary(case)}** - stage: {stage(case).label}"
        workflow.set_current_details(f"{headline}\n\nWaiting for:\n{waiting or '- nothing'}")

    # -- time ----------------------------------------------------------------------------

    def _today(self) -> date:
        return workflow.now().date()

    def _next_dcc_deadline_moment(self) -> datetime | None:
        """When the soonest open DCC step becomes late: the end of its due day (UTC)."""
        due = next_dcc_due(self.case, set(self.run_state.watched_steps))
        return None if due is None else _midnight(due + timedelta(days=1))

    def _history_is_long(self, params: WorkflowInput) -> bool:
        """Whether the run should hand over: long or large history (refused messages count)."""
        info = workflow.info()
        if self._legacy_history_limit is not None:  # only histories from before December 2026
            return (
                info.get_current_history_length() >= self._legacy_history_limit
                or info.is_continue_as_new_suggested()
            )
        if self.patches.on(limits.COUNTED_ROLLOVER_PATCH):
            long = limits.run_is_full(
                _events_limit(), self._messages, self._alarm.rings, params.continued is not None
            )
        else:  # histories from before the count: as they ran
            long = info.get_current_history_length() >= _events_limit()
        return (
            long
            or info.get_current_history_size() >= limits.HISTORY_BYTES_LIMIT
            or info.is_continue_as_new_suggested()
        )

    async def _continue_as_new(self, params: WorkflowInput) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        next_input = params.model_copy(update={"continued": self.run_state})
        workflow.continue_as_new(next_input.model_dump(mode="json"))

    @property
    def run_state(self) -> CarriedState:
        """The run's state (present once the case is open)."""
        assert self._run is not None, "the case is not open yet"
        return self._run

    @property
    def case(self) -> CaseState:
        """The folded case state (present once the case is open)."""
        return self.run_state.case

    @property
    def calendar(self) -> WorkingDayCalendar:
        """The Working-Day calendar snapshot held in history."""
        return self.run_state.calendar


_STORE_REFUSALS: dict[str, Refusal] = {
    StoreRefusal.USER_ID_CONFLICT: Refusal.USER_ID_CONFLICT,
    StoreRefusal.UNSTORABLE: Refusal.UNSTORABLE,
}
"""How the store's refusals reach the sender (anything else: the store refused)."""


def _events_limit() -> int:
    """The run's event limit: the code's, or a lower one from the case's memo (in history)."""
    lowered = workflow.memo_value(limits.MEMO_EVENTS_LIMIT, default=None)
    if isinstance(lowered, int) and not isinstance(lowered, bool):
        return max(limits.MEMO_EVENTS_FLOOR, min(lowered, limits.HISTORY_EVENTS_LIMIT))
    return limits.HISTORY_EVENTS_LIMIT


def _signal_names() -> str:
    return ", ".join(sorted(name for name, m in c.MESSAGES.items() if m.signal))


def _notice(case: CaseState, recipient: str, notice_id: str) -> QueueNoticeRequest:
    """The completion notice to ``recipient`` of a completed case, for the outbox."""
    return QueueNoticeRequest(
        notice_id=notice_id,
        case_id=case.case_id,
        recipient=recipient,
        party_name=case.party.party_name,
        role_label=case.role.label,
        user_id=case.user_id.accepted or "",
        completed_on=case.completed_on.isoformat() if case.completed_on else "",
    )


async def _deliver(recipient: str, notice_id: str) -> DeliveryReceipt:
    """Hand a queued notice to its channel (tried again, less and less often, until it takes it)."""
    receipt: DeliveryReceipt = await workflow.execute_activity_method(
        CaseActivities.deliver_completion_notice,
        notice_id,
        start_to_close_timeout=NOTICE_TIMEOUT,
        retry_policy=DELIVERY_RETRY,
        summary=f"Deliver the completion notice to the {recipient}",
    )
    return receipt


def _delivered(recipient: str, notice_id: str, receipt: DeliveryReceipt) -> c.RecordNoticeDelivered:
    """SECAS's record that ``recipient``'s notice reached it through its channel."""
    return c.RecordNoticeDelivered(
        recipient=recipient,
        notice_id=notice_id,
        channel=receipt.channel or "channel",
        reference=shorten(receipt.reference, 200),
    )


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=UTC)
