"""The Party record as a person reads it: roles and their cases, credit, security, User IDs and
what the Party (or the DCC, the User CIO, the Panel, SECAS) must still do.

Pure: the workflow's ``state`` query, ``uep party show`` and the ``party_board`` read model
all build it with the same function, judged on a given day.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from domain.credit import gbp
from domain.errors import DomainError
from domain.party import record_id
from domain.party.events import Instrument
from domain.party.position import CreditPosition, SecurityPosition
from domain.party.state import (
    CreditAssessment,
    CreditNotice,
    PartyState,
    SecurityAssessment,
    counted_on,
    credit_position,
    review_due_on,
    security_position,
    stops_counting_on,
)
from domain.roles import PartyProfile, UserRole
from domain.userid import format_user_id


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoleView(_View):
    """One role the Party is entering (or entered), its case and its security position."""

    role: UserRole
    role_label: str
    case_id: str
    status: str
    user_ids: list[str] = Field(default_factory=list)
    security: SecurityPosition


class InstrumentView(_View):
    """One instrument with the day it stops counting and whether it counts today."""

    reference: str
    form: str
    amount: Decimal
    provider: str | None
    expires_on: date | None
    lodged_on: date
    status: str
    counts_until: date | None
    """The first day it no longer counts (a Bank Guarantee: a month before expiry)."""
    counts_today: bool
    why_not: str | None = None


class PartyTodo(_View):
    """Something the Party record waits for, and who must do it."""

    who: str
    what: str


class PartyView(_View):
    """The whole Party record on ``as_of``."""

    record_id: str
    party_id: str
    party_name: str
    profile: PartyProfile
    opened_on: date
    roles: list[RoleView]
    user_id_ranges: list[str]
    credit_notice: CreditNotice | None
    credit_assessment: CreditAssessment | None
    credit: CreditPosition
    review_due_on: date | None
    instruments: list[InstrumentView]
    security: list[SecurityAssessment]
    outstanding: list[PartyTodo]
    stream_version: int
    as_of: date


def _shown(user_id: str) -> str:
    try:
        return format_user_id(user_id)
    except DomainError:
        return user_id


def build_party_view(state: PartyState, today: date, stream_version: int = 0) -> PartyView:
    """The Party record as read on ``today``."""
    counted, refused = counted_on(state, today)
    counting = {i.reference for i in counted}
    credit = credit_position(state, today)
    roles = [
        RoleView(
            role=case.role,
            role_label=case.role.label,
            case_id=case.case_id,
            status=case.status,
            user_ids=[_shown(u) for u in case.user_ids],
            security=security_position(state, case.role),
        )
        for case in state.cases
    ]
    return PartyView(
        record_id=record_id(state.party_id),
        party_id=state.party_id,
        party_name=state.profile.party_name,
        profile=state.profile,
        opened_on=state.opened_on,
        roles=roles,
        user_id_ranges=[f"{_shown(a)} to {_shown(b)}" for a, b in state.user_id_ranges],
        credit_notice=state.credit_notice,
        credit_assessment=state.credit_assessment,
        credit=credit,
        review_due_on=review_due_on(state),
        instruments=[_instrument(i, i.reference in counting, refused) for i in state.instruments],
        security=list(state.security),
        outstanding=party_outstanding(state, today),
        stream_version=stream_version,
        as_of=today,
    )


def _instrument(i: Instrument, counts: bool, refused: dict[str, str]) -> InstrumentView:
    return InstrumentView(
        reference=i.reference,
        form=str(i.form),
        amount=i.amount,
        provider=i.provider,
        expires_on=i.expires_on,
        lodged_on=i.lodged_on,
        status=i.status,
        counts_until=stops_counting_on(i),
        counts_today=counts,
        why_not=refused.get(i.reference) if i.status == "lodged" else f"{i.status}",
    )


def party_outstanding(state: PartyState, today: date) -> list[PartyTodo]:
    """What the record waits for: credit, security for each open role, ranges, the review."""
    out: list[PartyTodo] = []
    open_roles = [case.role for case in state.open_cases()]
    if open_roles and not state.user_id_ranges:
        out.append(PartyTodo(who="SECAS", what="allocate the Party a User ID range (H1.4-H1.6)"))
    credit = credit_position(state, today)
    if open_roles and not credit.met:
        out.append(PartyTodo(who=credit.who, what=f"credit: {credit.reason}"))
    for role in dict.fromkeys(open_roles):
        security = security_position(state, role)
        if not security.met:
            out.append(
                PartyTodo(who=security.who, what=f"security ({role.label}): {security.reason}")
            )
    due = review_due_on(state)
    if due is not None and due <= today:
        out.append(
            PartyTodo(
                who="DCC",
                what=f"review the Credit Cover Requirement (monthly; due since {due.isoformat()})",
            )
        )
    soon = credit.valid_until is not None and (credit.valid_until - today).days <= 31
    if credit.met and soon and credit.valid_until is not None and credit.requirement:
        out.append(
            PartyTodo(
                who="Party",
                what=f"replace or extend Credit Support before {credit.valid_until.isoformat()}: "
                f"from then the support that counts falls below {gbp(credit.requirement)}",
            )
        )
    return out
