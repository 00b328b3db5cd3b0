"""DCC User mandates (User Entry Process Guidance v1.3, s.2.2; Small Supplier checklist)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.mandates import (
    Mandate,
    MandateStatus,
    mandate_for,
    mandate_status,
)
from domain.roles import Licence, PartyCategory, PartyProfile, UserRole


def party(category: PartyCategory, **extra: object) -> PartyProfile:
    fields: dict[str, object] = {
        "party_id": "p1",
        "party_name": "Party One",
        "category": category,
        "licences": list(Licence),
    }
    fields.update(extra)
    return PartyProfile.model_validate(fields)


SUPPLIER_ROLES = [UserRole.IMPORT_SUPPLIER, UserRole.GAS_SUPPLIER]
"""The roles the supplier mandate covers (not Export Supplier)."""


@pytest.mark.parametrize("role", SUPPLIER_ROLES)
def test_large_supplier(role: UserRole) -> None:
    m = mandate_for(party(PartyCategory.LARGE_SUPPLIER), role)
    assert m.due == date(2017, 5, 25)
    assert "s.2.2" in m.source
    assert not m.derogated


@pytest.mark.parametrize("role", SUPPLIER_ROLES)
def test_small_domestic_supplier(role: UserRole) -> None:
    assert mandate_for(party(PartyCategory.SMALL_SUPPLIER), role).due == date(2017, 11, 25)


@pytest.mark.parametrize("category", [PartyCategory.LARGE_SUPPLIER, PartyCategory.SMALL_SUPPLIER])
def test_non_domestic_supplier(category: PartyCategory) -> None:
    m = mandate_for(party(category, supplies_domestic=False), UserRole.GAS_SUPPLIER)
    assert m.due == date(2018, 8, 31)


def test_controlled_market_entry_derogation() -> None:
    m = mandate_for(
        party(PartyCategory.SMALL_SUPPLIER, controlled_market_entry=True),
        UserRole.IMPORT_SUPPLIER,
    )
    assert m.derogated
    assert m.due == date(2017, 11, 25)
    assert "Controlled Market Entry" in m.note


def test_supplier_in_other_user_role_has_no_mandate() -> None:
    m = mandate_for(party(PartyCategory.LARGE_SUPPLIER), UserRole.OTHER_USER)
    assert m.due is None
    assert "Other User" in m.note


def test_dno_is_judged_against_the_later_date_showing_the_earlier() -> None:
    m = mandate_for(
        party(PartyCategory.ELECTRICITY_NETWORK_PARTY), UserRole.ELECTRICITY_DISTRIBUTOR
    )
    assert m.due == date(2018, 1, 21)
    assert "Gemserv" in m.source
    assert [a.due for a in m.alternatives] == [date(2017, 11, 12)]
    assert "v1.3" in m.alternatives[0].source


@pytest.mark.parametrize("category", [PartyCategory.LARGE_SUPPLIER, PartyCategory.SMALL_SUPPLIER])
def test_export_supplier_is_not_mandated(category: PartyCategory) -> None:
    m = mandate_for(party(category), UserRole.EXPORT_SUPPLIER)
    assert m.due is None
    assert "Export Supplier" in m.note
    assert mandate_status(m, None, None, date(2026, 11, 30)) is MandateStatus.NO_MANDATE


def test_a_supplier_licensed_after_its_date_is_due_from_its_licence() -> None:
    licensed = party(PartyCategory.SMALL_SUPPLIER, licensed_on={"gas_supply": date(2021, 3, 1)})
    m = mandate_for(licensed, UserRole.GAS_SUPPLIER)
    assert m.due == date(2021, 3, 1)
    assert "licence granted 2021-03-01" in m.note
    # not in breach on its first day: on track while a forecast completes in time
    assert mandate_status(m, None, date(2021, 2, 1), date(2021, 1, 4)) is MandateStatus.ON_TRACK
    early = party(PartyCategory.SMALL_SUPPLIER, licensed_on={"gas_supply": date(2015, 1, 5)})
    assert mandate_for(early, UserRole.GAS_SUPPLIER).due == date(2017, 11, 25)


def test_the_mandate_applies_from_the_cme_exit_date() -> None:
    exited = party(
        PartyCategory.SMALL_SUPPLIER,
        controlled_market_entry=True,
        cme_exit_on=date(2022, 6, 30),
    )
    m = mandate_for(exited, UserRole.IMPORT_SUPPLIER)
    assert (m.due, m.derogated) == (date(2022, 6, 30), False)
    assert mandate_status(m, None, None, date(2022, 7, 1)) is MandateStatus.BREACHED
    assert mandate_status(m, date(2022, 6, 30), None, date(2022, 7, 1)) is MandateStatus.MET


def test_cases_opened_before_revision_2_keep_the_old_reading() -> None:
    assert mandate_for(party(PartyCategory.SMALL_SUPPLIER), UserRole.EXPORT_SUPPLIER, 1).due == (
        date(2017, 11, 25)
    )
    dno = party(PartyCategory.ELECTRICITY_NETWORK_PARTY)
    assert mandate_for(dno, UserRole.ELECTRICITY_DISTRIBUTOR, 1).due == date(2017, 11, 12)


def test_idno_has_no_mandate() -> None:
    m = mandate_for(
        party(PartyCategory.ELECTRICITY_NETWORK_PARTY, is_idno=True),
        UserRole.ELECTRICITY_DISTRIBUTOR,
    )
    assert m.due is None
    assert "IDNO" in m.note


def test_gas_transporter_has_no_mandate() -> None:
    m = mandate_for(party(PartyCategory.GAS_NETWORK_PARTY), UserRole.GAS_TRANSPORTER)
    assert m.due is None
    assert "Gas Network Operators" in m.note


@pytest.mark.parametrize("role", list(UserRole))
def test_other_sec_party_never_mandated(role: UserRole) -> None:
    assert mandate_for(party(PartyCategory.OTHER_SEC_PARTY), role).due is None


def test_network_party_in_supplier_role_not_mandated() -> None:
    m = mandate_for(party(PartyCategory.ELECTRICITY_NETWORK_PARTY), UserRole.IMPORT_SUPPLIER)
    assert m.due is None


DUE = date(2017, 11, 25)
MANDATE = Mandate(due=DUE, source="test")


@pytest.mark.parametrize(
    ("completed", "forecast", "today", "status"),
    [
        (date(2017, 11, 1), None, date(2020, 1, 1), MandateStatus.MET),
        (DUE, None, DUE, MandateStatus.MET),
        (date(2017, 11, 26), None, date(2017, 11, 26), MandateStatus.BREACHED),
        (None, None, date(2017, 11, 26), MandateStatus.BREACHED),
        (None, date(2017, 11, 1), date(2017, 11, 26), MandateStatus.BREACHED),
        (None, date(2017, 12, 1), date(2017, 10, 1), MandateStatus.AT_RISK),
        (None, None, date(2017, 10, 1), MandateStatus.AT_RISK),
        (None, DUE, date(2017, 10, 1), MandateStatus.ON_TRACK),
        (None, date(2017, 11, 20), DUE, MandateStatus.ON_TRACK),
    ],
)
def test_mandate_status(
    completed: date | None, forecast: date | None, today: date, status: MandateStatus
) -> None:
    assert mandate_status(MANDATE, completed, forecast, today) is status


def test_derogated_and_no_mandate() -> None:
    derogated = Mandate(due=DUE, source="s", derogated=True)
    assert mandate_status(derogated, None, None, date(2030, 1, 1)) is MandateStatus.DEROGATED
    none = Mandate(due=None, source="s")
    assert mandate_status(none, None, None, date(2030, 1, 1)) is MandateStatus.NO_MANDATE


def test_status_values() -> None:
    assert [s.value for s in MandateStatus] == [
        "met",
        "on_track",
        "at_risk",
        "breached",
        "derogated",
        "no_mandate",
    ]
    assert MandateStatus.AT_RISK.label == "at risk"
