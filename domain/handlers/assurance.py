"""(c) security and (d) privacy assurance (guidance s.6, s.7; SEC G8, I2)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from domain import commands as c
from domain import events as ev
from domain.assurance import (
    check_privacy_status,
    check_security_status,
    privacy_allows_completion,
    rules_for,
    security_allows_completion,
)
from domain.calendar import WorkingDayCalendar
from domain.deadlines import (
    ASSESSMENT_BOOKING_NOTICE_WEEKS,
)
from domain.errors import InvalidInputError
from domain.handlers.common import not_before, not_too_far_ahead, stage_error
from domain.state import CaseState

# -- (c), (d) assurance -------------------------------------------------------------------


def require_applicable(state: CaseState, area: Literal["security", "privacy"]) -> None:
    """Privacy applies to the Other User role only (H1.10(d))."""
    if area == "privacy" and not state.privacy.applicable:
        raise InvalidInputError(
            f"a privacy assessment applies to the Other User role only (H1.10(d)); "
            f"this case is {state.role.label}"
        )


def book(
    state: CaseState, cmd: c.BookAssessment, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Book with 12 weeks' notice; pre-assessment once, follow-up after Deferred or Rejected."""
    area = cmd.area
    require_applicable(state, area)
    a = state.security if area == "security" else state.privacy
    if a.phase in ("booked", "assessed"):
        raise stage_error(state, f"a {area} assessment is already {a.phase}")
    if a.phase == "status_set" and a.allows_completion:
        raise stage_error(state, f"the {area} status already allows completion ({a.status})")
    if cmd.kind == "pre_assessment":
        if area != "security":
            raise InvalidInputError("the Optional Pre-Assessment is a security step", field="kind")
        if a.pre_assessment_done or a.assessments_done:
            raise stage_error(state, "the Optional Pre-Assessment comes once, before the full one")
    if cmd.kind == "follow_up" and a.phase != "status_set":
        raise InvalidInputError(
            "a follow-up assessment follows a Deferred or Rejected status", field="kind"
        )
    if cmd.kind == "full" and a.phase == "status_set":
        raise InvalidInputError(
            f"the {area} status is {a.status}; book a follow_up assessment", field="kind"
        )
    not_too_far_ahead(cmd.assessment_on, on, "assessment_on")
    earliest = on + timedelta(weeks=ASSESSMENT_BOOKING_NOTICE_WEEKS)
    short = cmd.assessment_on < earliest
    # The guidance (s.7) asks twelve weeks' notice for the initial Full Privacy Assessment; for
    # the rest it is practice, not a rule: recorded as short notice, not refused (revision 2).
    initial_privacy = area == "privacy" and cmd.kind == "full" and a.assessments_done == 0
    if short and (state.revision < 2 or initial_privacy):
        raise InvalidInputError(
            f"an assessment needs {ASSESSMENT_BOOKING_NOTICE_WEEKS} weeks' notice: booked on "
            f"{on.isoformat()}, the earliest date is {earliest.isoformat()} (User Entry Process "
            "Guidance v1.3, s.7)",
            field="assessment_on",
        )
    return [
        ev.AssessmentBooked(
            effective_on=on,
            area=area,
            kind=cmd.kind,
            assessment_on=cmd.assessment_on,
            short_notice=short,
        )
    ]


def complete_assessment(
    state: CaseState, cmd: c.CompleteAssessment, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The User CIO completed the booked assessment, not before its booked date."""
    area = cmd.area
    require_applicable(state, area)
    a = state.security if area == "security" else state.privacy
    if a.phase != "booked" or a.booked_kind is None:
        raise stage_error(state, f"no {area} assessment is booked")
    not_before(on, a.booked_for, f"the {area} assessment booked")
    return [ev.AssessmentCompleted(effective_on=on, area=area, kind=a.booked_kind)]


def set_status(
    state: CaseState, cmd: c.SetAssuranceStatus, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The Panel sets a status the rules version knows; it records whether it allows completion."""
    area = cmd.area
    require_applicable(state, area)
    a = state.security if area == "security" else state.privacy
    if a.phase != "assessed":
        raise stage_error(state, f"the Panel sets the {area} status after an assessment")
    rules = rules_for(state.rules_version)
    if area == "security":
        check_security_status(rules, cmd.status)
        ok = security_allows_completion(rules, cmd.status)
    else:
        check_privacy_status(rules, cmd.status)
        ok = privacy_allows_completion(rules, cmd.status, state.revision)
    return [
        ev.AssuranceStatusSet(
            effective_on=on,
            area=area,
            status=cmd.status,
            allows_completion=ok,
            conditions=cmd.conditions,
        )
    ]
