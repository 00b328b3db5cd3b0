"""(b) User Entry Process Tests: notice, entry criteria, testing, DCC 2 / 5 / 2 WD steps (s.5)."""

from __future__ import annotations

from datetime import date, timedelta

from domain import commands as c
from domain import events as ev
from domain.assurance import rules_for
from domain.calendar import WorkingDayCalendar
from domain.deadlines import (
    DCC_CERTIFICATE_WD,
    DCC_RECEIPT_WD,
    DCC_REVIEW_WD,
    UEPT_NOTICE_WD,
)
from domain.deadlines import uept_earliest_start as earliest_start_after_notice
from domain.errors import InvalidInputError
from domain.handlers.common import not_before, not_too_far_ahead, stage_error
from domain.state import CaseState, DccStepState


def missed_if_late(state: CaseState, step: ev.DccStep, on: date) -> list[ev.Event]:
    """A DCC step done after its due date was missed, even if no timer saw it (backdated)."""
    current = open_dcc_step(state, step)
    if current is None or current.missed or on <= current.due_on:
        return []
    return [missed_event(current)]


def missed_event(step: DccStepState) -> ev.DccDeadlineMissed:
    """The event recording that a DCC step passed its due date."""
    return ev.DccDeadlineMissed(
        effective_on=step.due_on + timedelta(days=1),
        step=step.step,
        cycle=step.cycle,
        due_on=step.due_on,
    )


def open_dcc_step(state: CaseState, step: ev.DccStep) -> DccStepState | None:
    """The open DCC step of this kind, if any."""
    return next((s for s in state.uept.dcc_steps if s.step == step and s.done_on is None), None)


# -- (b) UEPT -------------------------------------------------------------------------------


def uept_earliest_start(state: CaseState, notice_on: date, cal: WorkingDayCalendar) -> date:
    """The earliest UEPT start of this case's notice (domain.deadlines, by its revision)."""
    return earliest_start_after_notice(notice_on, cal, state.revision)


def give_notice(
    state: CaseState, cmd: c.GiveUeptNotice, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    """Notice of the UEPT start: the planned date is at least 60 WD away (s.5.2)."""
    if state.uept.phase not in ("not_started", "notice_given"):
        raise stage_error(state, f"UEPT is already under way ({state.uept.phase})")
    not_too_far_ahead(cmd.planned_start_on, on, "planned_start_on")
    earliest = uept_earliest_start(state, on, cal)
    if cmd.planned_start_on < earliest:
        raise InvalidInputError(
            f"{cmd.planned_start_on.isoformat()} is less than {UEPT_NOTICE_WD} Working Days "
            f"after the notice of {on.isoformat()}; the earliest start is {earliest.isoformat()} "
            "(User Entry Process Guidance v1.3, s.5.2)",
            field="planned_start_on",
        )
    return [
        ev.UeptNoticeGiven(
            effective_on=on, planned_start_on=cmd.planned_start_on, earliest_start_on=earliest
        )
    ]


def confirm_criteria(
    state: CaseState, cmd: c.ConfirmEntryCriteria, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Confirm UEPT entry criteria not yet confirmed (s.5.4)."""
    if state.uept.phase not in ("not_started", "notice_given"):
        raise stage_error(state, "UEPT has started; entry criteria are no longer recorded")
    new = [x for x in dict.fromkeys(cmd.criteria) if x not in state.uept.criteria]
    if not new:
        raise stage_error(state, "those entry criteria are already confirmed")
    return [ev.UeptEntryCriteriaConfirmed(effective_on=on, criteria=new)]


def start_uept(
    state: CaseState, cmd: c.StartUept, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Start UEPT after the notice period, with all criteria and an accepted User ID."""
    u = state.uept
    if u.phase != "notice_given":
        msg = "UEPT needs 60 Working Days' notice first" if u.phase == "not_started" else ""
        raise stage_error(state, msg or f"UEPT is already under way ({u.phase})")
    assert u.earliest_start_on is not None and u.notice_given_on is not None
    if on < u.earliest_start_on:
        raise InvalidInputError(
            f"UEPT may not start before {u.earliest_start_on.isoformat()}, {UEPT_NOTICE_WD} "
            f"Working Days after the notice of {u.notice_given_on.isoformat()} (User Entry "
            "Process Guidance v1.3, s.5.2)",
            field="effective_on",
        )
    missing = [x for x in ev.ENTRY_CRITERIA if x not in u.criteria]
    if missing:
        raise stage_error(state, "UEPT entry criteria not yet met: " + ", ".join(missing))
    if state.user_id.status != "accepted":
        raise stage_error(state, "UEPT needs a User ID accepted by the DCC for the role")
    return [ev.UeptStarted(effective_on=on, cycle=1)]


def submit_report(
    state: CaseState, cmd: c.SubmitTestCompletionReport, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    """The Test Completion Report opens the DCC's 2 WD receipt step."""
    if state.uept.phase != "testing":
        raise stage_error(state, "a Test Completion Report is submitted while UEPT is testing")
    not_before(on, state.uept.started_on, "UEPT started")
    due = cal.add_working_days(on, DCC_RECEIPT_WD)
    return [
        ev.TestCompletionReportSubmitted(
            effective_on=on, cycle=state.uept.cycle, receipt_due_on=due
        )
    ]


def confirm_receipt(
    state: CaseState, cmd: c.ConfirmReportReceipt, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    """Receipt closes the 2 WD step (late if after due) and opens the 5 WD review."""
    if state.uept.phase != "report_submitted":
        raise stage_error(state, "no Test Completion Report is awaiting the DCC's receipt")
    step = open_dcc_step(state, "report_receipt")
    not_before(on, step.opened_on if step else None, "the report was submitted")
    # revision 2: the review counts from the DCC's receipt of the report (the day the Party
    # submitted it), where the rules version says so; before, from the confirmation
    from_receipt = rules_for(state.rules_version).review_anchor == "report_received"
    anchor = step.opened_on if state.revision >= 2 and step is not None and from_receipt else on
    due = cal.add_working_days(anchor, DCC_REVIEW_WD)
    return [
        *missed_if_late(state, "report_receipt", on),
        ev.TestCompletionReportReceiptConfirmed(
            effective_on=on,
            cycle=state.uept.cycle,
            review_due_on=due,
            review_from=anchor if anchor != on else None,
        ),
    ]


def conclude_review(
    state: CaseState, cmd: c.ConcludeUeptReview, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The review closes the 5 WD step: concluded, or further testing (a new cycle)."""
    if state.uept.phase != "report_received":
        raise stage_error(state, "no received Test Completion Report is awaiting review")
    receipt = next(
        (
            s
            for s in state.uept.dcc_steps
            if s.step == "report_receipt" and s.cycle == state.uept.cycle
        ),
        None,
    )
    not_before(on, receipt.done_on if receipt else None, "the DCC confirmed receipt")
    return [
        *missed_if_late(state, "report_review", on),
        ev.UeptReviewConcluded(
            effective_on=on, cycle=state.uept.cycle, outcome=cmd.outcome, notes=cmd.notes
        ),
    ]


def quality_gate(
    state: CaseState, cmd: c.RecordQualityGateMeeting, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    """A successful quality gate opens the DCC's 2 WD certificate step."""
    if state.uept.phase != "review_concluded":
        raise stage_error(state, "the quality gate meeting follows a concluded DCC review")
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


def issue_certificate(
    state: CaseState, cmd: c.IssueTestCompletionCertificate, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The certificate closes the 2 WD step and completes UEPT (H1.10(b))."""
    if state.uept.phase != "certificate_due":
        raise stage_error(state, "the certificate follows a successful quality gate meeting")
    return [
        *missed_if_late(state, "certificate", on),
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


def dcc_clock_stopped(state: CaseState) -> bool:
    """Whether a UEPT dispute with the Panel or Ofgem stops the DCC's clock (revision 2: its
    answers are refused meanwhile, so those days never count against it)."""
    return state.revision >= 2 and any(d.subject == "uept" and d.pauses for d in state.disputes)


def next_dcc_due(state: CaseState, watched: set[str]) -> date | None:
    """The soonest due date of a watched DCC step still open and not yet missed: the deadline a
    timer must wait for (none while the DCC's clock is stopped)."""
    if dcc_clock_stopped(state):
        return None
    due = [
        s.due_on
        for s in state.uept.dcc_steps
        if s.done_on is None and not s.missed and step_key(s) in watched
    ]
    return min(due, default=None)


def missed_deadlines(state: CaseState, today: date, watched: set[str]) -> list[ev.Event]:
    """Watched DCC steps whose due date has now passed: the timer saw the DCC miss them.

    A step entered after its due date had already passed (a backdated fact) is not flagged
    here: whether the DCC met it is settled when its answer arrives with its effective date.
    """
    if state.status != "open" or dcc_clock_stopped(state):
        return []
    return [
        missed_event(s)
        for s in state.uept.dcc_steps
        if s.done_on is None and not s.missed and today > s.due_on and step_key(s) in watched
    ]
