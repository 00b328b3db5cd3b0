"""The DCC User mandate as cases opened before revision 2 read it (guidance v1.3, s.2.2): kept,
because their decisions were made so. Dates as the guidance publishes them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.mandates import mandate_for
from domain.roles import PartyProfile, UserRole

GUIDANCE = "User Entry Process Guidance v1.3 (June 2018), s.2.2"


def party(**extra: Any) -> PartyProfile:
    base: dict[str, Any] = {
        "party_id": "p",
        "party_name": "P",
        "category": "small_supplier",
        "licences": ["gas_supply", "electricity_supply"],
    }
    return PartyProfile.model_validate({**base, **extra})


SMALL = "mandate: Small (other) domestic Supplier"
NETWORK = {"category": "electricity_network_party", "licences": ["electricity_distribution"]}


@pytest.mark.parametrize(
    ("profile", "role", "due", "derogated", "note"),
    [
        (
            {"category": "large_supplier"},
            UserRole.IMPORT_SUPPLIER,
            date(2017, 5, 25),
            False,
            "mandate: Large Supplier (domestic)",
        ),
        (
            {},
            UserRole.GAS_SUPPLIER,
            date(2017, 11, 25),
            False,
            "mandate: Small (other) domestic Supplier",
        ),
        (
            {},
            UserRole.EXPORT_SUPPLIER,
            date(2017, 11, 25),
            False,
            "mandate: Small (other) domestic Supplier",
        ),
        (
            {"supplies_domestic": False},
            UserRole.GAS_SUPPLIER,
            date(2018, 8, 31),
            False,
            "mandate: Non-domestic Supplier",
        ),
        (
            {"controlled_market_entry": True},
            UserRole.GAS_SUPPLIER,
            date(2017, 11, 25),
            True,
            "new entrant under Controlled Market Entry: derogated until it leaves CME; ask the "
            "Ofgem Licensing team (User Entry Process Guidance v1.3, s.2.2)",
        ),
        (
            NETWORK,
            UserRole.ELECTRICITY_DISTRIBUTOR,
            date(2017, 11, 12),
            False,
            "mandate: Electricity DNO; an older Gemserv article gives 21 Jan 2018",
        ),
        (
            {**NETWORK, "is_idno": True},
            UserRole.ELECTRICITY_DISTRIBUTOR,
            None,
            False,
            "IDNOs do not currently have a DCC User mandate",
        ),
        (
            {"category": "gas_network_party", "licences": ["gas_transportation"]},
            UserRole.GAS_TRANSPORTER,
            None,
            False,
            "Gas Network Operators do not currently have a DCC User mandate",
        ),
        (
            {"category": "other_sec_party"},
            UserRole.OTHER_USER,
            None,
            False,
            "no DCC User mandate for a Other SEC Party as Other User",
        ),
    ],
)
def test_the_revision_1_mandate(
    profile: dict[str, Any], role: UserRole, due: date | None, derogated: bool, note: str
) -> None:
    mandate = mandate_for(party(**profile), role, revision=1)
    assert (mandate.due, mandate.derogated, mandate.note) == (due, derogated, note)
    assert mandate.source.startswith(GUIDANCE)


def test_the_revision_1_dno_mandate_names_the_later_date_as_the_alternative() -> None:
    mandate = mandate_for(party(**NETWORK), UserRole.ELECTRICITY_DISTRIBUTOR, revision=1)
    assert [a.due for a in mandate.alternatives] == [date(2018, 1, 21)]
    assert mandate.source == GUIDANCE
    later = mandate_for(party(**NETWORK), UserRole.ELECTRICITY_DISTRIBUTOR, revision=2)
    assert later.due == date(2018, 1, 21)
    assert [a.due for a in later.alternatives] == [date(2017, 11, 12)]
