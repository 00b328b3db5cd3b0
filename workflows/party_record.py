"""The PartyRecord workflow: one durable record per SEC Party (workflow ``uep-party-<id>``).

It holds what belongs to the Party rather than to one role (SEC H1.4-H1.6, H1.10(c), H1.10(e),
J3): the profile, the User ID ranges, Credit Support and the security assessments. Role cases
(revision 3) open it by signal-with-start and poke it when they move on; it reads each case from
the case's event stream and records what it finds. When its credit or security position for a
role changes it pokes that role's open case, which reads the position from the record's stream
and records it in its own (``store-reads-2026-12``; older histories read each other by a query,
which waited for the other workflow's task). A timer fires on the day a held instrument stops
counting (a Bank Guarantee a month before it expires) and the record tells every open case at
once.

The record lives while any role case is open or the Party holds Credit Support; a later case
opens it again, and it folds its own event stream back into state.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.case import AppendRequest
    from activities.coordination import CoordinationActivities, QueryRequest
    from domain import commands as c
    from domain.errors import DomainError
    from domain.party import commands as pc
    from domain.party import events as pe
    from domain.party.decider import decide_party, open_party
    from domain.party.position import PartyPosition
    from domain.party.state import (
        PartyState,
        evolve_party,
        fold_party,
        fold_party_stored,
        lapses_due,
        next_lapse,
        position_for,
        review_due_on,
    )
    from domain.party.view import PartyView, build_party_view
    from domain.roles import UserRole
    from domain.view import RejectedMessage
    from eventstore.models import AppendResult, NewEvent
    from workflows import limits, names
    from workflows.alarm import STEADY_ALARM_PATCH, Alarm
    from workflows.errors import Refusal, domain_refusal, refusal, shorten
    from workflows.messages import (
        fingerprint,
        format_validation_error,
        message_id_of,
        parse_message,
        signal_handler,
        single_argument,
        update_handler,
    )
    from workflows.party_io import PartyCarried, PartyRecordStart, PartyResult, PartyUpdateResult
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

APPEND_TIMEOUT = timedelta(seconds=30)
READ_TIMEOUT = timedelta(seconds=30)
REJECTED_KEPT = 50
SEEN_KEPT = 2000
"""Message ids remembered for idempotency (the newest); a record lives for years."""
OWNER = "PartyRecord"
RECORD_ATTRIBUTES_PATCH = "record-attributes-on-change-2026-12"
"""The record upserts its search attributes only when one of them changes; what only the Web
UI's details show (roles, what is outstanding) no longer upserts them. Older histories
upserted on every change of the details."""
TOLD_ON_NEWS_PATCH = "told-on-news-2026-12"
"""An open role case reporting that it moved on (more User IDs, or closed) is not told its
position again unless the position changed; older histories told it again after every report."""


@workflow.defn(name=names.PARTY_WORKFLOW_TYPE)
class PartyRecord:
    """The record of one SEC Party and what its role cases take from it."""

    @workflow.init
    def __init__(self, *args: Any) -> None:
        self.patches: Patches = decide_epoch()  # first: every patch question goes through it
        self._input: PartyRecordStart | None = None
        self._start_error: str | None = None
        try:
            self._input = self._read_input(args)
        except ApplicationError as err:
            self._start_error = err.message
        self._run: PartyCarried | None = None
        self._lock = asyncio.Lock()
        self._changed = False
        self._alarm = Alarm()
        self._position: int | None = None  # of this run's last append, for an update's answer
        self._messages = 0  # signals and accepted updates this run took (limits.run_is_full)
        start = decide_run_start(
            (
                SIGNED_SENDERS_PATCH,
                UI_IDENTITY_PATCH,
                REGULAR_STEPS_PATCH,
                STEADY_ALARM_PATCH,
                limits.COUNTED_ROLLOVER_PATCH,
                REGULAR_SENDER_CHECK_PATCH,
                RECORD_ATTRIBUTES_PATCH,
                STORE_READS_PATCH,
                TOLD_ON_NEWS_PATCH,
            ),
            self.patches,
        )
        self._serial_opening, self._order = start.serial_opening, start.order
        self._pending_rejected: list[RejectedMessage] = []
        self._published: tuple[object, ...] = ()
        self._attributes: tuple[object, ...] = ()  # the search attributes last upserted

    # -- the record ---------------------------------------------------------------------

    @workflow.run
    async def run(self, *args: Any) -> PartyResult:
        """Open (or reopen) the record and keep it until nothing needs it any more."""
        if self._input is None:
            raise refusal(self._start_error or "no input", Refusal.INVALID_INPUT)
        await self._open(self._input)
        while True:
            async with self._lock:
                await self._record_lapses()
                await self._tell_cases()
            self._publish()
            if self._may_close():
                # a role case may have opened just now (its poke still being read): close only
                # when that is done and the record is still not needed
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._may_close():
                    break
                continue
            if self._history_is_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                carried = self._input.model_copy(update={"continued": self.run_state})
                workflow.continue_as_new(carried.model_dump(mode="json"))
            await self._wait()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PartyResult(
            party_id=self.state.party_id,
            stream_version=self.run_state.stream_version,
            cases=len(self.state.cases),
        )

    def _read_input(self, args: tuple[Any, ...]) -> PartyRecordStart:
        raw = single_argument("start input", args)
        info = workflow.info()
        try:
            if isinstance(raw, dict) and "continued" in raw and info.continued_run_id:
                params = PartyRecordStart.model_validate(raw)
            else:
                params = PartyRecordStart.model_validate(
                    pc.PartyRecordInput.model_validate(raw).model_dump()
                )
        except ValidationError as err:
            raise refusal(
                "start input: " + format_validation_error(err), Refusal.INVALID_INPUT
            ) from None
        expected = names.party_record_id(params.party.party_id)
        if info.workflow_id != expected:
            raise refusal(
                f"workflow id must be {expected!r} for this Party "
                f"(got {shorten(info.workflow_id, 100)!r})",
                Refusal.INVALID_INPUT,
            )
        return params

    async def _open(self, params: PartyRecordStart) -> None:
        """Resume a continued run, fold a stream already written, or open a new record."""
        if params.continued is not None:
            self._run = params.continued.model_copy(deep=True)
            return
        stream = workflow.info().workflow_id
        facts = await run_step(
            CoordinationActivities.read_stream_facts,
            stream,
            limit=READ_TIMEOUT,
            summary="Read the Party record's event stream",
        )
        if facts.events:
            state = fold_party_stored(facts.events)
            assert state is not None
            seen: dict[str, list[str]] = {}
            for f in facts.events:
                if f.message_id:
                    seen.setdefault(f.message_id, []).append(f.type)
            self._run = PartyCarried(
                state=state,
                stream_version=facts.events[-1].version,
                last_event=facts.events[-1].type,
                seen_messages=seen,
                rejected=self._pending_rejected,
            )
            return
        try:
            opened = open_party(params, self._today())
        except DomainError as err:
            raise domain_refusal(err) from None
        appended = await self._append(opened, 0, "open", "uep", None)
        state = fold_party(opened)
        assert state is not None
        self._run = PartyCarried(
            state=state,
            stream_version=appended.last_version,
            last_event=_type_of(opened[-1]),
            rejected=self._pending_rejected,
        )

    async def _wait(self) -> None:
        """Sleep until a message arrives, an instrument stops counting, or a review falls due."""
        moments = [d for d in (next_lapse(self.state), self._review_wake()) if d is not None]
        timeout = None
        summary = None
        if moments:
            wake = _midnight(min(moments))
            timeout = max(wake - workflow.now(), timedelta(0))
            summary = "an instrument stops counting or the monthly review falls due"
        if self.patches.on(STEADY_ALARM_PATCH):
            # one timer kept while the moment stays the same, not one per message
            self._alarm.set(_midnight(min(moments)) if moments else None, summary)
            await workflow.wait_condition(lambda: self._changed or self._alarm.rang)
            self._changed = False
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._changed, timeout=timeout, timeout_summary=summary
            )
        self._changed = False

    def _review_wake(self) -> date | None:
        due = review_due_on(self.state)
        return due if due is not None and due > self._today() else None

    async def _record_lapses(self) -> None:
        """Record each held instrument that has stopped counting (the record's own timer)."""
        lapses: list[pe.PartyEvent] = list(lapses_due(self.state, self._today()))
        if lapses:
            await self._persist(lapses, "credit_timer", "uep-timer", None)

    async def _tell_cases(self) -> None:
        """Poke every open role case whose position has changed since it was last told."""
        run = self.run_state
        today = self._today()
        for case in self.state.open_cases():
            position = position_for(self.state, case.role, today, run.stream_version)
            digest = _digest(position)
            if run.told.get(case.case_id) == digest:
                continue
            handle = workflow.get_external_workflow_handle(case.case_id)
            try:
                await handle.signal(
                    names.PARTY_CHANGED_SIGNAL, {"party_version": run.stream_version}
                )
            except Exception as err:  # a case closed or gone: it needs no news
                workflow.logger.warning("could not tell %s: %s", case.case_id, err)
            run.told[case.case_id] = digest

    def _may_close(self) -> bool:
        """Close when every role case has closed and no Credit Support is held."""
        state = self.state
        held = any(i.status == "lodged" for i in state.instruments)
        return bool(state.cases) and not state.open_cases() and not held

    def _history_is_long(self) -> bool:
        """Whether the run should hand over (limits.run_is_full says why it counts)."""
        info = workflow.info()
        if self.patches.on(limits.COUNTED_ROLLOVER_PATCH):
            continued = self._input is not None and self._input.continued is not None
            long = limits.run_is_full(
                limits.HISTORY_EVENTS_LIMIT, self._messages, self._alarm.rings, continued
            )
        else:  # histories from before the count: as they ran
            long = info.get_current_history_length() >= limits.HISTORY_EVENTS_LIMIT
        return (
            long
            or info.get_current_history_size() >= limits.HISTORY_BYTES_LIMIT
            or info.is_continue_as_new_suggested()
        )

    # -- messages ------------------------------------------------------------------------

    change_profile = update_handler("change_profile", pc.PARTY_MESSAGES, OWNER)
    allocate_user_id_range = update_handler("allocate_user_id_range", pc.PARTY_MESSAGES, OWNER)
    notify_party_credit_cover = update_handler(
        "notify_party_credit_cover", pc.PARTY_MESSAGES, OWNER
    )
    lodge_instrument = update_handler("lodge_instrument", pc.PARTY_MESSAGES, OWNER)
    withdraw_instrument = update_handler("withdraw_instrument", pc.PARTY_MESSAGES, OWNER)
    replace_instrument = update_handler("replace_instrument", pc.PARTY_MESSAGES, OWNER)
    report_instrument = update_handler("report_instrument", pc.PARTY_MESSAGES, OWNER)
    assess_party_credit = update_handler("assess_party_credit", pc.PARTY_MESSAGES, OWNER)
    book_party_security_assessment = update_handler(
        "book_party_security_assessment", pc.PARTY_MESSAGES, OWNER
    )
    complete_party_security_assessment = update_handler(
        "complete_party_security_assessment", pc.PARTY_MESSAGES, OWNER
    )
    set_party_security_status = update_handler(
        "set_party_security_status", pc.PARTY_MESSAGES, OWNER
    )

    notify_party_credit_cover_signal = signal_handler(
        "notify_party_credit_cover", pc.PARTY_MESSAGES, OWNER
    )
    report_instrument_signal = signal_handler("report_instrument", pc.PARTY_MESSAGES, OWNER)
    assess_party_credit_signal = signal_handler("assess_party_credit", pc.PARTY_MESSAGES, OWNER)
    complete_party_security_assessment_signal = signal_handler(
        "complete_party_security_assessment", pc.PARTY_MESSAGES, OWNER
    )
    set_party_security_status_signal = signal_handler(
        "set_party_security_status", pc.PARTY_MESSAGES, OWNER
    )

    @workflow.signal(
        name=names.ROLE_CASE_SIGNAL,
        description="Internal: a role case of the Party opened or moved on; the record reads it.",
    )
    async def role_case(self, *args: Any) -> None:
        """Read the case named by the poke and record where it stands (its own query)."""
        self._messages += 1
        case_id = _case_id_of(args)
        if case_id is None or not case_id.startswith(f"uep-{self._party_id()}-"):
            self._reject(names.ROLE_CASE_SIGNAL, None, "role_case: no case of this Party named")
            return
        await workflow.wait_condition(lambda: self._run is not None)
        if self.patches.on(STORE_READS_PATCH):  # its stream: no wait for the case's task
            facts = await workflow.execute_activity_method(
                CoordinationActivities.read_case_facts,
                case_id,
                start_to_close_timeout=READ_TIMEOUT,
                summary=f"Read role case {case_id} from its stream",
            )
        else:  # older histories asked the case by a query
            facts = await workflow.execute_activity_method(
                CoordinationActivities.query_workflow,
                QueryRequest(workflow_id=case_id, query=names.CASE_FACTS_QUERY),
                start_to_close_timeout=READ_TIMEOUT,
                summary=f"Read role case {case_id}",
            )
        if not facts or facts.get("party_id") != self._party_id():
            self._reject(names.ROLE_CASE_SIGNAL, None, f"role_case: {case_id} is not readable")
            return
        try:
            command = pc.RecordRoleCase(
                role=UserRole(facts["role"]),
                case_id=case_id,
                status=facts["status"],
                user_ids=list(facts.get("user_ids", [])),
            )
        except (ValidationError, ValueError, KeyError) as err:
            self._reject(names.ROLE_CASE_SIGNAL, None, f"role_case: {type(err).__name__}")
            return
        if case_id != names.workflow_id(self._party_id(), str(command.role)):
            self._reject(names.ROLE_CASE_SIGNAL, None, f"role_case: {case_id} is not its role")
            return
        async with self._lock:
            known = next((x for x in self.state.cases if x.case_id == case_id), None)
            moved_on = (  # an open case that took more User IDs, or closed: nothing lost
                known is not None
                and known.status == "open"
                and set(known.user_ids) <= set(command.user_ids)
            )
            try:
                events = decide_party(self.state, command, self._today())
                await self._persist(events, names.ROLE_CASE_SIGNAL, "uep", None)
            except (DomainError, ApplicationError, ActivityError) as err:
                self._reject(names.ROLE_CASE_SIGNAL, None, str(err))
                return
            if not (self.patches.on(TOLD_ON_NEWS_PATCH) and moved_on and events):
                # a case new to the record, one asking again (a new run, a retried tell), or a
                # new case in place of one that never reported closing (terminated): tell it its
                # position (again); an open case reporting that it moved on needs only news
                self.run_state.told.pop(case_id, None)
        self._changed = True

    @workflow.query(name=names.STATE_QUERY, description="The whole Party record as JSON.")
    def state_view(self) -> PartyView | dict[str, str]:
        """Profile, roles and cases, credit, instruments, security, User IDs, what is left."""
        if self._run is None:
            if self._start_error is not None:
                return {"status": "refused", "detail": f"refused at start: {self._start_error}"}
            return {"status": "opening", "detail": "the Party record is being opened"}
        return build_party_view(self.state, self._today(), self.run_state.stream_version)

    @workflow.query(
        name=names.POSITION_QUERY,
        description="The credit and security positions for a role on a day: "
        '{"role": "gas_supplier", "on": "2026-12-01"}.',
    )
    def position(self, *args: Any) -> PartyPosition | None:
        """What a role case takes from the record, judged on the day it asks about."""
        if self._run is None or len(args) != 1 or not isinstance(args[0], dict):
            return None
        try:
            role = UserRole(str(args[0].get("role")))
            on = date.fromisoformat(str(args[0].get("on")))
        except ValueError:
            return None
        return position_for(
            self.state, role, on, self.run_state.stream_version, self.run_state.last_event
        )

    @workflow.signal(dynamic=True, description="Any other signal name: refused and listed.")
    async def unknown_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """A signal no handler knows: listed under rejected messages, nothing else."""
        self._messages += 1
        self._reject(name, None, f"unknown signal {shorten(name, 60)!r}")

    @workflow.update(dynamic=True, description="Any other update name: refused.")
    async def unknown_update(self, name: str, args: Sequence[RawValue]) -> None:
        """Never runs: the validator refuses every unknown update."""
        raise refusal(f"unknown update {shorten(name, 60)!r}", Refusal.INVALID_INPUT)

    @unknown_update.validator
    def _refuse_unknown_update(self, name: str, args: Sequence[RawValue]) -> None:
        known = ", ".join(sorted(pc.PARTY_MESSAGES))
        raise refusal(
            f"unknown update {shorten(name, 60)!r}; a Party record takes: {known}",
            Refusal.INVALID_INPUT,
        )

    def _validate(self, name: str, args: tuple[Any, ...]) -> None:
        """Refuse bad input before it reaches history: shape first, then the record's rules."""
        command = parse_message(name, args, pc.PARTY_MESSAGES)
        if self._start_error is not None:
            raise refusal(f"the record could not open: {self._start_error}", Refusal.INVALID_INPUT)
        run = self._run
        if run is None or self._is_repeat(run, name, command):
            return
        try:
            decide_party(run.state, command, self._today())
        except DomainError as err:
            raise domain_refusal(err) from None

    def _is_repeat(self, run: PartyCarried, name: str, command: c.Command) -> bool:
        message_id = command.message_id
        if not message_id or message_id not in run.seen_messages:
            return False
        first = run.seen_fingerprints.get(message_id)
        if first is not None and first != fingerprint(name, command):
            raise refusal(
                f"{name}: message_id {shorten(message_id, 64)!r} was already used for another "
                "message; a repeat must be the same message, a new message needs a new id",
                Refusal.DUPLICATE_CONFLICT,
            )
        return True

    async def _apply_update(self, name: str, args: tuple[Any, ...]) -> PartyUpdateResult:
        self._messages += 1
        return await self._order.serve(lambda ticket: self._update_in_order(name, args, ticket))

    async def _update_in_order(
        self, name: str, args: tuple[Any, ...], ticket: int | None
    ) -> PartyUpdateResult:
        command = parse_message(name, args, pc.PARTY_MESSAGES)
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
                events = decide_party(run.state, command, self._today())
                await self._persist(
                    events,
                    name,
                    origin.actor(command.actor or "operator"),
                    command.message_id,
                    origin,
                )
            except DomainError as err:
                raise domain_refusal(err) from None
            except (ApplicationError, ActivityError):
                raise
            except Exception as err:  # never fail the workflow task: the record must go on
                workflow.logger.exception("update %s failed unexpectedly", name)
                raise refusal(
                    f"{name}: not recorded: {type(err).__name__}", Refusal.INTERNAL
                ) from None
            types = [_type_of(e) for e in events]
            self._remember(run, name, command, types)
            return self._result(types)

    async def _opened(self) -> None:
        """Until the workflow has opened (or its start was refused)."""
        await workflow.wait_condition(
            lambda: self._run is not None or self._start_error is not None
        )

    async def _apply_signal(self, name: str, args: tuple[Any, ...]) -> None:
        self._messages += 1
        await self._order.serve(lambda ticket: self._signal_in_order(name, args, ticket))

    async def _signal_in_order(self, name: str, args: tuple[Any, ...], ticket: int | None) -> None:
        try:
            command = parse_message(name, args, pc.PARTY_MESSAGES)
        except ApplicationError as err:
            self._reject(name, message_id_of(args), err.message)
            return
        if not command.message_id:
            self._reject(name, None, f"{name}: message_id is required on a signal")
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
                    self._reject(name, command.message_id, "already applied (a repeat)")
                    return
                events = decide_party(run.state, command, self._today())
                await self._persist(
                    events,
                    name,
                    origin.actor(command.actor or "system"),
                    command.message_id,
                    origin,
                )
            except (DomainError, ApplicationError) as err:
                self._reject(name, command.message_id, str(err))
                return
            except ActivityError as err:
                self._reject(name, command.message_id, str(err.cause or err))
                return
            except Exception as err:  # never fail the workflow task
                workflow.logger.exception("signal %s failed unexpectedly", name)
                self._reject(name, command.message_id, f"not recorded: {type(err).__name__}")
                return
            self._remember(run, name, command, [_type_of(e) for e in events])

    def _remember(self, run: PartyCarried, name: str, command: c.Command, types: list[str]) -> None:
        if command.message_id:
            run.seen_messages[command.message_id] = types
            run.seen_fingerprints[command.message_id] = fingerprint(name, command)
            for old in list(run.seen_messages)[:-SEEN_KEPT]:
                run.seen_messages.pop(old, None)
                run.seen_fingerprints.pop(old, None)

    def _reject(self, name: str, message_id: str | None, error: str) -> None:
        workflow.logger.warning(
            "party signal %s refused: %s", shorten(name, 60), shorten(error, 300)
        )
        entry = RejectedMessage(
            name=shorten(name, 60),
            message_id=None if message_id is None else shorten(message_id, 64),
            received_at=workflow.now(),
            error=shorten(error, 500),
        )
        if self._run is None:
            self._pending_rejected = [*self._pending_rejected, entry][-REJECTED_KEPT:]
        else:
            self._run.rejected = [*self._run.rejected, entry][-REJECTED_KEPT:]
        self._changed = True

    def _result(self, types: list[str], duplicate: bool = False) -> PartyUpdateResult:
        return PartyUpdateResult(
            duplicate=duplicate,
            events=types,
            stream_version=self.run_state.stream_version,
            message="already applied: this message id was seen before" if duplicate else "",
            position=None if duplicate else self._position,
        )

    # -- persistence and publishing ------------------------------------------------------

    async def _persist(
        self,
        events: Sequence[pe.PartyEvent],
        command: str,
        actor: str,
        causation: str | None,
        origin: Origin = LEGACY,
    ) -> None:
        """Append, then (and only then) evolve the record."""
        if not events:
            return
        run = self.run_state
        appended = await self._append(events, run.stream_version, command, actor, causation, origin)
        run.stream_version = appended.last_version
        if appended.positions:
            self._position = appended.positions[-1]
        for e in events:
            run.state = evolve_party(run.state, e)
        run.last_event = _type_of(events[-1])
        self._changed = True

    async def _append(
        self,
        events: Sequence[pe.PartyEvent],
        expected_version: int,
        command: str,
        actor: str,
        causation: str | None,
        origin: Origin = LEGACY,
    ) -> AppendResult:
        info = workflow.info()
        metadata = event_metadata(command, actor, causation, origin)
        new = [
            NewEvent(
                event_id=workflow.uuid4(),
                type=_type_of(e),
                schema_version=type(e).schema_version,
                data=pe.party_event_to_data(e),
                metadata=metadata,
            )
            for e in events
        ]
        try:
            return await append(
                AppendRequest(
                    stream_id=info.workflow_id, expected_version=expected_version, events=new
                ),
                limit=APPEND_TIMEOUT,
                summary=", ".join(_type_of(e) for e in events),
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                raise refusal(cause.message, Refusal.STORE_REFUSED) from None
            raise

    def _publish(self) -> None:
        """Search attributes and the Web UI's details, when what they show has changed."""
        state = self.state
        today = self._today()
        view = build_party_view(state, today, self.run_state.stream_version)
        roles = ", ".join(f"{r.role_label} ({r.status})" for r in view.roles) or "no role yet"
        stage = "party_ready" if not view.outstanding else "party_waiting"
        nxt = view.credit.valid_until or view.review_due_on
        shown = (stage, roles, tuple(t.what for t in view.outstanding), nxt)
        if shown == self._published:
            return
        self._published = shown
        attributes = (state.party_id, state.profile.party_name, state.profile.category, stage, nxt)
        if attributes != self._attributes or not self.patches.on(RECORD_ATTRIBUTES_PATCH):
            self._attributes = attributes
            updates: list[SearchAttributeUpdate[Any]] = [
                names.SA_PARTY_ID.value_set(state.party_id),
                names.SA_PARTY_NAME.value_set(state.profile.party_name),
                names.SA_PARTY_CATEGORY.value_set(str(state.profile.category)),
                names.SA_STAGE.value_set(stage),
                names.SA_NEXT_DEADLINE.value_set(_midnight(nxt))
                if nxt
                else names.SA_NEXT_DEADLINE.value_unset(),
            ]
            workflow.upsert_search_attributes(updates)
        todo = "\n".join(f"- **{t.who}**: {t.what}" for t in view.outstanding)
        credit = "met" if view.credit.met else "not met"
        workflow.set_current_details(
            f"**Party record of {state.profile.party_name}** - roles: {roles}\n\n"
            f"Credit: {credit} ({view.credit.reason})\n\nWaiting for:\n{todo or '- nothing'}"
        )

    # -- helpers -------------------------------------------------------------------------

    def _today(self) -> date:
        return workflow.now().date()

    def _party_id(self) -> str:
        assert self._input is not None
        return self._input.party.party_id

    @property
    def run_state(self) -> PartyCarried:
        """The run's state (present once the record is open)."""
        assert self._run is not None, "the Party record is not open yet"
        return self._run

    @property
    def state(self) -> PartyState:
        """The folded Party record."""
        return self.run_state.state


def _type_of(event: pe.PartyEvent) -> str:
    return type(event).__name__


def _digest(position: PartyPosition) -> str:
    body = position.model_dump(mode="json", exclude={"party_version", "party_event"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


def _case_id_of(args: tuple[Any, ...]) -> str | None:
    if len(args) == 1 and isinstance(args[0], dict):
        value = args[0].get("case_id")
        if isinstance(value, str) and len(value) <= 200:
            return value
    return None


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=UTC)
