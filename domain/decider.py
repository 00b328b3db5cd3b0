"""The case decider: ``decide(state, command, today, calendar) -> events``.

Pure: no clock, no I/O. ``today`` is the workflow's date; ``calendar`` the Working-Day snapshot
the workflow holds. A command that does not fit raises a :class:`DomainError` that says what is
wrong and what the case is waiting for. Each rule cites its source.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from domain import commands as c
from domain import events as ev
from domain import revision as revision_
from domain.assurance import RulesVersion, rules_in_force
from domain.calendar import WorkingDayCalendar
from domain.deadlines import STEP_WORKING_DAYS
from domain.errors import InvalidInputError
from domain.handlers import assurance, case, completion, credit, disputes, party, uept, user_id
from domain.handlers.common import effective_date, require_not_paused, require_open
from domain.handlers.completion import (
    completion_notice,
    notice_delivered,
    notice_queued,
    panel_information_paper,
)
from domain.handlers.uept import missed_deadlines, next_dcc_due, step_key, watchable_steps
from domain.limits import EARLIEST_DATE
from domain.mandates import mandate_for
from domain.roles import PartyProfile, check_eligibility
from domain.state import CaseState

__all__ = [
    "STEP_WORKING_DAYS",
    "decide",
    "missed_deadlines",
    "next_dcc_due",
    "start_case",
    "step_key",
    "user_id_claims",
    "watchable_steps",
]

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


def start_case(
    cmd: c.StartCase, case_id: str, today: date, revision: int = revision_.CURRENT
) -> list[ev.Event]:
    """Open a case: refuse an ineligible Party (H1.2, guidance s.3); record the rules version
    (the one in force on the start date unless one is given) and the engine's revision."""
    check_eligibility(cmd.party, cmd.role)
    effective = effective_date(cmd.started_on, today, None)
    mandate = mandate_for(cmd.party, cmd.role, revision)
    if cmd.rules_version is not None:
        rules = cmd.rules_version
    elif revision >= 2:
        rules = rules_in_force(effective)
    else:
        rules = RulesVersion.GUIDANCE_2018
    return [
        ev.CaseStarted(
            effective_on=effective,
            case_id=case_id,
            party=PartyProfile.model_validate(cmd.party.model_dump()),
            role=cmd.role,
            rules_version=rules,
            calendar_region=cmd.calendar_region,
            mandate_due_on=mandate.due,
            mandate_source=mandate.source,
            mandate_derogated=mandate.derogated,
            revision=revision,
        )
    ]


def decide(
    state: CaseState, command: c.Command, today: date, calendar: WorkingDayCalendar
) -> list[ev.Event]:
    """Decide which events a command produces, or raise a DomainError saying why not."""
    if isinstance(command, c.RecordCompletionNotice):
        return completion_notice(state, command, today)
    if isinstance(command, c.RecordNoticeQueued):
        return notice_queued(state, command, today)
    if isinstance(command, c.RecordNoticeDelivered):
        return notice_delivered(state, command, today)
    if isinstance(command, c.RecordPanelInformationPaper):
        on = effective_date(command.effective_on, today, state.completed_on, "the UEP completed")
        return panel_information_paper(state, command, on, calendar)
    require_open(state)
    earliest, what = state.started_on, "the case started"
    if state.revision >= 2 and isinstance(command, _MAY_PREDATE_THE_CASE):
        # a fact of the Party's that happened before SECAS heard of the role keeps its date
        earliest = state.party.acceded_on or EARLIEST_DATE
        what = "the Party acceded" if state.party.acceded_on else "the SEC came into force"
    on = effective_date(command.effective_on, today, earliest, what)
    area = _area_of(command)
    if area is not None:
        require_not_paused(state, area)
    if state.party_backed:
        party.refuse_party_owned(state, command)
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise InvalidInputError(f"{type(command).__name__} is not a command a case accepts")
    events = handler(state, command, on, calendar)
    if on < state.started_on:
        events = [e.model_copy(update={"reported_after_the_fact": True}) for e in events]
    return events


_MAY_PREDATE_THE_CASE = (
    c.ProposeUserId,
    c.AcceptUserId,
    c.RejectUserId,
    c.RecordSreptCompleted,
    c.BookAssessment,
    c.CompleteAssessment,
    c.SetAssuranceStatus,
)
"""Facts that may have happened before the case started (revision 2): SREPT, an assessment and
its status, a User ID answered; never before the Party acceded."""


def _area_of(command: c.Command) -> str | None:
    if isinstance(command, c.BookAssessment | c.CompleteAssessment | c.SetAssuranceStatus):
        return command.area
    return _COMMAND_AREA.get(type(command))


_HANDLERS: dict[
    type[c.Command], Callable[[CaseState, Any, date, WorkingDayCalendar], list[ev.Event]]
] = {
    c.ProposeUserId: user_id.propose_user_id,
    c.AcceptUserId: user_id.answer_user_id,
    c.RejectUserId: user_id.answer_user_id,
    c.RecordSreptCompleted: user_id.record_srept,
    c.GiveUeptNotice: uept.give_notice,
    c.ConfirmEntryCriteria: uept.confirm_criteria,
    c.StartUept: uept.start_uept,
    c.SubmitTestCompletionReport: uept.submit_report,
    c.ConfirmReportReceipt: uept.confirm_receipt,
    c.ConcludeUeptReview: uept.conclude_review,
    c.RecordQualityGateMeeting: uept.quality_gate,
    c.IssueTestCompletionCertificate: uept.issue_certificate,
    c.BookSecurityAssessment: assurance.book,
    c.BookPrivacyAssessment: assurance.book,
    c.CompleteSecurityAssessment: assurance.complete_assessment,
    c.CompletePrivacyAssessment: assurance.complete_assessment,
    c.SetSecurityStatus: assurance.set_status,
    c.SetPrivacyStatus: assurance.set_status,
    c.NotifyCreditCoverRequirement: credit.notify_requirement,
    c.LodgeCreditSupport: credit.lodge,
    c.AssessCreditSupport: credit.assess,
    c.VerifyEvidence: completion.verify_evidence,
    c.RaiseDispute: disputes.raise_dispute,
    c.RecordPanelDetermination: disputes.panel_determination,
    c.ReferDisputeToOfgem: disputes.refer_to_ofgem,
    c.RecordOfgemDetermination: disputes.ofgem_determination,
    c.WithdrawCase: case.withdraw,
    c.CorrectCalendar: case.correct_calendar,
    c.ChangeRulesVersion: case.change_rules_version,
    c.RecordPartyPosition: party.record_position,
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
        elif isinstance(e, ev.CaseWithdrawn) and state is not None and state.party_backed:
            u = state.user_id
            pending = [u.proposed] if u.status == "proposed" and u.proposed else []
            out += [("release", uid) for uid in dict.fromkeys([*u.accepted_ids, *pending])]
        elif isinstance(e, ev.CaseWithdrawn) and state is not None:
            held = state.user_id.accepted or state.user_id.proposed
            if held and state.user_id.status in ("proposed", "accepted"):
                out.append(("release", held))
    return out
