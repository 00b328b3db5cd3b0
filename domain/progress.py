"""Where a case stands: its stage, what it waits for and from whom, deadlines and a forecast.

Pure functions of the folded state (and, for working-day counts, a calendar snapshot). The
workflow's ``state`` query, the search attributes and the read models all use these, so the
stage an operator filters on in the Web UI is the stage the case board shows.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from domain import deadlines as binding
from domain import estimates
from domain.events import COMPLETION_RECIPIENTS, ENTRY_CRITERIA, Recipient

if TYPE_CHECKING:
    from domain.calendar import WorkingDayCalendar
    from domain.state import AssessmentState, CaseState

CREDIT_REVIEW_DAYS = 31 * estimates.CREDIT_REVIEW_MONTHS
"""The DCC reviews the Credit Cover Requirement monthly."""

Actor = Literal["Party", "DCC", "User CIO", "SEC Panel", "SECAS", "Ofgem"]


class Stage(StrEnum):
    """The earliest part of the process a case has not finished (search attribute UepStage)."""

    USER_ID = "user_id"
    UEPT_NOTICE = "uept_notice"
    UEPT_TESTING = "uept_testing"
    UEPT_COMPLETION = "uept_completion"
    ASSURANCE = "assurance"
    CREDIT = "credit"
    EVIDENCE = "evidence"
    NOTIFICATION = "notification"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        """Readable name of the stage."""
        return _STAGE_LABELS[self]


_STAGE_LABELS = {
    Stage.USER_ID: "User ID",
    Stage.UEPT_NOTICE: "UEPT notice and entry criteria",
    Stage.UEPT_TESTING: "UEPT testing",
    Stage.UEPT_COMPLETION: "UEPT completion (DCC steps)",
    Stage.ASSURANCE: "Security / privacy assurance",
    Stage.CREDIT: "Credit Support",
    Stage.EVIDENCE: "SECAS evidence verification",
    Stage.NOTIFICATION: "Completion notices",
    Stage.COMPLETED: "Completed",
    Stage.WITHDRAWN: "Withdrawn",
}


class OutstandingItem(BaseModel):
    """One thing the case waits for, who must act, and by when if there is a deadline."""

    model_config = ConfigDict(frozen=True)

    requirement: str
    who: Actor
    what: str
    due_on: date | None = None


class Deadline(BaseModel):
    """A dated milestone the case is heading for."""

    model_config = ConfigDict(frozen=True)

    what: str
    who: Actor
    due_on: date
    kind: Literal["dcc_step", "uept_start", "assessment", "mandate"]


def stage(state: CaseState) -> Stage:
    """The case's stage: the first unfinished part, in the order of the process."""
    if state.status == "withdrawn":
        return Stage.WITHDRAWN
    if state.status == "completed":
        return Stage.NOTIFICATION if notices_due(state) else Stage.COMPLETED
    if state.user_id.accepted is None:
        return Stage.USER_ID
    phase = state.uept.phase
    if phase in ("not_started", "notice_given"):
        return Stage.UEPT_NOTICE
    if phase == "testing":
        return Stage.UEPT_TESTING
    if phase != "certified":
        return Stage.UEPT_COMPLETION
    if not (state.requirement_met("security") and state.requirement_met("privacy")):
        return Stage.ASSURANCE
    if not state.requirement_met("credit"):
        return Stage.CREDIT
    return Stage.EVIDENCE


def notices_due(state: CaseState) -> list[Recipient]:
    """Recipients of the completion notice not yet notified (H1.11, H1.12)."""
    if state.status != "completed":
        return []
    return [r for r in COMPLETION_RECIPIENTS if r not in state.notified]


def _notice_what(state: CaseState, recipient: Recipient) -> str:
    if recipient == "sec_panel" and state.revision >= 2 and state.panel_paper_on is None:
        return "inform the SEC Panel by an information paper at a Panel meeting (H1.12)"
    if recipient in state.notices_queued:
        return f"deliver the completion notice to the {recipient} (queued)"
    return f"notify the {recipient}"


def outstanding(state: CaseState) -> list[OutstandingItem]:
    """Everything the case is waiting for, with who must act."""
    if state.status == "withdrawn":
        return []
    if state.status == "completed":
        return [
            OutstandingItem(requirement="completion", who="SECAS", what=_notice_what(state, r))
            for r in notices_due(state)
        ]
    items: list[OutstandingItem] = []
    items += _user_id_items(state)
    items += _uept_items(state)
    if state.party_backed:
        items += _party_items(state)
    else:
        items += _assurance_items(state, "security", state.security)
        items += _credit_items(state)
    if state.privacy.applicable:
        items += _assurance_items(state, "privacy", state.privacy)
    for req in state.applicable_requirements():
        if req not in state.verified and state.requirement_met(req):
            items.append(
                OutstandingItem(
                    requirement=req, who="SECAS", what=f"verify the {req} evidence (H1.11)"
                )
            )
    for d in state.disputes:
        if d.pauses:
            who: Actor = "SEC Panel" if d.phase == "with_panel" else "Ofgem"
            items.append(
                OutstandingItem(
                    requirement=d.subject,
                    who=who,
                    what=f"determine dispute {d.dispute_id} ({d.subject})",
                )
            )
    return items


def waiting_for(state: CaseState) -> list[str]:
    """Outstanding items as short sentences, for error messages."""
    return [
        f"{i.who}: {i.what}" + (f" by {i.due_on.isoformat()}" if i.due_on else "")
        for i in outstanding(state)
    ]


def _party_items(state: CaseState) -> list[OutstandingItem]:
    """Revision 3: credit and security are the Party record's; the case says what it waits
    for there, and from whom."""
    terms = state.from_party
    if terms is None:
        return [
            OutstandingItem(
                requirement=req,
                who="SECAS",
                what=f"open the Party record of {state.party.party_id} ({req} is held there)",
            )
            for req in ("security", "credit")
        ]
    out: list[OutstandingItem] = []
    for req, position in (("security", terms.security), ("credit", terms.credit)):
        if not position.met:
            who = _ACTORS.get(position.who, "Party")
            out.append(
                OutstandingItem(
                    requirement=req, who=who, what=f"Party record {terms.record}: {position.reason}"
                )
            )
    return out


_ACTORS: dict[str, Actor] = {
    a: a for a in ("Party", "DCC", "User CIO", "SEC Panel", "SECAS", "Ofgem")
}


def _user_id_items(state: CaseState) -> list[OutstandingItem]:
    u = state.user_id
    if u.accepted is None and u.status in ("not_started", "rejected"):
        return [
            OutstandingItem(requirement="user_id", who="Party", what="propose a User ID to the DCC")
        ]
    if u.status == "proposed":
        return [
            OutstandingItem(
                requirement="user_id", who="DCC", what=f"accept or reject User ID {u.proposed}"
            )
        ]
    return []


def _uept_items(state: CaseState) -> list[OutstandingItem]:
    u = state.uept
    out: list[OutstandingItem] = []

    def add(who: Actor, what: str, due: date | None = None) -> None:
        out.append(OutstandingItem(requirement="uept", who=who, what=what, due_on=due))

    if u.phase in ("not_started", "notice_given"):
        if u.phase == "not_started":
            add("Party", f"give {binding.UEPT_NOTICE_WD} Working Days' notice of the UEPT start")
        missing = [x for x in ENTRY_CRITERIA if x not in u.criteria]
        if missing:
            add("DCC", "confirm entry criteria: " + ", ".join(missing))
        if u.phase == "notice_given" and not missing:
            add("DCC", "start UEPT", u.earliest_start_on)
    elif u.phase == "testing":
        add("Party", "run the tests and submit the Test Completion Report")
    elif u.phase == "review_concluded":
        add("DCC", "hold the quality gate review meeting")
    step = u.open_step()
    if step is not None:
        text = {
            "report_receipt": "confirm receipt of the Test Completion Report",
            "report_review": "review the report: concluded or further testing",
            "certificate": "issue the Test Completion Certificate",
        }[step.step]
        add("DCC", text + (" (late)" if step.missed else ""), step.due_on)
    return out


def _assurance_items(state: CaseState, area: str, a: AssessmentState) -> list[OutstandingItem]:
    def item(who: Actor, what: str, due: date | None = None) -> list[OutstandingItem]:
        return [OutstandingItem(requirement=area, who=who, what=what, due_on=due)]

    if a.phase == "not_started":
        weeks = binding.ASSESSMENT_BOOKING_NOTICE_WEEKS
        return item("Party", f"book the {area} assessment ({weeks} weeks' notice)")
    if a.phase == "booked":
        short = ", booked at less than twelve weeks' notice" if a.short_notice else ""
        what = f"carry out the {area} assessment ({a.booked_kind}{short})"
        return item("User CIO", what, a.booked_for)
    if a.phase == "assessed":
        return item("SEC Panel", f"set the {area} assurance status")
    if not a.allows_completion:
        return item("Party", f"book a follow-up {area} assessment (status {a.status})")
    return []


def _credit_items(state: CaseState) -> list[OutstandingItem]:
    cr = state.credit
    if cr.phase == "awaiting_requirement":
        return [
            OutstandingItem(
                requirement="credit", who="DCC", what="notify the Credit Cover Requirement"
            )
        ]
    if cr.phase == "required":
        return [
            OutstandingItem(
                requirement="credit",
                who="Party",
                what=f"lodge Credit Support of GBP {cr.requirement}",
            )
        ]
    if cr.phase == "lodged":
        return [
            OutstandingItem(
                requirement="credit", who="DCC", what="assess the lodged Credit Support"
            )
        ]
    return []


def deadlines(state: CaseState) -> list[Deadline]:
    """Dated milestones still ahead of the case, soonest first."""
    out: list[Deadline] = []
    if state.status != "open":
        return out
    step = state.uept.open_step()
    if step is not None:
        out.append(
            Deadline(
                what=f"DCC {step.step.replace('_', ' ')}",
                who="DCC",
                due_on=step.due_on,
                kind="dcc_step",
            )
        )
    if state.uept.phase == "notice_given" and state.uept.earliest_start_on:
        out.append(
            Deadline(
                what="earliest UEPT start",
                who="DCC",
                due_on=state.uept.earliest_start_on,
                kind="uept_start",
            )
        )
    for area, a in (("security", state.security), ("privacy", state.privacy)):
        if a.phase == "booked" and a.booked_for:
            out.append(
                Deadline(
                    what=f"{area} assessment",
                    who="User CIO",
                    due_on=a.booked_for,
                    kind="assessment",
                )
            )
    if state.mandate_due_on and not state.mandate_derogated:
        out.append(
            Deadline(
                what="DCC User mandate", who="Party", due_on=state.mandate_due_on, kind="mandate"
            )
        )
    return sorted(out, key=lambda d: d.due_on)


def next_deadline(state: CaseState) -> date | None:
    """The soonest deadline other than the mandate (search attribute UepNextDeadline)."""
    ahead = [d for d in deadlines(state) if d.kind != "mandate"]
    return ahead[0].due_on if ahead else None


def forecast_completion(state: CaseState, today: date, calendar: WorkingDayCalendar) -> date | None:
    """Earliest likely completion from the case's state and the indicative durations.

    Each unmet requirement is projected forward with the indicative durations of
    :mod:`domain.estimates`; the forecast is the latest of them plus SECAS verification.
    """
    if state.status == "completed":
        return state.completed_on
    if state.status == "withdrawn":
        return None
    ends = [_uept_end(state, today, calendar), _credit_end(state, today)]
    if state.party_backed and state.requirement_met("security"):
        ends.append(today)
    else:
        ends.append(_assurance_end(state.security, today, estimates.SECURITY_TYPICAL_MONTHS[1]))
    if state.privacy.applicable:
        ends.append(_assurance_end(state.privacy, today, estimates.PRIVACY_TYPICAL_MONTHS[1]))
    latest = max(e for e in ends)
    return calendar.add_working_days(latest, estimates.SECAS_VERIFICATION_WD)


def _uept_end(state: CaseState, today: date, cal: WorkingDayCalendar) -> date:
    u = state.uept
    dcc_steps = binding.DCC_RECEIPT_WD + binding.DCC_REVIEW_WD + binding.DCC_CERTIFICATE_WD
    if u.phase == "certified":
        return today
    if u.phase == "not_started":
        start = cal.add_working_days(today, binding.UEPT_NOTICE_WD)
        return cal.add_working_days(start, estimates.UEPT_TYPICAL_TEST_WD + dcc_steps)
    if u.phase == "notice_given":
        start = max(u.planned_start_on or today, u.earliest_start_on or today, today)
        return cal.add_working_days(start, estimates.UEPT_TYPICAL_TEST_WD + dcc_steps)
    if u.phase == "testing":
        started = u.started_on or today
        end_of_tests = max(cal.add_working_days(started, estimates.UEPT_TYPICAL_TEST_WD), today)
        return cal.add_working_days(end_of_tests, dcc_steps)
    step = u.open_step()
    remaining = {
        "report_submitted": dcc_steps,
        "report_received": 7,
        "review_concluded": 2,
        "certificate_due": 0,
    }
    base = max(step.due_on, today) if step else today
    return cal.add_working_days(base, remaining.get(u.phase, 0))


def _assurance_end(a: AssessmentState, today: date, typical_months: int) -> date:
    """Whole process (notice, assessment, status) takes ``typical_months``; the Panel, weeks."""
    if a.allows_completion:
        return today
    if a.phase == "booked" and a.booked_for:
        return max(a.booked_for, today) + timedelta(weeks=estimates.PANEL_STATUS_WEEKS)
    if a.phase == "assessed":
        return today + timedelta(weeks=estimates.PANEL_STATUS_WEEKS)
    return today + timedelta(days=30 * typical_months)


def _credit_end(state: CaseState, today: date) -> date:
    if state.requirement_met("credit"):
        return today
    return today + timedelta(days=CREDIT_REVIEW_DAYS)
