"""(a) User IDs (H1.4, guidance s.4) and SREPT (SEC L7)."""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.errors import InvalidInputError
from domain.handlers.common import stage_error
from domain.state import CaseState

# -- (a) User ID ----------------------------------------------------------------------------


def propose_user_id(
    state: CaseState, cmd: c.ProposeUserId, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Propose an EUI-64 User ID; not while one awaits the DCC or is accepted."""
    uid = state.user_id
    if uid.status == "proposed":
        raise stage_error(state, f"User ID {uid.proposed} is already proposed to the DCC")
    if uid.status == "accepted":
        raise stage_error(state, f"the DCC already accepted User ID {uid.accepted}")
    if cmd.user_id in uid.rejected:
        raise InvalidInputError(
            f"the DCC rejected {cmd.user_id} for this role; propose a different id",
            field="user_id",
        )
    return [ev.UserIdProposed(effective_on=on, user_id=cmd.user_id)]


def answer_user_id(
    state: CaseState, cmd: c.AcceptUserId | c.RejectUserId, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The DCC accepts or rejects the proposed id, and only that id."""
    uid = state.user_id
    if uid.status != "proposed":
        raise stage_error(state, "no User ID is awaiting the DCC's answer")
    if cmd.user_id != uid.proposed:
        raise InvalidInputError(
            f"{cmd.user_id} is not the proposed User ID ({uid.proposed})", field="user_id"
        )
    if isinstance(cmd, c.RejectUserId):
        return [ev.UserIdRejected(effective_on=on, user_id=cmd.user_id, reason=cmd.reason)]
    return [ev.UserIdAccepted(effective_on=on, user_id=cmd.user_id)]


def record_srept(
    state: CaseState, cmd: c.RecordSreptCompleted, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Record SREPT completion (SEC L7), once."""
    if state.srept_completed_on is not None:
        raise stage_error(state, f"SREPT was already recorded on {state.srept_completed_on}")
    return [ev.SreptCompleted(effective_on=on)]
