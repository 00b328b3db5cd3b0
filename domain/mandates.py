"""DCC User mandates: the date by which a licensee must be a DCC User (guidance s.2.2).

Not being a DCC User by the mandate date is a breach of licence conditions. Where sources
differ (the DNO date) both are kept, each with its source.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.roles import ROLE_LICENCE, SUPPLIER_ROLES, PartyCategory, PartyProfile, UserRole

_GUIDANCE = "User Entry Process Guidance v1.3 (June 2018), s.2.2"


class MandateDate(BaseModel):
    """One published mandate date, with what it applies to and where it is stated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    applies_to: str
    due: date
    source: str


LARGE_SUPPLIER = MandateDate(
    applies_to="Large Supplier (domestic)", due=date(2017, 5, 25), source=_GUIDANCE
)
SMALL_DOMESTIC_SUPPLIER = MandateDate(
    applies_to="Small (other) domestic Supplier",
    due=date(2017, 11, 25),
    source=_GUIDANCE + "; SEC Checklist for Small Suppliers v1.3 (Dec 2017)",
)
NON_DOMESTIC_SUPPLIER = MandateDate(
    applies_to="Non-domestic Supplier",
    due=date(2018, 8, 31),
    source=_GUIDANCE + "; SEC Checklist for Small Suppliers v1.3 (Dec 2017)",
)
ELECTRICITY_DNO = MandateDate(
    applies_to="Electricity Distribution Network Operator", due=date(2017, 11, 12), source=_GUIDANCE
)
ELECTRICITY_DNO_ALTERNATIVE = MandateDate(
    applies_to="Electricity Distribution Network Operator",
    due=date(2018, 1, 21),
    source="Gemserv, 'De-mystifying the DCC User Entry Process' (late 2017)",
)

CME_NOTE = (
    "new entrant under Controlled Market Entry: derogated until it leaves CME; ask the Ofgem "
    "Licensing team (User Entry Process Guidance v1.3, s.2.2)"
)


class Mandate(BaseModel):
    """The mandate that applies to one Party in one User Role (``due`` None: no mandate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    due: date | None
    source: str
    derogated: bool = False
    alternatives: list[MandateDate] = Field(default_factory=list)
    note: str = ""


def _from(d: MandateDate, *, derogated: bool = False, note: str = "") -> Mandate:
    return Mandate(
        due=d.due, source=d.source, derogated=derogated, note=note or f"mandate: {d.applies_to}"
    )


MANDATED_SUPPLIER_ROLES = frozenset({UserRole.IMPORT_SUPPLIER, UserRole.GAS_SUPPLIER})
"""The supplier mandate follows supplying consumers and operating smart meters; no source
extends it to Export Supplier (domain reference "Mandates")."""

EXPORT_NOTE = (
    "no DCC User mandate as Export Supplier: the supplier mandate covers supplying consumers "
    "(Import Supplier, Gas Supplier); no source extends it to Export Supplier"
)


def mandate_for(party: PartyProfile, role: UserRole, revision: int = 2) -> Mandate:
    """The DCC User mandate for ``party`` in ``role`` (User Entry Process Guidance v1.3, s.2.2).

    Revision 2 (domain.revision): Import and Gas Supplier only (not Export Supplier); due from
    the later of the category's date and the relevant licence's grant date; under Controlled
    Market Entry derogated until the recorded exit date, due from then; Electricity DNOs
    reported against the later of the two published dates (21 Jan 2018), the earlier shown.
    """
    if revision < 2:
        return _mandate_revision_1(party, role)
    if role is UserRole.EXPORT_SUPPLIER and party.category in _SUPPLIER_CATEGORIES:
        return Mandate(due=None, source=_GUIDANCE, note=EXPORT_NOTE)
    if role in MANDATED_SUPPLIER_ROLES and party.category in _SUPPLIER_CATEGORIES:
        chosen = _supplier_date(party)
        due, note = chosen.due, f"mandate: {chosen.applies_to}"
        licensed = party.licensed_on.get(ROLE_LICENCE[role])
        if licensed is not None and licensed > due:
            due, note = licensed, f"{note}; due from the licence granted {licensed.isoformat()}"
        if party.controlled_market_entry:
            if party.cme_exit_on is None:
                return Mandate(due=due, source=chosen.source, derogated=True, note=CME_NOTE)
            if party.cme_exit_on > due:
                due = party.cme_exit_on
            note = f"{note}; derogated under Controlled Market Entry until {due.isoformat()}"
        return Mandate(due=due, source=chosen.source, note=note)
    if role is UserRole.ELECTRICITY_DISTRIBUTOR and (
        party.category is PartyCategory.ELECTRICITY_NETWORK_PARTY
    ):
        if party.is_idno:
            return Mandate(
                due=None, source=_GUIDANCE, note="IDNOs do not currently have a DCC User mandate"
            )
        return Mandate(
            due=ELECTRICITY_DNO_ALTERNATIVE.due,
            source=ELECTRICITY_DNO_ALTERNATIVE.source,
            alternatives=[ELECTRICITY_DNO],
            note="mandate: Electricity DNO; reported against the later published date "
            "(21 Jan 2018); the guidance v1.3 gives 12 Nov 2017",
        )
    return _mandate_revision_1(party, role)


_SUPPLIER_CATEGORIES = (PartyCategory.LARGE_SUPPLIER, PartyCategory.SMALL_SUPPLIER)


def _supplier_date(party: PartyProfile) -> MandateDate:
    if not party.supplies_domestic:
        return NON_DOMESTIC_SUPPLIER
    if party.category is PartyCategory.LARGE_SUPPLIER:
        return LARGE_SUPPLIER
    return SMALL_DOMESTIC_SUPPLIER


def _mandate_revision_1(party: PartyProfile, role: UserRole) -> Mandate:
    """The reading of cases opened before revision 2 (kept: their decisions were made so).

    Suppliers (Large / Small category) in a supplier role: Large domestic 25 May 2017, Small
    domestic 25 Nov 2017, non-domestic 31 Aug 2018; a Controlled Market Entry new entrant is
    derogated (the date is kept for information). An Electricity Network Party acting as
    Electricity Distributor, unless an IDNO: 12 Nov 2017 per the guidance, with the 21 Jan
    2018 of an older article as an alternative. IDNOs, Gas Transporters and every other
    Party/role: no mandate.
    """
    if role in SUPPLIER_ROLES and party.category in (
        PartyCategory.LARGE_SUPPLIER,
        PartyCategory.SMALL_SUPPLIER,
    ):
        if not party.supplies_domestic:
            chosen = NON_DOMESTIC_SUPPLIER
        elif party.category is PartyCategory.LARGE_SUPPLIER:
            chosen = LARGE_SUPPLIER
        else:
            chosen = SMALL_DOMESTIC_SUPPLIER
        if party.controlled_market_entry:
            return _from(chosen, derogated=True, note=CME_NOTE)
        return _from(chosen)
    if role is UserRole.ELECTRICITY_DISTRIBUTOR and (
        party.category is PartyCategory.ELECTRICITY_NETWORK_PARTY
    ):
        if party.is_idno:
            return Mandate(
                due=None,
                source=_GUIDANCE,
                note="IDNOs do not currently have a DCC User mandate",
            )
        return Mandate(
            due=ELECTRICITY_DNO.due,
            source=ELECTRICITY_DNO.source,
            alternatives=[ELECTRICITY_DNO_ALTERNATIVE],
            note="mandate: Electricity DNO; an older Gemserv article gives 21 Jan 2018",
        )
    if role is UserRole.GAS_TRANSPORTER:
        return Mandate(
            due=None,
            source=_GUIDANCE,
            note="Gas Network Operators do not currently have a DCC User mandate",
        )
    return Mandate(
        due=None,
        source=_GUIDANCE,
        note=f"no DCC User mandate for a {party.category.label} as {role.label}",
    )


class MandateStatus(StrEnum):
    """How a case stands against its mandate."""

    MET = "met"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    DEROGATED = "derogated"
    NO_MANDATE = "no_mandate"

    @property
    def label(self) -> str:
        """The status in words ("at risk")."""
        return self.value.replace("_", " ")


def mandate_status(
    mandate: Mandate, completed_on: date | None, forecast: date | None, today: date
) -> MandateStatus:
    """Where a case stands against ``mandate`` on ``today``.

    Derogated wins, then no mandate. Completed on or before the due date: met; after it:
    breached. Not completed: breached once ``today`` is past the due date; at risk if the
    forecast completion is after the due date, or there is no forecast (nothing shows it will
    be met); otherwise on track (forecast on or before the due date). On the due date itself
    an unfinished case is not yet breached.
    """
    if mandate.derogated:
        return MandateStatus.DEROGATED
    if mandate.due is None:
        return MandateStatus.NO_MANDATE
    if completed_on is not None:
        return MandateStatus.MET if completed_on <= mandate.due else MandateStatus.BREACHED
    if today > mandate.due:
        return MandateStatus.BREACHED
    if forecast is None or forecast > mandate.due:
        return MandateStatus.AT_RISK
    return MandateStatus.ON_TRACK


class CaseMandate(BaseModel):
    """One role case's facts for its Party's mandate: the mandate and how the case stands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mandate: Mandate
    completed_on: date | None = None
    forecast_completion_on: date | None = None


_WORST_FIRST = (
    MandateStatus.BREACHED,
    MandateStatus.AT_RISK,
    MandateStatus.ON_TRACK,
    MandateStatus.DEROGATED,
    MandateStatus.MET,
)


def party_mandate_status(
    cases: Iterable[CaseMandate], today: date
) -> tuple[MandateStatus, date | None]:
    """A Party's standing against its DCC User mandate on ``today``, over its role cases.

    Only cases under a mandate (or derogated from one) count; the Party stands as its worst
    such case (breached, at risk, on track, derogated, met in that order) and its mandate date
    is the earliest of theirs. No mandated case: no mandate.
    """
    statuses: list[MandateStatus] = []
    due: list[date] = []
    for case in cases:
        if case.mandate.due is None and not case.mandate.derogated:
            continue
        statuses.append(
            mandate_status(case.mandate, case.completed_on, case.forecast_completion_on, today)
        )
        if case.mandate.due is not None:
            due.append(case.mandate.due)
    worst = next((s for s in _WORST_FIRST if s in statuses), MandateStatus.NO_MANDATE)
    return worst, min(due, default=None)


def party_srept_completed_on(recorded: Iterable[date | None]) -> date | None:
    """SREPT (SEC L7) belongs to the Party: recorded on any of its cases, the earliest counts."""
    return min((d for d in recorded if d is not None), default=None)
