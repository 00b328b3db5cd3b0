"""Disputes under SEC H1.13 (User Entry Process Guidance v1.3 (June 2018) s.10)."""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.errors import InvalidInputError
from domain.handlers.assurance import require_applicable
from domain.handlers.common import require_not_paused, stage_error
from domain.state import CaseState


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
