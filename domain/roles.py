"""User Roles, Party categories, licences and role eligibility (SEC H1.2, guidance s.3)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.errors import IneligibleError


class UserRole(StrEnum):
    """A User Role: the UEP is completed once per role (SEC Appendix A, guidance s.3)."""

    IMPORT_SUPPLIER = "import_supplier"
    EXPORT_SUPPLIER = "export_supplier"
    GAS_SUPPLIER = "gas_supplier"
    ELECTRICITY_DISTRIBUTOR = "electricity_distributor"
    GAS_TRANSPORTER = "gas_transporter"
    REGISTERED_SUPPLIER_AGENT = "registered_supplier_agent"
    OTHER_USER = "other_user"

    @property
    def label(self) -> str:
        """The role's name as the SEC writes it ("Import Supplier")."""
        return _ROLE_LABELS[self]


_ROLE_LABELS: dict[UserRole, str] = {
    UserRole.IMPORT_SUPPLIER: "Import Supplier",
    UserRole.EXPORT_SUPPLIER: "Export Supplier",
    UserRole.GAS_SUPPLIER: "Gas Supplier",
    UserRole.ELECTRICITY_DISTRIBUTOR: "Electricity Distributor",
    UserRole.GAS_TRANSPORTER: "Gas Transporter",
    UserRole.REGISTERED_SUPPLIER_AGENT: "Registered Supplier Agent",
    UserRole.OTHER_USER: "Other User",
}

SUPPLIER_ROLES: frozenset[UserRole] = frozenset(
    {UserRole.IMPORT_SUPPLIER, UserRole.EXPORT_SUPPLIER, UserRole.GAS_SUPPLIER}
)
"""The supplier roles: the only roles that may share one User ID (H1.4, guidance s.4)."""


class PartyCategory(StrEnum):
    """SECAS Party categories (SECAS "The DCC User Entry Process" v2.1 (Dec 2017), checklists)."""

    LARGE_SUPPLIER = "large_supplier"
    SMALL_SUPPLIER = "small_supplier"
    ELECTRICITY_NETWORK_PARTY = "electricity_network_party"
    GAS_NETWORK_PARTY = "gas_network_party"
    OTHER_SEC_PARTY = "other_sec_party"

    @property
    def label(self) -> str:
        """The category's name as SECAS writes it ("Large Supplier")."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS: dict[PartyCategory, str] = {
    PartyCategory.LARGE_SUPPLIER: "Large Supplier",
    PartyCategory.SMALL_SUPPLIER: "Small Supplier",
    PartyCategory.ELECTRICITY_NETWORK_PARTY: "Electricity Network Party",
    PartyCategory.GAS_NETWORK_PARTY: "Gas Network Party",
    PartyCategory.OTHER_SEC_PARTY: "Other SEC Party",
}


class Licence(StrEnum):
    """An energy licence that makes a Party eligible for a User Role (guidance s.3)."""

    ELECTRICITY_SUPPLY = "electricity_supply"
    GAS_SUPPLY = "gas_supply"
    ELECTRICITY_DISTRIBUTION = "electricity_distribution"
    GAS_TRANSPORTATION = "gas_transportation"

    @property
    def label(self) -> str:
        """The licence in words ("electricity supply")."""
        return self.value.replace("_", " ")


ROLE_LICENCE: dict[UserRole, Licence] = {
    UserRole.IMPORT_SUPPLIER: Licence.ELECTRICITY_SUPPLY,
    UserRole.EXPORT_SUPPLIER: Licence.ELECTRICITY_SUPPLY,
    UserRole.GAS_SUPPLIER: Licence.GAS_SUPPLY,
    UserRole.ELECTRICITY_DISTRIBUTOR: Licence.ELECTRICITY_DISTRIBUTION,
    UserRole.GAS_TRANSPORTER: Licence.GAS_TRANSPORTATION,
}
"""The licence each licence-based role needs (User Entry Process Guidance v1.3 (June 2018), s.3)."""


class PartyProfile(BaseModel):
    """What the engine knows of a SEC Party: enough to judge eligibility and mandates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The id goes into Temporal workflow ids, so it is kept to a safe alphabet.
    party_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    party_name: str = Field(min_length=1)
    category: PartyCategory
    acceded: bool = True
    licences: list[Licence] = Field(default_factory=list)
    mop_or_mam: bool = False
    """Meter Operator or Meter Asset Manager for at least one MPAN or MPRN (guidance s.3)."""
    supplies_domestic: bool = True
    """For supplier mandates: domestic (25 Nov 2017) or non-domestic (31 Aug 2018)."""
    is_idno: bool = False
    """An independent DNO: no DCC User mandate (guidance s.2.2)."""
    controlled_market_entry: bool = False
    """A new entrant under Controlled Market Entry: mandate derogated (guidance s.2.2)."""
    cme_exit_on: date | None = None
    """When the Party left (or leaves) Controlled Market Entry: its mandate applies from then."""
    licensed_on: dict[Licence, date] = Field(default_factory=dict)
    """When each licence was granted: a supplier licensed after its mandate date is due from
    its licence, not in breach on its first day."""
    acceded_on: date | None = None
    """When the Party acceded to the SEC: no fact of its UEP is dated earlier."""


def _holdings(party: PartyProfile) -> str:
    held = [lic.label for lic in Licence if lic in party.licences]
    return ", ".join(held) if held else "no licence"


def check_eligibility(party: PartyProfile, role: UserRole) -> None:
    """Raise IneligibleError unless ``party`` may undertake the UEP in ``role``.

    Sources: SEC H1.2 (only a Party that has acceded may undertake the UEP); guidance s.3 (the
    relevant supply / distribution / transportation licence, or for Registered Supplier Agent
    being Meter Operator or Meter Asset Manager for at least one MPAN or MPRN); Other User:
    any Party (guidance s.2.1).
    """
    if not party.acceded:
        raise IneligibleError(
            f"{party.party_name} has not acceded to the SEC; only a SEC Party may undertake "
            "the User Entry Process (SEC H1.2)",
            field="party_id",
        )
    if role is UserRole.OTHER_USER:
        return
    if role is UserRole.REGISTERED_SUPPLIER_AGENT:
        if not party.mop_or_mam:
            raise IneligibleError(
                f"{role.label} needs the Party to be Meter Operator or Meter Asset Manager for "
                "at least one MPAN or MPRN (User Entry Process Guidance v1.3, s.3); "
                f"{party.party_name} is registered as neither",
                field="role",
            )
        return
    needed = ROLE_LICENCE[role]
    if needed not in party.licences:
        raise IneligibleError(
            f"{role.label} needs {_article(needed.label)} {needed.label} licence (User Entry "
            f"Process Guidance v1.3, s.3); {party.party_name} holds: {_holdings(party)}",
            field="role",
        )


def eligible_roles(party: PartyProfile) -> list[UserRole]:
    """The roles ``party`` may undertake the UEP in, in the SEC's order."""
    result = []
    for role in UserRole:
        try:
            check_eligibility(party, role)
        except IneligibleError:
            continue
        result.append(role)
    return result


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
