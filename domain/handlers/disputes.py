"""Disputes under SEC H1.13 (User Entry Process Guidance v1.3 (June 2018) s.10).

A Party may dispute an adverse outcome of its UEPT (H14), its security (G8) or privacy (I2)
assessment, or the level of Credit Support (J3.15). The SEC Panel determines; the Party may refer
the Panel's determination to Ofgem for a final determination. Under revision 2
(domain.revision): a dispute needs a recorded adverse outcome to be about, and a determination
records whose position is upheld and the outcome it determines, which then takes effect.

The DCC's clock (revision 2): a UEPT dispute can only follow an adverse outcome (further testing
required, an unsuccessful quality gate), when no DCC completion step is open, so the DCC's answer
is never refused while its deadline runs. As a guard all the same, the timer records no miss for
a step of a paused area, and when the dispute is determined any open DCC deadline moves by the
Working Days the dispute was with the Panel or Ofgem.
"""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain import events as ev
from domain.assurance import (
    AssuranceStatus,
    check_privacy_status,
    check_security_status,
    privacy_allows_completion,
    rules_for,
    security_allows_completion,
)
from domain.calendar import WorkingDayCalendar
from domain.errors import InvalidInputError, OutOfStageError
from domain.handlers.assurance import require_applicable
from domain.handlers.common import require_not_paused, stage_error
from domain.state import CaseState, DisputeState

_WHO = {"with_panel": "the SEC Panel", "with_ofgem": "Ofgem"}


def adverse_outcome(state: CaseState, subject: str) -> str | None:
    """The recorded adverse outcome of ``subject`` a dispute can be about, in words; None if
    there is none."""
    if subject == "uept":
        return state.uept.adverse or None
    if subject in ("security", "privacy"):
        a = state.security if subject == "security" else state.privacy
        if a.phase == "status_set" and not a.allows_completion and a.status is not None:
            return f"the {subject} assurance status {AssuranceStatus(a.status).label}"
        return None
    credit = state.credit
    if credit.phase == "required" and credit.requirement is not None:
        refused = "; ".join(credit.refusals)
        return f"the Credit Support required (GBP {credit.requirement})" + (
            f": {refused}" if refused else ""
        )
    return None


def raise_dispute(
    state: CaseState, cmd: c.RaiseDispute, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Raise a dispute under H1.13 against a recorded adverse outcome; it pauses its step."""
    if cmd.subject == "privacy":
        require_applicable(state, "privacy")
    require_not_paused(state, cmd.subject)
    if state.revision >= 2 and adverse_outcome(state, cmd.subject) is None:
        raise stage_error(
            state,
            f"a dispute is raised against a recorded adverse outcome of {cmd.subject} (an "
            "unsuccessful UEPT, a Deferred or Rejected status, a Credit Support requirement or "
            "refusal); none is recorded",
        )
    dispute_id = f"D{len(state.disputes) + 1}"
    return [
        ev.DisputeRaised(
            effective_on=on, dispute_id=dispute_id, subject=cmd.subject, reason=cmd.reason
        )
    ]


def require_dispute_in(state: CaseState, dispute_id: str, phase: str, what: str) -> DisputeState:
    """The dispute, refused unless it exists and is in the expected phase."""
    d = state.dispute(dispute_id)
    if d is None:
        known = ", ".join(x.dispute_id for x in state.disputes) or "none"
        raise InvalidInputError(
            f"no dispute {dispute_id!r} (disputes: {known})", field="dispute_id"
        )
    if d.phase != phase:
        raise stage_error(state, f"dispute {dispute_id} is {d.phase.replace('_', ' ')}; {what}")
    return d


def panel_determination(
    state: CaseState, cmd: c.RecordPanelDetermination, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    """The SEC Panel determines a dispute it holds; the outcome it determines takes effect."""
    d = require_dispute_in(
        state, cmd.dispute_id, "with_panel", "the Panel determines disputes it holds"
    )
    made = ev.PanelDeterminationMade(
        effective_on=on,
        dispute_id=cmd.dispute_id,
        upheld=cmd.upheld,
        summary=cmd.summary,
        outcome=cmd.outcome,
    )
    return [made, *_effects(state, d, cmd.outcome, cmd.summary, "the SEC Panel", on, cal)]


def refer_to_ofgem(
    state: CaseState, cmd: c.ReferDisputeToOfgem, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The Party refers the Panel's determination to Ofgem (final determination)."""
    require_dispute_in(
        state,
        cmd.dispute_id,
        "panel_determined",
        "only a Panel determination can be referred to Ofgem",
    )
    return [ev.DisputeReferredToOfgem(effective_on=on, dispute_id=cmd.dispute_id)]


def ofgem_determination(
    state: CaseState, cmd: c.RecordOfgemDetermination, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    """Ofgem determines a referred dispute; the outcome it determines takes effect."""
    d = require_dispute_in(
        state, cmd.dispute_id, "with_ofgem", "Ofgem determines referred disputes"
    )
    made = ev.OfgemDeterminationMade(
        effective_on=on,
        dispute_id=cmd.dispute_id,
        upheld=cmd.upheld,
        summary=cmd.summary,
        outcome=cmd.outcome,
    )
    return [made, *_effects(state, d, cmd.outcome, cmd.summary, "Ofgem", on, cal)]


def _effects(
    state: CaseState,
    d: DisputeState,
    outcome: str | None,
    summary: str,
    who: str,
    on: date,
    cal: WorkingDayCalendar,
) -> list[ev.Event]:
    """What a determination changes: the paused DCC deadlines move, the outcome applies."""
    out: list[ev.Event] = []
    if state.revision >= 2 and d.subject == "uept":
        out += _extend_dcc_deadlines(state, d, on, cal)
    if outcome is not None:
        out.append(_applied(state, d, outcome, summary, who, on))
    return out


def _extend_dcc_deadlines(
    state: CaseState, d: DisputeState, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    """Open DCC deadlines move by the Working Days the dispute paused them."""
    since = d.referred_on if d.phase == "with_ofgem" and d.referred_on else d.raised_on
    paused = max(0, cal.working_days_between(since, on))
    open_steps = [s for s in state.uept.dcc_steps if s.done_on is None]
    if paused == 0 or not open_steps:
        return []
    recomputed = {f"{s.step}:{s.cycle}": cal.add_working_days(s.due_on, paused) for s in open_steps}
    return [
        ev.DccDeadlinesExtended(
            effective_on=on,
            dispute_id=d.dispute_id,
            paused_working_days=paused,
            recomputed=recomputed,
        )
    ]


def _applied(
    state: CaseState, d: DisputeState, outcome: str, summary: str, who: str, on: date
) -> ev.Event:
    """The event that makes the determined outcome the case's, or a refusal if it does not
    fit the dispute's subject."""
    note = f"determined by {who} on dispute {d.dispute_id}" + (f": {summary}" if summary else "")
    if d.subject in ("security", "privacy"):
        return _status_applied(state, d.subject, outcome, note, on)
    if d.subject == "uept" and outcome == "uept_concluded":
        if state.uept.phase != "testing" or not state.uept.adverse:
            raise OutOfStageError(
                "UEPT has moved on since the disputed outcome (a new report was submitted); "
                "the determination cannot conclude the earlier cycle",
                waiting_for=[],
            )
        return ev.UeptConcludedByDetermination(
            effective_on=on, dispute_id=d.dispute_id, cycle=max(1, state.uept.cycle - 1)
        )
    if d.subject == "credit" and outcome == "credit_support_sufficient":
        return ev.CreditSupportFoundSufficient(effective_on=on, dispute_id=d.dispute_id)
    fits = {
        "uept": "uept_concluded",
        "credit": "credit_support_sufficient",
    }[d.subject]
    raise InvalidInputError(
        f"{outcome} is not an outcome of a {d.subject} dispute; it can determine {fits}",
        field="outcome",
    )


def _status_applied(
    state: CaseState, area: str, outcome: str, note: str, on: date
) -> ev.AssuranceStatusSet:
    rules = rules_for(state.rules_version)
    try:
        status = AssuranceStatus(outcome)
    except ValueError:
        raise InvalidInputError(
            f"{outcome} is not an assurance status; a {area} dispute determines a status",
            field="outcome",
        ) from None
    if area == "security":
        check_security_status(rules, status)
        ok = security_allows_completion(rules, status)
    else:
        check_privacy_status(rules, status)
        ok = privacy_allows_completion(rules, status, state.revision)
    return ev.AssuranceStatusSet(
        effective_on=on,
        area="security" if area == "security" else "privacy",
        status=status,
        allows_completion=ok,
        conditions=note,
    )
