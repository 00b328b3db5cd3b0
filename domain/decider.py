"""The case decider: ``decide(state, command, today, calendar) -> events``.

Pure: no clock, no I/O. ``today`` is the workflow's date; ``calendar`` the Working-Day snapshot
the workflow holds. A command that does not fit raises a :class:`DomainError` that says what is
wrong and what the case is waiting for. Each rule cites its source.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Literal

from domain import commands as c
from domain import events as ev
from domain.assurance import (
    check_privacy_status,
    check_security_status,
    default_rules_version,
    privacy_allows_completion,
    rules_for,
    security_allows_completion,
)
from domain.calendar import WorkingDayCalendar
from domain.credit import (
    assess_credit_support,
    credit_cover_requirement,
    credit_cover_threshold,
    credit_support_required,
    regulatory_year_of,
)
from domain.durations import (
    ASSESSMENT_BOOKING_NOTICE_WEEKS,
    DCC_CERTIFICATE_WD,
    DCC_RECEIPT_WD,
    DCC_REVIEW_WD,
    UEPT_NOTICE_WD,
)
from domain.errors import InvalidInputError, OutOfStageError
from domain.mandates import mandate_for
from domain.progress import waiting_for
from domain.roles import check_eligibility
from domain.state import CaseState, DccStepState

STEP_WORKING_DAYS: dict[ev.DccStep, int] = {
    "report_receipt": DCC_RECEIPT_WD,
    "report_review": DCC_REVIEW_WD,
    "certificate": DCC_CERTIFICATE_WD,
}
"""Working days the DCC has for each completion step (guidance s.5.3, seed 001 note 3)."""

_COMMAND_AREA: dict[type[c.Command], str] = {
    c.GiveUeptNotice: "uept",
    c.ConfirmEntryCriteria: "uept",
    c.StartUept: "uept",
    c.SubmitTestCompletionReport: "uept",
    c.ConfirmReportReceipt: "uept",
    c.ConcludeUeptReview: "uept",
    c.RecordQualityGateMeeting: "uept",
    c.IssueTestCompletionCertificate: "uept",
    c.LodgeCreditSupport: "credit",
    c.AssessCreditSupport: "credit",
    c.NotifyCreditCoverRequirement: "credit",
}


def start_case(cmd: c.StartCase, case_id: str, today: date) -> list[ev.Event]:
    """Open a case: refuse an ineligible Party (H1.2, guidance s.3); record the rules version."""
    check_eligibility(cmd.party, cmd.role)
    effective = _effective(cmd.started_on, today, None)
    mandate = mandate_for(cmd.party, cmd.role)
    rules = cmd.rules_version or default_rules_version()
    return [
        ev.CaseStarted(
            effective_on=effective,
            case_id=case_id,
            party=cmd.party,
            role=cmd.role,
            rules_version=rules,
            calendar_region=cmd.calendar_region,
            mandate_due_on=mandate.due,
            mandate_source=mandate.source,
            mandate_derogated=mandate.derogated,
        )
    ]


def decide(
    state: CaseState, command: c.Command, today: date, calendar: WorkingDayCalendar
) -> list[ev.Event]:
    """Decide which events a command produces, or raise a DomainError saying why not."""
    if isinstance(command, c.RecordCompletionNotice):
        return _completion_notice(state, command, today)
    _require_open(state)
    on = _effective(command.effective_on, today, state.started_on)
    area = _area_of(command)
    if area is not None:
        _require_not_paused(state, area)
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise InvalidInputError(f"{type(command).__name__} is not a command a case accepts")
    return handler(state, command, on, calendar)


# -- helpers ------------------------------------------------------------------------------


def _effective(given: date | None, today: date, not_before: date | None) -> date:
    """Facts take effect when they happened: never in the future, never before the case."""
    on = given or today
    if on > today:
        raise InvalidInputError(
            f"{on.isoformat()} is in the future (today is {today.isoformat()}); "
            "record a fact once it has happened",
            field="effective_on",
        )
    if not_before is not None and on < not_before:
        raise InvalidInputError(
            f"{on.isoformat()} is before the case started on {not_before.isoformat()}",
            field="effective_on",
        )
    return on


def _area_of(command: c.Command) -> str | None:
    if isinstance(command, c.BookAssessment | c.CompleteAssessment | c.SetAssuranceStatus):
        return command.area
    return _COMMAND_AREA.get(type(command))


def _require_open(state: CaseState) -> None:
    if state.status == "completed":
        raise OutOfStageError(
            f"the case completed on {state.completed_on}; nothing more can be recorded on it"
        )
    if state.status == "withdrawn":
        raise OutOfStageError(
            f"the case was withdrawn on {state.withdrawn_on}; start a new case to try again"
        )


def _require_not_paused(state: CaseState, area: str) -> None:
    for d in state.disputes:
        if d.subject == area and d.pauses:
            who = "the SEC Panel" if d.phase == "with_panel" else "Ofgem"
            raise OutOfStageError(
                f"the {area} step is paused by dispute {d.dispute_id} until {who} determines it",
                waiting_for=[f"{who}'s determination of dispute {d.dispute_id}"],
            )


def _stage_error(state: CaseState, message: str) -> OutOfStageError:
    return OutOfStageError(message, waiting_for=waiting_for(state))


def _missed_if_late(state: CaseState, step: ev.DccStep, on: date) -> list[ev.Event]:
    """A DCC step done after its due date was missed, even if no timer saw it (backdated)."""
    current = _open_dcc_step(state, step)
    if current is None or current.missed or on <= current.due_on:
        return []
    return [_missed(current)]


def _missed(step: DccStepState) -> ev.DccDeadlineMissed:
    return ev.DccDeadlineMissed(
        effective_on=step.due_on + timedelta(days=1),
        step=step.step,
        cycle=step.cycle,
        due_on=step.due_on,
    )


def _open_dcc_step(state: CaseState, step: ev.DccStep) -> DccStepState | None:
    return next((s for s in state.uept.dcc_steps if s.step == step and s.done_on is None), None)


def _not_before(on: date, earlier: date | None, what: str) -> None:
    if earlier is not None and on < earlier:
        raise InvalidInputError(
            f"{on.isoformat()} is before {what} on {earlier.isoformat()}", field="effective_on"
        )


# -- (a) User ID ----------------------------------------------------------------------------


def _propose_user_id(
    state: CaseState, cmd: c.ProposeUserId, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    uid = state.user_id
    if uid.status == "proposed":
        raise _stage_error(state, f"User ID {uid.proposed} is already proposed to the DCC")
    if uid.status == "accepted":
        raise _stage_error(state, f"the DCC already accepted User ID {uid.accepted}")
    if cmd.user_id in uid.rejected:
        raise InvalidInputError(
            f"the DCC rejected {cmd.user_id} for this role; propose a different id",
            field="user_id",
        )
    return [ev.UserIdProposed(effective_on=on, user_id=cmd.user_id)]


def _answer_user_id(
    state: CaseState, cmd: c.AcceptUserId | c.RejectUserId, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    uid = state.user_id
    if uid.status != "proposed":
        raise _stage_error(state, "no User ID is awaiting the DCC's answer")
    if cmd.user_id != uid.proposed:
        raise InvalidInputError(
            f"{cmd.user_id} is not the proposed User ID ({uid.proposed})", field="user_id"
        )
    if isinstance(cmd, c.RejectUserId):
        return [ev.UserIdRejected(effective_on=on, user_id=cmd.user_id, reason=cmd.reason)]
    return [ev.UserIdAccepted(effective_on=on, user_id=cmd.user_id)]


def _srept(
    state: CaseState, cmd: c.RecordSreptCompleted, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    if state.srept_completed_on is not None:
        raise _stage_error(state, f"SREPT was already recorded on {state.srept_completed_on}")
    return [ev.SreptCompleted(effective_on=on)]


# -- (b) UEPT -------------------------------------------------------------------------------


def _uept_notice(
    state: CaseState, cmd: c.GiveUeptNotice, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    if state.uept.phase not in ("not_started", "notice_given"):
        raise _stage_error(state, f"UEPT is already under way ({state.uept.phase})")
    earliest = cal.add_working_days(on, UEPT_NOTICE_WD)
    if cmd.planned_start_on < earliest:
        raise InvalidInputError(
            f"{cmd.planned_start_on.isoformat()} is less than {UEPT_NOTICE_WD} Working Days "
            f"after the notice of {on.isoformat()}; the earliest start is {earliest.isoformat()} "
            "(guidance s.5.2)",
            field="planned_start_on",
        )
    return [
        ev.UeptNoticeGiven(
            effective_on=on, planned_start_on=cmd.planned_start_on, earliest_start_on=earliest
        )
    ]


def _entry_criteria(
    state: CaseState, cmd: c.ConfirmEntryCriteria, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    if state.uept.phase not in ("not_started", "notice_given"):
        raise _stage_error(state, "UEPT has started; entry criteria are no longer recorded")
    new = [x for x in dict.fromkeys(cmd.criteria) if x not in state.uept.criteria]
    if not new:
        raise _stage_error(state, "those entry criteria are already confirmed")
    return [ev.UeptEntryCriteriaConfirmed(effective_on=on, criteria=new)]


def _start_uept(
    state: CaseState, cmd: c.StartUept, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    u = state.uept
    if u.phase != "notice_given":
        msg = "UEPT needs 60 Working Days' notice first" if u.phase == "not_started" else ""
        raise _stage_error(state, msg or f"UEPT is already under way ({u.phase})")
    assert u.earliest_start_on is not None and u.notice_given_on is not None
    if on < u.earliest_start_on:
        raise InvalidInputError(
            f"UEPT may not start before {u.earliest_start_on.isoformat()}, {UEPT_NOTICE_WD} "
            f"Working Days after the notice of {u.notice_given_on.isoformat()} (guidance s.5.2)",
            field="effective_on",
        )
    missing = [x for x in ev.ENTRY_CRITERIA if x not in u.criteria]
    if missing:
        raise _stage_error(state, "UEPT entry criteria not yet met: " + ", ".join(missing))
    if state.user_id.status != "accepted":
        raise _stage_error(state, "UEPT needs a User ID accepted by the DCC for the role")
    return [ev.UeptStarted(effective_on=on, cycle=1)]


def _submit_report(
    state: CaseState, cmd: c.SubmitTestCompletionReport, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    if state.uept.phase != "testing":
        raise _stage_error(state, "a Test Completion Report is submitted while UEPT is testing")
    _not_before(on, state.uept.started_on, "UEPT started")
    due = cal.add_working_days(on, DCC_RECEIPT_WD)
    return [
        ev.TestCompletionReportSubmitted(
            effective_on=on, cycle=state.uept.cycle, receipt_due_on=due
        )
    ]


def _confirm_receipt(
    state: CaseState, cmd: c.ConfirmReportReceipt, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    if state.uept.phase != "report_submitted":
        raise _stage_error(state, "no Test Completion Report is awaiting the DCC's receipt")
    step = _open_dcc_step(state, "report_receipt")
    _not_before(on, step.opened_on if step else None, "the report was submitted")
    due = cal.add_working_days(on, DCC_REVIEW_WD)
    return [
        *_missed_if_late(state, "report_receipt", on),
        ev.TestCompletionReportReceiptConfirmed(
            effective_on=on, cycle=state.uept.cycle, review_due_on=due
        ),
    ]


def _conclude_review(
    state: CaseState, cmd: c.ConcludeUeptReview, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    if state.uept.phase != "report_received":
        raise _stage_error(state, "no received Test Completion Report is awaiting review")
    step = _open_dcc_step(state, "report_review")
    _not_before(on, step.opened_on if step else None, "the DCC confirmed receipt")
    return [
        *_missed_if_late(state, "report_review", on),
        ev.UeptReviewConcluded(
            effective_on=on, cycle=state.uept.cycle, outcome=cmd.outcome, notes=cmd.notes
        ),
    ]


def _quality_gate(
    state: CaseState, cmd: c.RecordQualityGateMeeting, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    if state.uept.phase != "review_concluded":
        raise _stage_error(state, "the quality gate meeting follows a concluded DCC review")
    due = cal.add_working_days(on, DCC_CERTIFICATE_WD) if cmd.successful else None
    return [
        ev.QualityGateMeetingHeld(
            effective_on=on,
            cycle=state.uept.cycle,
            successful=cmd.successful,
            certificate_due_on=due,
            notes=cmd.notes,
        )
    ]


def _certificate(
    state: CaseState, cmd: c.IssueTestCompletionCertificate, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    if state.uept.phase != "certificate_due":
        raise _stage_error(state, "the certificate follows a successful quality gate meeting")
    return [
        *_missed_if_late(state, "certificate", on),
        ev.TestCompletionCertificateIssued(
            effective_on=on, cycle=state.uept.cycle, certificate_ref=cmd.certificate_ref
        ),
    ]


def step_key(step: DccStepState) -> str:
    """Identifies a DCC step of one UEPT cycle, e.g. ``report_review:2``."""
    return f"{step.step}:{step.cycle}"


def watchable_steps(state: CaseState, today: date) -> set[str]:
    """Open DCC steps whose deadline is still ahead: the ones a timer can see pass."""
    return {step_key(s) for s in state.uept.dcc_steps if s.done_on is None and today <= s.due_on}


def missed_deadlines(state: CaseState, today: date, watched: set[str]) -> list[ev.Event]:
    """Watched DCC steps whose due date has now passed: the timer saw the DCC miss them.

    A step entered after its due date had already passed (a backdated fact) is not flagged
    here: whether the DCC met it is settled when its answer arrives with its effective date.
    """
    if state.status != "open":
        return []
    return [
        _missed(s)
        for s in state.uept.dcc_steps
        if s.done_on is None and not s.missed and today > s.due_on and step_key(s) in watched
    ]


# -- (c), (d) assurance -------------------------------------------------------------------


def _applicable(state: CaseState, area: Literal["security", "privacy"]) -> None:
    if area == "privacy" and not state.privacy.applicable:
        raise InvalidInputError(
            f"a privacy assessment applies to the Other User role only (H1.10(d)); "
            f"this case is {state.role.label}"
        )


def _book(
    state: CaseState, cmd: c.BookAssessment, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    area = cmd.area
    _applicable(state, area)
    a = state.security if area == "security" else state.privacy
    if a.phase in ("booked", "assessed"):
        raise _stage_error(state, f"a {area} assessment is already {a.phase}")
    if a.phase == "status_set" and a.allows_completion:
        raise _stage_error(state, f"the {area} status already allows completion ({a.status})")
    if cmd.kind == "pre_assessment":
        if area != "security":
            raise InvalidInputError("the Optional Pre-Assessment is a security step", field="kind")
        if a.pre_assessment_done or a.assessments_done:
            raise _stage_error(state, "the Optional Pre-Assessment comes once, before the full one")
    if cmd.kind == "follow_up" and a.phase != "status_set":
        raise InvalidInputError(
            "a follow-up assessment follows a Deferred or Rejected status", field="kind"
        )
    if cmd.kind == "full" and a.phase == "status_set":
        raise InvalidInputError(
            f"the {area} status is {a.status}; book a follow_up assessment", field="kind"
        )
    earliest = on + timedelta(weeks=ASSESSMENT_BOOKING_NOTICE_WEEKS)
    if cmd.assessment_on < earliest:
        raise InvalidInputError(
            f"an assessment needs {ASSESSMENT_BOOKING_NOTICE_WEEKS} weeks' notice: booked on "
            f"{on.isoformat()}, the earliest date is {earliest.isoformat()} (SECAS FAQ)",
            field="assessment_on",
        )
    return [
        ev.AssessmentBooked(
            effective_on=on, area=area, kind=cmd.kind, assessment_on=cmd.assessment_on
        )
    ]


def _complete_assessment(
    state: CaseState, cmd: c.CompleteAssessment, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    area = cmd.area
    _applicable(state, area)
    a = state.security if area == "security" else state.privacy
    if a.phase != "booked" or a.booked_kind is None:
        raise _stage_error(state, f"no {area} assessment is booked")
    _not_before(on, a.booked_for, f"the {area} assessment booked")
    return [ev.AssessmentCompleted(effective_on=on, area=area, kind=a.booked_kind)]


def _set_status(
    state: CaseState, cmd: c.SetAssuranceStatus, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    area = cmd.area
    _applicable(state, area)
    a = state.security if area == "security" else state.privacy
    if a.phase != "assessed":
        raise _stage_error(state, f"the Panel sets the {area} status after an assessment")
    rules = rules_for(state.rules_version)
    if area == "security":
        check_security_status(rules, cmd.status)
        ok = security_allows_completion(rules, cmd.status)
    else:
        check_privacy_status(rules, cmd.status)
        ok = privacy_allows_completion(rules, cmd.status)
    return [
        ev.AssuranceStatusSet(
            effective_on=on,
            area=area,
            status=cmd.status,
            allows_completion=ok,
            conditions=cmd.conditions,
        )
    ]


# -- (e) credit -----------------------------------------------------------------------------


def _notify_credit(
    state: CaseState, cmd: c.NotifyCreditCoverRequirement, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    if cmd.requirement is not None:
        requirement = cmd.requirement
    else:
        assert cmd.value_at_risk is not None and cmd.maximum_credit_value is not None
        assert cmd.unsecured_credit_factor is not None
        requirement = credit_cover_requirement(
            cmd.value_at_risk, cmd.maximum_credit_value, cmd.unsecured_credit_factor
        )
    year = regulatory_year_of(on)
    threshold = credit_cover_threshold(year, notified=cmd.threshold)
    source = "notified by the DCC" if cmd.threshold is not None else "CPI (ONS D7BT)"
    required = credit_support_required(requirement, threshold)
    out: list[ev.Event] = [
        ev.CreditCoverRequirementNotified(
            effective_on=on,
            requirement=requirement,
            threshold=threshold,
            regulatory_year=year,
            threshold_source=source,
            support_required=required,
        )
    ]
    if not required:
        out.append(
            ev.CreditSupportNotRequired(
                effective_on=on, requirement=requirement, threshold=threshold
            )
        )
    return out


def _lodge(
    state: CaseState, cmd: c.LodgeCreditSupport, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    if state.credit.phase not in ("required", "lodged"):
        raise _stage_error(
            state,
            "Credit Support is lodged once the DCC says it is required "
            f"(credit is {state.credit.phase})",
        )
    return [ev.CreditSupportLodged(effective_on=on, items=cmd.items)]


def _assess_credit(
    state: CaseState, cmd: c.AssessCreditSupport, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    if state.credit.phase != "lodged":
        raise _stage_error(state, "no lodged Credit Support is awaiting the DCC's assessment")
    assert state.credit.requirement is not None
    result = assess_credit_support(state.credit.lodged, state.credit.requirement, on)
    return [
        ev.CreditSupportAssessed(
            effective_on=on,
            accepted=result.accepted,
            accepted_total=result.accepted_total,
            required=result.required,
            reasons=result.reasons,
        )
    ]


# -- evidence and completion (H1.11, H1.12) ------------------------------------------------


def _verify(
    state: CaseState, cmd: c.VerifyEvidence, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    req = cmd.requirement
    if req not in state.applicable_requirements():
        raise InvalidInputError(
            f"{req} does not apply to {state.role.label} (privacy is for Other User only)",
            field="requirement",
        )
    if req in state.verified:
        raise _stage_error(
            state, f"SECAS already verified the {req} evidence on {state.verified[req]}"
        )
    _require_not_paused(state, req)
    if not state.requirement_met(req):
        raise _stage_error(
            state, f"the {req} requirement is not met yet, so there is no evidence to verify"
        )
    out: list[ev.Event] = [
        ev.EvidenceVerified(effective_on=on, requirement=req, reference=cmd.reference)
    ]
    remaining = [r for r in state.applicable_requirements() if r not in state.verified and r != req]
    if not remaining:
        assert state.user_id.accepted is not None
        out.append(ev.UserEntryProcessCompleted(effective_on=on, user_id=state.user_id.accepted))
    return out


def _completion_notice(
    state: CaseState, cmd: c.RecordCompletionNotice, today: date
) -> list[ev.Event]:
    if state.status != "completed":
        raise _stage_error(state, "completion notices follow the completion of the UEP")
    if cmd.recipient in state.notified:
        return []
    return [ev.CompletionNotified(effective_on=today, recipient=cmd.recipient)]


# -- disputes (H1.13) -----------------------------------------------------------------------


def _raise_dispute(
    state: CaseState, cmd: c.RaiseDispute, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    if cmd.subject == "privacy":
        _applicable(state, "privacy")
    _require_not_paused(state, cmd.subject)
    dispute_id = f"D{len(state.disputes) + 1}"
    return [
        ev.DisputeRaised(
            effective_on=on, dispute_id=dispute_id, subject=cmd.subject, reason=cmd.reason
        )
    ]


def _dispute_in(state: CaseState, dispute_id: str, phase: str, what: str) -> None:
    d = state.dispute(dispute_id)
    if d is None:
        known = ", ".join(x.dispute_id for x in state.disputes) or "none"
        raise InvalidInputError(
            f"no dispute {dispute_id!r} (disputes: {known})", field="dispute_id"
        )
    if d.phase != phase:
        raise _stage_error(state, f"dispute {dispute_id} is {d.phase.replace('_', ' ')}; {what}")


def _panel(
    state: CaseState, cmd: c.RecordPanelDetermination, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    _dispute_in(state, cmd.dispute_id, "with_panel", "the Panel determines disputes it holds")
    return [
        ev.PanelDeterminationMade(
            effective_on=on, dispute_id=cmd.dispute_id, upheld=cmd.upheld, summary=cmd.summary
        )
    ]


def _refer(
    state: CaseState, cmd: c.ReferDisputeToOfgem, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    _dispute_in(
        state,
        cmd.dispute_id,
        "panel_determined",
        "only a Panel determination can be referred to Ofgem",
    )
    return [ev.DisputeReferredToOfgem(effective_on=on, dispute_id=cmd.dispute_id)]


def _ofgem(
    state: CaseState, cmd: c.RecordOfgemDetermination, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    _dispute_in(state, cmd.dispute_id, "with_ofgem", "Ofgem determines referred disputes")
    return [
        ev.OfgemDeterminationMade(
            effective_on=on, dispute_id=cmd.dispute_id, upheld=cmd.upheld, summary=cmd.summary
        )
    ]


# -- the case -------------------------------------------------------------------------------


def _withdraw(
    state: CaseState, cmd: c.WithdrawCase, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    return [ev.CaseWithdrawn(effective_on=on, reason=cmd.reason)]


def corrected_calendar(
    cal: WorkingDayCalendar, add: list[date], remove: list[date]
) -> WorkingDayCalendar:
    """The calendar with non-working days added and removed."""
    days = (set(cal.holidays) | set(add)) - set(remove)
    # Built anew, not model_copy: the calendar precomputes its lookup table at construction.
    return WorkingDayCalendar(
        region=cal.region, first_year=cal.first_year, last_year=cal.last_year, holidays=sorted(days)
    )


def _correct_calendar(
    state: CaseState, cmd: c.CorrectCalendar, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    if not cmd.add_holidays and not cmd.remove_holidays:
        raise InvalidInputError("give add_holidays or remove_holidays", field="add_holidays")
    for d in [*cmd.add_holidays, *cmd.remove_holidays]:
        if not cal.first_year <= d.year <= cal.last_year:
            raise InvalidInputError(
                f"{d.isoformat()} is outside the calendar's years {cal.first_year}-{cal.last_year}",
                field="add_holidays",
            )
    new = corrected_calendar(cal, cmd.add_holidays, cmd.remove_holidays)
    recomputed = {
        f"{s.step}:{s.cycle}": new.add_working_days(s.opened_on, STEP_WORKING_DAYS[s.step])
        for s in state.uept.dcc_steps
        if s.done_on is None
    }
    return [
        ev.CalendarCorrected(
            effective_on=on,
            added_holidays=sorted(cmd.add_holidays),
            removed_holidays=sorted(cmd.remove_holidays),
            recomputed=recomputed,
        )
    ]


_HANDLERS: dict[
    type[c.Command], Callable[[CaseState, Any, date, WorkingDayCalendar], list[ev.Event]]
] = {
    c.ProposeUserId: _propose_user_id,
    c.AcceptUserId: _answer_user_id,
    c.RejectUserId: _answer_user_id,
    c.RecordSreptCompleted: _srept,
    c.GiveUeptNotice: _uept_notice,
    c.ConfirmEntryCriteria: _entry_criteria,
    c.StartUept: _start_uept,
    c.SubmitTestCompletionReport: _submit_report,
    c.ConfirmReportReceipt: _confirm_receipt,
    c.ConcludeUeptReview: _conclude_review,
    c.RecordQualityGateMeeting: _quality_gate,
    c.IssueTestCompletionCertificate: _certificate,
    c.BookSecurityAssessment: _book,
    c.BookPrivacyAssessment: _book,
    c.CompleteSecurityAssessment: _complete_assessment,
    c.CompletePrivacyAssessment: _complete_assessment,
    c.SetSecurityStatus: _set_status,
    c.SetPrivacyStatus: _set_status,
    c.NotifyCreditCoverRequirement: _notify_credit,
    c.LodgeCreditSupport: _lodge,
    c.AssessCreditSupport: _assess_credit,
    c.VerifyEvidence: _verify,
    c.RaiseDispute: _raise_dispute,
    c.RecordPanelDetermination: _panel,
    c.ReferDisputeToOfgem: _refer,
    c.RecordOfgemDetermination: _ofgem,
    c.WithdrawCase: _withdraw,
    c.CorrectCalendar: _correct_calendar,
}


def user_id_claims(
    state: CaseState | None, events: list[ev.Event]
) -> list[tuple[Literal["claim", "release"], str]]:
    """User ID claims the events make or release (H1.4): written with the events, atomically."""
    out: list[tuple[Literal["claim", "release"], str]] = []
    for e in events:
        if isinstance(e, ev.UserIdProposed):
            out.append(("claim", e.user_id))
        elif isinstance(e, ev.UserIdRejected):
            out.append(("release", e.user_id))
        elif isinstance(e, ev.CaseWithdrawn) and state is not None:
            held = state.user_id.accepted or state.user_id.proposed
            if held and state.user_id.status in ("proposed", "accepted"):
                out.append(("release", held))
    return out
