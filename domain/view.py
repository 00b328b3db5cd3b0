"""The whole case as a person reads it: the answer of the ``state`` query and ``uep case show``."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain import progress
from domain.calendar import WorkingDayCalendar
from domain.deadlines import dcc_step_standing
from domain.errors import CalendarRangeError
from domain.mandates import Mandate, MandateStatus, mandate_status
from domain.state import CaseState, DisputeState, PartyTerms


class RequirementView(BaseModel):
    """One H1.10 requirement: its status in words and whether SECAS verified it."""

    requirement: str
    status: str
    met: bool
    verified_on: date | None = None


class DeadlineView(BaseModel):
    """A deadline as a date and the Working Days left (negative when past)."""

    what: str
    who: str
    due_on: date
    working_days_left: int | None = None


class DccStepView(BaseModel):
    """A DCC completion step: due, done, met or missed and by how many Working Days."""

    step: str
    cycle: int
    opened_on: date
    due_on: date
    done_on: date | None
    status: str
    working_days_late: int = 0


class RejectedMessage(BaseModel):
    """A signal that was refused: kept visible, changed nothing."""

    name: str
    message_id: str | None = None
    received_at: datetime
    error: str


class CaseView(BaseModel):
    """The case as JSON: stage, requirements, who must act, deadlines, disputes, forecast."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    summary: str
    party_id: str
    party_name: str
    party_category: str
    role: str
    role_label: str
    rules_version: str
    status: str
    stage: str
    stage_label: str
    started_on: date
    user_id: str | None
    requirements: list[RequirementView]
    outstanding: list[progress.OutstandingItem]
    deadlines: list[DeadlineView]
    dcc_steps: list[DccStepView]
    disputes: list[DisputeState]
    rejected_messages: list[RejectedMessage] = Field(default_factory=list)
    forecast_completion_on: date | None = None
    mandate_due_on: date | None = None
    mandate_derogated: bool = False
    mandate_status: str = "no_mandate"
    completed_on: date | None = None
    withdrawn_on: date | None = None
    stream_version: int = 0
    as_of: date
    revision: int = 1
    """The engine's reading of the rules the case opened under (domain.revision)."""
    user_ids: list[str] = Field(default_factory=list)
    """Every User ID the DCC accepted for the role (revision 3: several)."""
    party_record: PartyTerms | None = None
    """Revision 3: what the case last took from its Party record."""


def mandate_status_of(state: CaseState, today: date, forecast: date | None) -> MandateStatus:
    """Where the case stands against its Party's DCC User mandate (guidance s.2.2)."""
    mandate = Mandate(
        due=state.mandate_due_on, source=state.mandate_source, derogated=state.mandate_derogated
    )
    return mandate_status(mandate, state.completed_on, forecast, today)


def case_summary(state: CaseState) -> str:
    """One line such as "Acme Energy - Gas Supplier"."""
    return f"{state.party.party_name} - {state.role.label}"


def _wd_left(cal: WorkingDayCalendar, today: date, due: date) -> int | None:
    try:
        return cal.working_days_between(today, due)
    except CalendarRangeError:
        return None


def _requirement_status(state: CaseState, req: str) -> str:
    match req:
        case "user_id":
            return state.user_id.status
        case "uept":
            return state.uept.phase
        case "security":
            if state.party_backed:
                return _from_party(state, "security")
            s = state.security
            return str(s.status) if s.phase == "status_set" else s.phase
        case "privacy":
            p = state.privacy
            return str(p.status) if p.phase == "status_set" else p.phase
        case _:
            if state.party_backed:
                return _from_party(state, "credit")
            return state.credit.phase


def _from_party(state: CaseState, req: str) -> str:
    """A Party-backed requirement's status: the record's position, in a word or two."""
    terms = state.from_party
    if terms is None:
        return "awaiting_party_record"
    if req == "security":
        sec = terms.security
        if sec.status is not None:
            return f"{sec.status} ({sec.assessment_id}, Party record)"
        return "met (Party record)" if sec.met else "not_met (Party record)"
    credit = terms.credit
    if credit.met and credit.valid_until is not None:
        return f"met until {credit.valid_until.isoformat()} (Party record)"
    return "met (Party record)" if credit.met else "not_met (Party record)"


def _dcc_steps(state: CaseState, cal: WorkingDayCalendar, today: date) -> list[DccStepView]:
    out = []
    for s in state.uept.dcc_steps:
        standing = dcc_step_standing(s.due_on, s.done_on, s.missed, today, cal)
        out.append(
            DccStepView(
                step=s.step,
                cycle=s.cycle,
                opened_on=s.opened_on,
                due_on=s.due_on,
                done_on=s.done_on,
                status=standing.status,
                working_days_late=standing.working_days_late,
            )
        )
    return out


def build_view(
    state: CaseState,
    today: date,
    calendar: WorkingDayCalendar,
    rejected: list[RejectedMessage] | None = None,
    stream_version: int = 0,
) -> CaseView:
    """Assemble the view of a case as of ``today``."""
    stage = progress.stage(state)
    try:
        forecast = progress.forecast_completion(state, today, calendar)
    except CalendarRangeError:
        forecast = None
    return CaseView(
        case_id=state.case_id,
        summary=case_summary(state),
        party_id=state.party.party_id,
        party_name=state.party.party_name,
        party_category=str(state.party.category),
        role=str(state.role),
        role_label=state.role.label,
        rules_version=str(state.rules_version),
        status=state.status,
        stage=str(stage),
        stage_label=stage.label,
        started_on=state.started_on,
        user_id=state.user_id.accepted or state.user_id.proposed,
        requirements=[
            RequirementView(
                requirement=r,
                status=_requirement_status(state, r),
                met=state.requirement_met(r),
                verified_on=state.verified.get(r),
            )
            for r in state.applicable_requirements()
        ],
        outstanding=progress.outstanding(state),
        deadlines=[
            DeadlineView(
                what=d.what,
                who=d.who,
                due_on=d.due_on,
                working_days_left=_wd_left(calendar, today, d.due_on),
            )
            for d in progress.deadlines(state)
        ],
        dcc_steps=_dcc_steps(state, calendar, today),
        disputes=state.disputes,
        rejected_messages=list(rejected or []),
        forecast_completion_on=forecast,
        mandate_due_on=state.mandate_due_on,
        mandate_derogated=state.mandate_derogated,
        mandate_status=str(mandate_status_of(state, today, forecast)),
        completed_on=state.completed_on,
        withdrawn_on=state.withdrawn_on,
        stream_version=stream_version,
        as_of=today,
        revision=state.revision,
        user_ids=list(state.user_id.accepted_ids),
        party_record=state.from_party,
    )
