"""Roles, categories and eligibility (SEC H1.2, guidance s.3)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.errors import IneligibleError
from domain.roles import (
    SUPPLIER_ROLES,
    Licence,
    PartyCategory,
    PartyProfile,
    UserRole,
    check_eligibility,
    eligible_roles,
)


def party(**overrides: object) -> PartyProfile:
    fields: dict[str, object] = {
        "party_id": "acme-1",
        "party_name": "Acme Energy",
        "category": PartyCategory.SMALL_SUPPLIER,
    }
    fields.update(overrides)
    return PartyProfile.model_validate(fields)


def test_role_values_and_labels() -> None:
    assert UserRole("import_supplier") is UserRole.IMPORT_SUPPLIER
    assert UserRole.IMPORT_SUPPLIER.label == "Import Supplier"
    assert UserRole.GAS_SUPPLIER.label == "Gas Supplier"
    assert UserRole.OTHER_USER.label == "Other User"
    assert UserRole.REGISTERED_SUPPLIER_AGENT.label == "Registered Supplier Agent"
    assert all(role.label for role in UserRole)
    assert len(UserRole) == 7


def test_category_and_licence_labels() -> None:
    assert PartyCategory.LARGE_SUPPLIER.label == "Large Supplier"
    assert PartyCategory.OTHER_SEC_PARTY.label == "Other SEC Party"
    assert Licence.GAS_TRANSPORTATION.value == "gas_transportation"
    assert Licence.ELECTRICITY_SUPPLY.label == "electricity supply"


def test_supplier_roles() -> None:
    assert {
        UserRole.IMPORT_SUPPLIER,
        UserRole.EXPORT_SUPPLIER,
        UserRole.GAS_SUPPLIER,
    } == SUPPLIER_ROLES


def test_profile_defaults_and_frozen() -> None:
    p = party()
    assert p.acceded and p.supplies_domestic
    assert not (p.mop_or_mam or p.is_idno or p.controlled_market_entry)
    assert p.licences == []
    with pytest.raises(ValidationError):
        p.party_name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "x" * 65, "ünï"])
def test_party_id_must_be_workflow_safe(bad: str) -> None:
    with pytest.raises(ValidationError):
        party(party_id=bad)


def test_profile_rejects_unknown_fields_and_empty_name() -> None:
    with pytest.raises(ValidationError):
        party(colour="red")
    with pytest.raises(ValidationError):
        party(party_name="")


@pytest.mark.parametrize(
    ("role", "licence"),
    [
        (UserRole.IMPORT_SUPPLIER, Licence.ELECTRICITY_SUPPLY),
        (UserRole.EXPORT_SUPPLIER, Licence.ELECTRICITY_SUPPLY),
        (UserRole.GAS_SUPPLIER, Licence.GAS_SUPPLY),
        (UserRole.ELECTRICITY_DISTRIBUTOR, Licence.ELECTRICITY_DISTRIBUTION),
        (UserRole.GAS_TRANSPORTER, Licence.GAS_TRANSPORTATION),
    ],
)
def test_licence_roles_need_their_licence(role: UserRole, licence: Licence) -> None:
    check_eligibility(party(licences=[licence]), role)
    others = [lic for lic in Licence if lic is not licence]
    with pytest.raises(IneligibleError) as info:
        check_eligibility(party(licences=others), role)
    assert f"{role.label} needs" in info.value.message
    assert licence.label in info.value.message
    assert "Acme Energy holds:" in info.value.message


def test_gas_supplier_message_names_missing_and_held() -> None:
    with pytest.raises(IneligibleError) as info:
        check_eligibility(party(licences=[Licence.ELECTRICITY_SUPPLY]), UserRole.GAS_SUPPLIER)
    assert info.value.message.startswith(
        "Gas Supplier needs a gas supply licence (User Entry Process Guidance v1.3, s.3); "
        "Acme Energy holds: "
        "electricity supply"
    )


def test_message_when_no_licence_held() -> None:
    with pytest.raises(IneligibleError, match="holds: no licence"):
        check_eligibility(party(), UserRole.ELECTRICITY_DISTRIBUTOR)
    with pytest.raises(IneligibleError, match="an electricity distribution licence"):
        check_eligibility(party(), UserRole.ELECTRICITY_DISTRIBUTOR)


def test_not_acceded_is_ineligible_for_every_role() -> None:
    p = party(acceded=False, licences=list(Licence), mop_or_mam=True)
    for role in UserRole:
        with pytest.raises(IneligibleError, match=r"has not acceded.*H1\.2"):
            check_eligibility(p, role)
    assert eligible_roles(p) == []


def test_other_user_open_to_any_acceded_party() -> None:
    check_eligibility(party(category=PartyCategory.OTHER_SEC_PARTY), UserRole.OTHER_USER)


def test_registered_supplier_agent_needs_mop_or_mam() -> None:
    check_eligibility(party(mop_or_mam=True), UserRole.REGISTERED_SUPPLIER_AGENT)
    with pytest.raises(IneligibleError) as info:
        check_eligibility(party(licences=list(Licence)), UserRole.REGISTERED_SUPPLIER_AGENT)
    assert "Meter Operator or Meter Asset Manager" in info.value.message
    assert "Acme Energy" in info.value.message
    assert info.value.field == "role"


def test_eligible_roles_lists_in_sec_order() -> None:
    p = party(licences=[Licence.GAS_SUPPLY, Licence.ELECTRICITY_SUPPLY])
    assert eligible_roles(p) == [
        UserRole.IMPORT_SUPPLIER,
        UserRole.EXPORT_SUPPLIER,
        UserRole.GAS_SUPPLIER,
        UserRole.OTHER_USER,
    ]
