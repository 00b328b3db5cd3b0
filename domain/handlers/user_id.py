"""(a) User IDs (H1.4, guidance s.4) and SREPT (SEC L7)."""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.errors import InvalidInputError
from domain.handlers.common import stage_error
from domain.party import record_id
from domain.state import CaseState
from domain.userid import format_user_id, in_ranges, is_group_address

# -- (a) User ID ----------------------------------------------------------------------------


def propose_user_id(
    state: CaseState, cmd: c.ProposeUserId, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Propose an EUI-64 User ID; not while one awaits the DCC or is accepted."""
    uid = state.user_id
    if uid.status == "proposed":
        raise stage_error(state, f"User ID {uid.proposed} is already proposed to the DCC")
    if state.party_backed:
        return _propose_another(state, cmd, on)
    if uid.status == "accepted":
        raise stage_error(state, f"the DCC already accepted User ID {uid.accepted}")
    if cmd.user_id in uid.rejected:
        raise InvalidInputError(
            f"the DCC rejected {cmd.user_id} for this role; propose a different id",
            field="user_id",
        )
    return [ev.UserIdProposed(effective_on=on, user_id=cmd.user_id)]


def _propose_another(state: CaseState, cmd: c.ProposeUserId, on: date) -> list[ev.Event]:
    """Revision 3: a role may hold several User IDs (H1.4: "one of the unique identification
    numbers"), each unicast and inside a range SECAS allocated to the Party (H1.4-H1.6)."""
    uid = state.user_id
    shown = format_user_id(cmd.user_id)
    if cmd.user_id in uid.accepted_ids:
        raise InvalidInputError(f"the DCC already accepted {shown} for this role", field="user_id")
    if cmd.user_id in uid.rejected:
        raise InvalidInputError(
            f"the DCC rejected {shown} for this role; propose a different id", field="user_id"
        )
    if is_group_address(cmd.user_id):
        raise InvalidInputError(
            f"{shown} is a group (multicast) EUI-64: the I/G bit of its first octet is set; a "
            "User ID identifies one User, so it must be an individual address",
            field="user_id",
        )
    terms = state.from_party
    ranges = terms.user_id_ranges if terms is not None else []
    record = record_id(state.party.party_id)
    if not ranges:
        raise stage_error(
            state,
            f"SECAS has not recorded a User ID range for Party {state.party.party_id}: the DCC "
            f"accepts only an id inside the Party's allocated range (allocate_user_id_range on "
            f"{record})",
        )
    if not in_ranges(cmd.user_id, ranges):
        allocated = ", ".join(f"{format_user_id(a)} to {format_user_id(b)}" for a, b in ranges)
        raise InvalidInputError(
            f"{shown} is outside the User ID range allocated to Party "
            f"{state.party.party_id} ({allocated}); the DCC accepts only an id inside it",
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
