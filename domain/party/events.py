"""Events of a Party record: past tense, each with the date it took effect."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain.assurance import AssuranceStatus
from domain.credit import CreditSupportForm
from domain.roles import PartyProfile, UserRole

InstrumentStatus = Literal["lodged", "withdrawn", "replaced", "breached", "disclaimed"]
AssessmentKind = Literal["pre_assessment", "full", "follow_up"]


class Instrument(BaseModel):
    """One instrument of Credit Support the DCC holds for the Party, by its reference."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str
    form: CreditSupportForm
    amount: Decimal
    provider: str | None = None
    expires_on: date | None = None
    required_bank_rating: bool = True
    lodged_on: date
    status: InstrumentStatus = "lodged"


class PartyEvent(BaseModel):
    """Base of every Party record event."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: ClassVar[int] = 1

    effective_on: date


class PartyRecordOpened(PartyEvent):
    """The Party record was opened (with the first role case of the Party)."""

    type: Literal["PartyRecordOpened"] = "PartyRecordOpened"
    profile: PartyProfile


class PartyProfileChanged(PartyEvent):
    """The Party's profile changed (licences, category, Controlled Market Entry, ...)."""

    type: Literal["PartyProfileChanged"] = "PartyProfileChanged"
    profile: PartyProfile


class RoleCaseRecorded(PartyEvent):
    """A role case of the Party, as it stands (opened, completed, withdrawn)."""

    type: Literal["RoleCaseRecorded"] = "RoleCaseRecorded"
    role: UserRole
    case_id: str
    status: str
    user_ids: list[str] = Field(default_factory=list)


class UserIdRangeAllocated(PartyEvent):
    """SECAS allocated the Party a range of EUI-64 User IDs (first and last, inclusive)."""

    type: Literal["UserIdRangeAllocated"] = "UserIdRangeAllocated"
    first: str
    last: str


class PartyCreditCoverNotified(PartyEvent):
    """The DCC notified the Party's Credit Cover Requirement (J3.2) and its threshold."""

    type: Literal["PartyCreditCoverNotified"] = "PartyCreditCoverNotified"
    requirement: Decimal
    threshold: Decimal
    threshold_source: str
    regulatory_year: int
    support_required: bool
    value_at_risk: Decimal | None = None
    maximum_credit_value: Decimal | None = None
    unsecured_credit_factor: Decimal | None = None


class InstrumentLodged(PartyEvent):
    """The Party lodged one instrument of Credit Support with the DCC."""

    type: Literal["InstrumentLodged"] = "InstrumentLodged"
    instrument: Instrument


class InstrumentStatusChanged(PartyEvent):
    """An instrument was withdrawn, replaced, or reported breached or disclaimed."""

    type: Literal["InstrumentStatusChanged"] = "InstrumentStatusChanged"
    reference: str
    status: InstrumentStatus
    replaced_by: str | None = None
    reason: str = ""


class InstrumentStoppedCounting(PartyEvent):
    """An instrument stopped counting towards the Party's Credit Support on this day: a Bank
    Guarantee crossed the line a month before its expiry, or any instrument expired. Recorded
    by the record's own timer; every open role case then learns its new credit position."""

    type: Literal["InstrumentStoppedCounting"] = "InstrumentStoppedCounting"
    reference: str
    reason: str


class PartyCreditAssessed(PartyEvent):
    """The DCC assessed the Party's Credit Support against its requirement on a day: the
    instruments that count (kept), those that do not and why, and any shortfall."""

    type: Literal["PartyCreditAssessed"] = "PartyCreditAssessed"
    requirement: Decimal
    accepted_total: Decimal
    shortfall: Decimal
    counted: list[str] = Field(default_factory=list)
    refused: dict[str, str] = Field(default_factory=dict)


class SecurityAssessmentBooked(PartyEvent):
    """An assessment by the User CIO was booked for the Party, covering a set of roles."""

    type: Literal["SecurityAssessmentBooked"] = "SecurityAssessmentBooked"
    assessment_id: str
    kind: AssessmentKind
    roles: list[UserRole]
    assessment_on: date
    short_notice: bool = False


class SecurityAssessmentCompleted(PartyEvent):
    """The User CIO completed a booked assessment."""

    type: Literal["SecurityAssessmentCompleted"] = "SecurityAssessmentCompleted"
    assessment_id: str


class SecurityStatusSet(PartyEvent):
    """The SEC Panel set the assurance status of an assessment (G8.34)."""

    type: Literal["SecurityStatusSet"] = "SecurityStatusSet"
    assessment_id: str
    status: AssuranceStatus
    allows_completion: bool
    conditions: str = ""


PartyEventUnion = Annotated[
    PartyRecordOpened
    | PartyProfileChanged
    | RoleCaseRecorded
    | UserIdRangeAllocated
    | PartyCreditCoverNotified
    | InstrumentLodged
    | InstrumentStatusChanged
    | InstrumentStoppedCounting
    | PartyCreditAssessed
    | SecurityAssessmentBooked
    | SecurityAssessmentCompleted
    | SecurityStatusSet,
    Field(discriminator="type"),
]
"""Any Party record event."""

_ADAPTER: TypeAdapter[PartyEventUnion] = TypeAdapter(PartyEventUnion)
PARTY_EVENT_TYPES = frozenset(
    cls.__name__
    for cls in (
        PartyRecordOpened,
        PartyProfileChanged,
        RoleCaseRecorded,
        UserIdRangeAllocated,
        PartyCreditCoverNotified,
        InstrumentLodged,
        InstrumentStatusChanged,
        InstrumentStoppedCounting,
        PartyCreditAssessed,
        SecurityAssessmentBooked,
        SecurityAssessmentCompleted,
        SecurityStatusSet,
    )
)


def party_event_from_data(event_type: str, data: dict[str, Any]) -> PartyEventUnion:
    """The typed event from its stored type and JSON data."""
    return _ADAPTER.validate_python({**data, "type": event_type})


def party_event_to_data(event: PartyEvent) -> dict[str, Any]:
    """The JSON-ready data the event is stored with (as case events are)."""
    return event.model_dump(mode="json")
