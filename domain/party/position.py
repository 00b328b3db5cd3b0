"""What a role case takes from its Party record: the credit and security positions.

Kept apart from the record's state so that a role case's events can carry a position without
depending on how the record folds.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from domain.assurance import AssuranceStatus


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreditPosition(_Model):
    """Whether the Party's Credit Support covers its requirement on a day, and until when."""

    met: bool
    reason: str
    who: str = "Party"
    """Who must act next when the position is not met (Party, DCC, User CIO, SEC Panel)."""
    requirement: Decimal | None = None
    accepted_total: Decimal | None = None
    shortfall: Decimal | None = None
    valid_until: date | None = None
    """The first day the position no longer holds (a Bank Guarantee inside its last month)."""

    def met_on(self, day: date) -> bool:
        """Whether the position holds on ``day``."""
        return self.met and (self.valid_until is None or day < self.valid_until)


class SecurityPosition(_Model):
    """Whether an assessment covering the role has a status that allows completion."""

    met: bool
    reason: str
    who: str = "Party"
    """Who must act next when the position is not met."""
    assessment_id: str | None = None
    status: AssuranceStatus | None = None


class PartyPosition(_Model):
    """What a role case takes from its Party record, as of one version of the record."""

    party_record: str
    party_version: int
    party_event: str = ""
    """The type of the record's event at ``party_version``: what the position comes from."""
    credit: CreditPosition
    security: SecurityPosition
    user_id_ranges: list[tuple[str, str]] = Field(default_factory=list)
