"""Revision 3: what a role case takes from its Party record, and what it leaves there.

Credit Support and the security assessment belong to the Party (H1.10(c), H1.10(e); guidance
s.6, s.9): a Party-backed case refuses the messages that would keep its own copy and names the
record's message instead. The record's position reaches the case as ``RecordPartyPosition``,
read from the record itself by the workflow.
"""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain import events as ev
from domain.calendar import WorkingDayCalendar
from domain.errors import InvalidInputError
from domain.party import record_id
from domain.state import CaseState

_CREDIT, _SECURITY = "Credit Support", "the security assessment"
_OWNED_BY_PARTY: dict[type[c.Command], tuple[str, str]] = {
    c.NotifyCreditCoverRequirement: (_CREDIT, "notify_party_credit_cover"),
    c.LodgeCreditSupport: (_CREDIT, "lodge_instrument"),
    c.AssessCreditSupport: (_CREDIT, "assess_party_credit"),
    c.BookSecurityAssessment: (_SECURITY, "book_party_security_assessment"),
    c.CompleteSecurityAssessment: (_SECURITY, "complete_party_security_assessment"),
    c.SetSecurityStatus: (_SECURITY, "set_party_security_status"),
}
"""Case messages whose facts the Party record holds: what they are about, and the record's
message for each."""


def refuse_party_owned(state: CaseState, command: c.Command) -> None:
    """Refuse a credit or security message on a Party-backed case, naming where it goes."""
    record = record_id(state.party.party_id)
    owned = _OWNED_BY_PARTY.get(type(command))
    if owned is not None:
        what, instead = owned
        raise InvalidInputError(
            f"{what} belongs to the Party, not to one role: send {instead!r} to the Party "
            f"record {record} (this case takes its position from there)",
            field="payload",
        )
    if isinstance(command, c.RaiseDispute) and command.subject in ("credit", "security"):
        raise InvalidInputError(
            f"a dispute about the Party's {command.subject} is not recorded on one role case; "
            f"the Party record {record} holds the {command.subject} facts and uep does not yet "
            "record disputes there: record the Panel's or Ofgem's decision on the record "
            "(see docs/operator-guide.md, 'Disputes about the Party record')",
            field="subject",
        )


def record_position(
    state: CaseState, cmd: c.RecordPartyPosition, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Record the Party record's position when it says something new (a repeat, or older
    news than the case already has, records nothing)."""
    if not state.party_backed:
        raise InvalidInputError(
            "this case opened before the Party record and keeps its own credit and security",
            field="position",
        )
    p = cmd.position
    if p.party_record != record_id(state.party.party_id):
        raise InvalidInputError(
            f"{p.party_record} is not the record of Party {state.party.party_id}",
            field="position.party_record",
        )
    known = state.from_party
    if known is not None:
        if p.party_version < known.version:
            return []
        same = (known.credit, known.security, known.user_id_ranges) == (
            p.credit,
            p.security,
            p.user_id_ranges,
        )
        if same:
            return []
    return [
        ev.PartyPositionRecorded(
            effective_on=on,
            party_record=p.party_record,
            party_version=p.party_version,
            party_event=p.party_event,
            credit=p.credit,
            security=p.security,
            user_id_ranges=p.user_id_ranges,
        )
    ]
