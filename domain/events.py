"""Domain events of a User Entry Process case: facts, named in the past tense.

Every event carries ``effective_on``: the date the fact took effect in the real world (the DCC
confirmed receipt on 3 Dec, entered on 5 Dec). Deadlines count from effective dates; when the
fact was recorded is event-store metadata. Each class has a ``schema_version``; a change to an
event's shape bumps it and adds an upcaster, never edits history.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain.assurance import AssuranceStatus, RulesVersion
from domain.credit import CreditSupportItem
from domain.party.position import CreditPosition, SecurityPosition
from domain.roles import PartyProfile, UserRole

Requirement = Literal["user_id", "uept", "security", "privacy", "credit"]
"""The five requirements of SEC H1.10 (a)-(e)."""

DccStep = Literal["report_receipt", "report_review", "certificate"]
"""The DCC's UEPT completion steps: 2 WD receipt, 5 WD review, 2 WD certificate (guidance 5.3)."""

DisputeSubject = Literal["uept", "security", "privacy", "credit"]
"""What a Party may dispute under H1.13 (H14, G8, I2, J3.15)."""

Recipient = Literal["party", "dcc", "ofgem", "sec_panel"]
"""Who SECAS notifies when the UEP completes (H1.11, H1.12)."""

COMPLETION_RECIPIENTS: tuple[Recipient, ...] = ("party", "dcc", "ofgem", "sec_panel")
"""Every recipient of the completion notice, in the order SECAS sends them (H1.12: the Party,
the DCC, the Authority and the Panel)."""

EntryCriterion = Literal[
    "accession_confirmed",
    "user_roles_identified",
    "test_artefacts_approved",
    "test_environment_evidenced",
    "resource_evidenced",
    "security_requirements_met",
]
"""UEPT entry criteria (guidance s.5.4); all are needed before testing starts."""

ENTRY_CRITERIA: tuple[EntryCriterion, ...] = (
    "accession_confirmed",
    "user_roles_identified",
    "test_artefacts_approved",
    "test_environment_evidenced",
    "resource_evidenced",
    "security_requirements_met",
)


class DomainEvent(BaseModel):
    """Base of every event: frozen, strict about unknown fields, with an effective date."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: ClassVar[int] = 1

    effective_on: date
    reported_after_the_fact: bool = False
    """The fact took effect before SECAS was notified of the role (before the case started)
    and was recorded afterwards with its true date."""

    @classmethod
    def event_type(cls) -> str:
        """The name the event is stored under."""
        return cls.__name__


class CaseStarted(DomainEvent):
    """SECAS was notified that the Party starts the UEP for a User Role (H1.9)."""

    type: Literal["CaseStarted"] = "CaseStarted"
    case_id: str
    party: PartyProfile
    role: UserRole
    rules_version: RulesVersion
    calendar_region: str
    mandate_due_on: date | None = None
    mandate_source: str = ""
    mandate_derogated: bool = False
    revision: int = 1
    """The engine's reading of the rules (domain.revision); absent in older events: 1."""


class UserIdProposed(DomainEvent):
    """The Party proposed an EUI-64 User ID for the role to the DCC (H1.4)."""

    type: Literal["UserIdProposed"] = "UserIdProposed"
    user_id: str


class UserIdAccepted(DomainEvent):
    """The DCC accepted the proposed User ID (H1.10(a))."""

    type: Literal["UserIdAccepted"] = "UserIdAccepted"
    user_id: str


class UserIdRejected(DomainEvent):
    """The DCC rejected the proposed User ID; the claim on it is released."""

    type: Literal["UserIdRejected"] = "UserIdRejected"
    user_id: str
    reason: str


class SreptCompleted(DomainEvent):
    """SMKI and Repository Entry Process Tests completed (SEC L7; Small Supplier checklist)."""

    type: Literal["SreptCompleted"] = "SreptCompleted"


class UeptNoticeGiven(DomainEvent):
    """The Party gave notice of the date it wants to start UEPT (60 WD, guidance s.5.2)."""

    type: Literal["UeptNoticeGiven"] = "UeptNoticeGiven"
    planned_start_on: date
    earliest_start_on: date


class UeptEntryCriteriaConfirmed(DomainEvent):
    """One or more UEPT entry criteria were confirmed (guidance s.5.4)."""

    type: Literal["UeptEntryCriteriaConfirmed"] = "UeptEntryCriteriaConfirmed"
    criteria: list[EntryCriterion]


class UeptStarted(DomainEvent):
    """User Entry Process Tests started (or restarted after further testing was required)."""

    type: Literal["UeptStarted"] = "UeptStarted"
    cycle: int


class TestCompletionReportSubmitted(DomainEvent):
    """The Party submitted its Test Completion Report; the DCC must confirm receipt in 2 WD."""

    __test__ = False  # not a pytest test class, despite the name
    type: Literal["TestCompletionReportSubmitted"] = "TestCompletionReportSubmitted"
    cycle: int
    receipt_due_on: date


class TestCompletionReportReceiptConfirmed(DomainEvent):
    """The DCC confirmed receipt of the report; it must review it within 5 WD."""

    __test__ = False
    type: Literal["TestCompletionReportReceiptConfirmed"] = "TestCompletionReportReceiptConfirmed"
    cycle: int
    review_due_on: date
    review_from: date | None = None
    """What the 5 Working Days count from (the DCC's receipt of the report); absent: this
    confirmation's own date (cases before revision 2)."""


class UeptReviewConcluded(DomainEvent):
    """The DCC reviewed the report: UEPT concluded, or further testing is required."""

    type: Literal["UeptReviewConcluded"] = "UeptReviewConcluded"
    cycle: int
    outcome: Literal["concluded", "further_testing_required"]
    notes: str = ""


class QualityGateMeetingHeld(DomainEvent):
    """The exit quality gate review meeting was held; if successful the certificate is due."""

    type: Literal["QualityGateMeetingHeld"] = "QualityGateMeetingHeld"
    cycle: int
    successful: bool
    certificate_due_on: date | None = None
    notes: str = ""


class TestCompletionCertificateIssued(DomainEvent):
    """The DCC issued the Test Completion Certificate: UEPT is complete (H1.10(b))."""

    __test__ = False
    type: Literal["TestCompletionCertificateIssued"] = "TestCompletionCertificateIssued"
    cycle: int
    certificate_ref: str


class DccDeadlineMissed(DomainEvent):
    """A DCC completion step passed its working-day deadline; the case keeps waiting."""

    type: Literal["DccDeadlineMissed"] = "DccDeadlineMissed"
    step: DccStep
    cycle: int
    due_on: date


class AssessmentBooked(DomainEvent):
    """A security or privacy assessment was booked with the User CIO (12 weeks' notice)."""

    type: Literal["AssessmentBooked"] = "AssessmentBooked"
    area: Literal["security", "privacy"]
    kind: Literal["pre_assessment", "full", "follow_up"]
    assessment_on: date
    short_notice: bool = False
    """Booked with less than twelve weeks' notice (recorded as a warning, not refused)."""


class AssessmentCompleted(DomainEvent):
    """The User CIO completed a booked assessment; the Panel's status is awaited."""

    type: Literal["AssessmentCompleted"] = "AssessmentCompleted"
    area: Literal["security", "privacy"]
    kind: Literal["pre_assessment", "full", "follow_up"]


class AssuranceStatusSet(DomainEvent):
    """The SEC Panel set the security (G8.34) or privacy (I2.30) assurance status."""

    type: Literal["AssuranceStatusSet"] = "AssuranceStatusSet"
    area: Literal["security", "privacy"]
    status: AssuranceStatus
    allows_completion: bool
    conditions: str = ""


class CreditCoverRequirementNotified(DomainEvent):
    """The DCC notified the Credit Cover Requirement and the threshold it is compared with."""

    type: Literal["CreditCoverRequirementNotified"] = "CreditCoverRequirementNotified"
    requirement: Decimal
    threshold: Decimal
    regulatory_year: int
    threshold_source: str
    support_required: bool


class CreditSupportNotRequired(DomainEvent):
    """The requirement is not over the Credit Cover Threshold: no Credit Support is needed."""

    type: Literal["CreditSupportNotRequired"] = "CreditSupportNotRequired"
    requirement: Decimal
    threshold: Decimal


class CreditSupportLodged(DomainEvent):
    """The Party lodged Credit Support with the DCC (J3)."""

    type: Literal["CreditSupportLodged"] = "CreditSupportLodged"
    items: list[CreditSupportItem]


class CreditSupportAssessed(DomainEvent):
    """The DCC assessed the lodged Credit Support against the requirement."""

    type: Literal["CreditSupportAssessed"] = "CreditSupportAssessed"
    accepted: bool
    accepted_total: Decimal
    required: Decimal
    reasons: list[str] = Field(default_factory=list)


class EvidenceVerified(DomainEvent):
    """SECAS received and verified the evidence for one requirement (H1.11)."""

    type: Literal["EvidenceVerified"] = "EvidenceVerified"
    requirement: Requirement
    reference: str = ""


class UserEntryProcessCompleted(DomainEvent):
    """All requirements are met and verified: the Party is a User in this role (H1.11)."""

    type: Literal["UserEntryProcessCompleted"] = "UserEntryProcessCompleted"
    user_id: str


class CompletionNotified(DomainEvent):
    """SECAS notified a recipient of the completion (cases before revision 2, whose notices
    were recorded when handed to the log; H1.11, H1.12)."""

    type: Literal["CompletionNotified"] = "CompletionNotified"
    recipient: Recipient


class CompletionNoticeQueued(DomainEvent):
    """SECAS's completion notice to one recipient is in the durable outbox (H1.11, H1.12)."""

    type: Literal["CompletionNoticeQueued"] = "CompletionNoticeQueued"
    recipient: Recipient
    notice_id: str


class PanelInformedByPaper(DomainEvent):
    """SECAS informed the SEC Panel of the completion by an information paper at a Panel
    meeting (H1.12); ``effective_on`` is the meeting's date."""

    type: Literal["PanelInformedByPaper"] = "PanelInformedByPaper"
    reference: str = ""


class CompletionNoticeDelivered(DomainEvent):
    """The notice reached its recipient: by its delivery channel, or for the SEC Panel as an
    information paper at a Panel meeting (H1.12), on the date SECAS recorded."""

    type: Literal["CompletionNoticeDelivered"] = "CompletionNoticeDelivered"
    recipient: Recipient
    notice_id: str
    channel: str
    reference: str = ""


class DisputeRaised(DomainEvent):
    """The Party raised a dispute under H1.13; the disputed step is paused."""

    type: Literal["DisputeRaised"] = "DisputeRaised"
    dispute_id: str
    subject: DisputeSubject
    reason: str


DeterminedOutcome = Literal[
    "approved",
    "approved_subject_to",
    "provisionally_approved",
    "deferred",
    "rejected",
    "uept_concluded",
    "credit_support_sufficient",
]
"""What a determination decides the disputed outcome now is: an assurance status (security,
privacy), UEPT concluded, or the Credit Support found sufficient."""


class PanelDeterminationMade(DomainEvent):
    """The SEC Panel determined a dispute: whether the Party's position is upheld, and the
    outcome it determines (applied to the case by the events that follow)."""

    type: Literal["PanelDeterminationMade"] = "PanelDeterminationMade"
    dispute_id: str
    upheld: bool
    summary: str = ""
    outcome: DeterminedOutcome | None = None


class DisputeReferredToOfgem(DomainEvent):
    """The Party referred the Panel's determination to Ofgem; the step is paused again."""

    type: Literal["DisputeReferredToOfgem"] = "DisputeReferredToOfgem"
    dispute_id: str


class OfgemDeterminationMade(DomainEvent):
    """Ofgem made its final determination of the dispute (and the outcome it determines)."""

    type: Literal["OfgemDeterminationMade"] = "OfgemDeterminationMade"
    dispute_id: str
    upheld: bool
    summary: str = ""
    outcome: DeterminedOutcome | None = None


class UeptConcludedByDetermination(DomainEvent):
    """A determination found UEPT concluded: the quality gate review meeting follows."""

    type: Literal["UeptConcludedByDetermination"] = "UeptConcludedByDetermination"
    dispute_id: str
    cycle: int


class CreditSupportFoundSufficient(DomainEvent):
    """A determination found the Credit Support lodged sufficient (SEC J3.15)."""

    type: Literal["CreditSupportFoundSufficient"] = "CreditSupportFoundSufficient"
    dispute_id: str


class DccDeadlinesExtended(DomainEvent):
    """A UEPT dispute stopped the DCC's clock: its open deadlines move by the Working Days the
    dispute was with the Panel or Ofgem (no day of a refused answer counts against the DCC)."""

    type: Literal["DccDeadlinesExtended"] = "DccDeadlinesExtended"
    dispute_id: str
    paused_working_days: int
    recomputed: dict[str, date] = Field(default_factory=dict)


class PartyPositionRecorded(DomainEvent):
    """The case took its credit and security positions (and the User ID ranges) from its
    Party record (revision 3): ``party_record`` and ``party_version`` name the record's event
    it comes from, so the case's stream tells its own story."""

    type: Literal["PartyPositionRecorded"] = "PartyPositionRecorded"
    party_record: str
    party_version: int
    party_event: str = ""
    credit: CreditPosition
    security: SecurityPosition
    user_id_ranges: list[tuple[str, str]] = Field(default_factory=list)


class CaseWithdrawn(DomainEvent):
    """The Party withdrew from the UEP for this role; its User ID claim is released."""

    type: Literal["CaseWithdrawn"] = "CaseWithdrawn"
    reason: str


class CalendarCorrected(DomainEvent):
    """The Working-Day calendar changed; open DCC deadlines were recomputed."""

    type: Literal["CalendarCorrected"] = "CalendarCorrected"
    added_holidays: list[date] = Field(default_factory=list)
    removed_holidays: list[date] = Field(default_factory=list)
    recomputed: dict[str, date] = Field(default_factory=dict)
    earliest_start_on: date | None = None
    """The UEPT earliest start recomputed on the corrected calendar (revision 2)."""


class RulesVersionChanged(DomainEvent):
    """SECAS moved the running case onto a newer rules version (the SEC text changed)."""

    type: Literal["RulesVersionChanged"] = "RulesVersionChanged"
    from_version: RulesVersion
    to_version: RulesVersion
    reason: str


Event = Annotated[
    CaseStarted
    | UserIdProposed
    | UserIdAccepted
    | UserIdRejected
    | SreptCompleted
    | UeptNoticeGiven
    | UeptEntryCriteriaConfirmed
    | UeptStarted
    | TestCompletionReportSubmitted
    | TestCompletionReportReceiptConfirmed
    | UeptReviewConcluded
    | QualityGateMeetingHeld
    | TestCompletionCertificateIssued
    | DccDeadlineMissed
    | AssessmentBooked
    | AssessmentCompleted
    | AssuranceStatusSet
    | CreditCoverRequirementNotified
    | CreditSupportNotRequired
    | CreditSupportLodged
    | CreditSupportAssessed
    | EvidenceVerified
    | UserEntryProcessCompleted
    | CompletionNotified
    | CompletionNoticeQueued
    | CompletionNoticeDelivered
    | PanelInformedByPaper
    | DisputeRaised
    | PanelDeterminationMade
    | DisputeReferredToOfgem
    | OfgemDeterminationMade
    | CaseWithdrawn
    | CalendarCorrected
    | UeptConcludedByDetermination
    | CreditSupportFoundSufficient
    | DccDeadlinesExtended
    | PartyPositionRecorded
    | RulesVersionChanged,
    Field(discriminator="type"),
]
"""Any domain event, discriminated by its ``type``."""

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_from_data(event_type: str, data: dict[str, Any]) -> Event:
    """Rebuild a typed event from its stored type name and JSON data."""
    return _EVENT_ADAPTER.validate_python({**data, "type": event_type})


def event_to_data(event: DomainEvent) -> dict[str, Any]:
    """The JSON-ready data an event is stored with."""
    return event.model_dump(mode="json")


def event_types() -> list[str]:
    """Names of every event type, in declaration order."""
    return [cls.__name__ for cls in DomainEvent.__subclasses__()]
