"""Evidence and completion (H1.11, H1.12), disputes (H1.13), withdrawal, calendar corrections."""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.errors import InvalidInputError
from domain.rules.assurance import require_applicable
from domain.rules.common import require_not_paused, stage_error
from domain.rules.uept import STEP_WORKING_DAYS
from domain.state import CaseState

# -- evidence and completion (H1.11, H1.12) ------------------------------------------------


def verify_evidence(
    state: CaseState, cmd: c.VerifyEvidence, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """SECAS verifies a met requirement once (H1.11); the last one completes the UEP."""
    req = cmd.requirement
    if req not in state.applicable_requirements():
        raise InvalidInputError(
            f"{req} does not apply to {state.role.label} (privacy is for Other User only)",
            field="requirement",
        )
    if req in state.verified:
        raise stage_error(
            state, f"SECAS already verified the {req} evidence on {state.verified[req]}"
        )
    require_not_paused(state, req)
    if not state.requirement_met(req):
        raise stage_error(
            state, f"the {req} requirement is not met yet, so there is no evidence to verify"
        )
    out: list[ev.Event] = [
        ev.EvidenceVerified(effective_on=on, requirement=req, reference=cmd.reference)
    ]
    # Complete only when every requirement is met now and verified (credit can regress after
    # verification: a monthly review may raise the requirement over the threshold).
    remaining = [
        r
        for r in state.applicable_requirements()
        if r != req and (r not in state.verified or not state.requirement_met(r))
    ]
    if not remaining:
        assert state.user_id.accepted is not None
        out.append(ev.UserEntryProcessCompleted(effective_on=on, user_id=state.user_id.accepted))
    return out


def completion_notice(
    state: CaseState, cmd: c.RecordCompletionNotice, today: date
) -> list[ev.Event]:
    """Record SECAS's notice to one recipient, once (H1.11, H1.12)."""
    if state.status != "completed":
        raise stage_error(state, "completion notices follow the completion of the UEP")
    if cmd.recipient in state.notified:
        return []
    return [ev.CompletionNotified(effective_on=today, recipient=cmd.recipient)]


# -- disputes (H1.13) -----------------------------------------------------------------------


def raise_dispute(
    state: CaseState, cmd: c.RaiseDispute, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Raise a dispute under H1.13; it pauses its step until determined."""
    if cmd.subject == "privacy":
        require_applicable(state, "privacy")
    require_not_paused(state, cmd.subject)
    dispute_id = f"D{len(state.disputes) + 1}"
    return [
        ev.DisputeRaised(
            effective_on=on, dispute_id=dispute_id, subject=cmd.subject, reason=cmd.reason
        )
    ]


def require_dispute_in(state: CaseState, dispute_id: str, phase: str, what: str) -> None:
    """Refuse unless the dispute exists and is in the expected phase."""
    d = state.dispute(dispute_id)
    if d is None:
        known = ", ".join(x.dispute_id for x in state.disputes) or "none"
        raise InvalidInputError(
            f"no dispute {dispute_id!r} (disputes: {known})", field="dispute_id"
        )
    if d.phase != phase:
        raise stage_error(state, f"dispute {dispute_id} is {d.phase.replace('_', ' ')}; {what}")


def panel_determination(
    state: CaseState, cmd: c.RecordPanelDetermination, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The SEC Panel determines a dispute it holds."""
    require_dispute_in(
        state, cmd.dispute_id, "with_panel", "the Panel determines disputes it holds"
    )
    return [
        ev.PanelDeterminationMade(
            effective_on=on, dispute_id=cmd.dispute_id, upheld=cmd.upheld, summary=cmd.summary
        )
    ]


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
    state: CaseState, cmd: c.RecordOfgemDetermination, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Ofgem determines a referred dispute."""
    require_dispute_in(state, cmd.dispute_id, "with_ofgem", "Ofgem determines referred disputes")
    return [
        ev.OfgemDeterminationMade(
            effective_on=on, dispute_id=cmd.dispute_id, upheld=cmd.upheld, summary=cmd.summary
        )
    ]


# -- the case -------------------------------------------------------------------------------


def withdraw(
    state: CaseState, cmd: c.WithdrawCase, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The Party withdraws; its User ID claim is released with the event."""
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


def extended_calendar(cal: WorkingDayCalendar, later: WorkingDayCalendar) -> WorkingDayCalendar:
    """The snapshot grown with the years after it; its own (possibly corrected) days are kept."""
    added = [d for d in later.holidays if d.year > cal.last_year]
    return WorkingDayCalendar(
        region=cal.region,
        first_year=cal.first_year,
        last_year=max(cal.last_year, later.last_year),
        holidays=[*cal.holidays, *added],
    )


def correct_calendar(
    state: CaseState, cmd: c.CorrectCalendar, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    """Change the non-working days and recompute every open DCC deadline."""
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
