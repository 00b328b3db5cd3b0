"""Commands: what people and systems ask a case to do, one model per message.

Every command is a payload a person can type as JSON in the Temporal Web UI. Unknown fields are
refused (``extra="forbid"``) so a typo is an error, not a silent no-op. ``effective_on`` is the
date the fact took effect (default: today); ``message_id`` makes a repeated message harmless;
``actor`` says who sent it, for the timeline.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from domain.assurance import AssuranceStatus, RulesVersion
from domain.calendar_data import REGIONS, Region
from domain.credit import CreditSupportForm, CreditSupportItem
from domain.errors import DomainError
from domain.events import (
    DeterminedOutcome,
    DisputeSubject,
    EntryCriterion,
    Recipient,
    Requirement,
)
from domain.limits import (
    LIST_MAX,
    USER_ID_TEXT_MAX,
    Amount,
    Day,
    Factor,
    Flag,
    MessageId,
    Name,
    OptionalName,
    OptionalText,
    Text,
)
from domain.party.position import PartyPosition
from domain.roles import Licence, PartyCategory, PartyProfile, UserRole
from domain.userid import parse_user_id

Area = Literal["security", "privacy"]
DisputeId = Annotated[str, Field(min_length=2, max_length=12, pattern=r"^D[0-9]{1,10}$")]
"""A dispute's id as the case numbered it: D1, D2, ..."""


class Command(BaseModel):
    """Fields every message may carry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    effective_on: Day | None = Field(
        default=None, description="Date the fact took effect (YYYY-MM-DD); default today."
    )
    message_id: MessageId | None = Field(
        default=None,
        description="Sender's id for this message; a repeat with the same id changes nothing.",
    )
    actor: Name | None = Field(default=None, description="Who sent it (person or system).")


class PartyInput(PartyProfile):
    """The Party as a start input gives it: every field bounded (see domain.limits)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party_name: Name
    licences: list[Licence] = Field(default_factory=list, max_length=len(Licence))
    category: PartyCategory
    acceded: Flag = True
    mop_or_mam: Flag = False
    supplies_domestic: Flag = True
    is_idno: Flag = False
    controlled_market_entry: Flag = False
    cme_exit_on: Day | None = None
    licensed_on: dict[Licence, Day] = Field(default_factory=dict, max_length=len(Licence))
    acceded_on: Day | None = None


def _as_input(value: object) -> object:
    """A recorded model (a profile, an instrument) given where input is expected is checked
    as input: the input models bound what the recorded ones, read back from the store, do not."""
    if isinstance(value, BaseModel) and type(value) in (PartyProfile, CreditSupportItem):
        return value.model_dump()
    return value


class StartCase(BaseModel):
    """Workflow input: start the UEP for one Party and one User Role (H1.9)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party: Annotated[PartyInput, BeforeValidator(_as_input)]
    role: UserRole
    rules_version: RulesVersion | None = Field(
        default=None, description="Rules the case runs under; default: those in force today."
    )
    calendar_region: Region = Field(
        default="england-and-wales", description="Working-Day calendar: " + ", ".join(REGIONS)
    )
    started_on: Day | None = Field(default=None, description="Date SECAS was notified.")
    actor: Name | None = None


class _UserIdCommand(Command):
    user_id: str = Field(
        max_length=USER_ID_TEXT_MAX, description="EUI-64 User ID, e.g. 90-B3-D5-1F-30-01-00-00"
    )

    @field_validator("user_id")
    @classmethod
    def _normalise(cls, value: str) -> str:
        try:
            return parse_user_id(value)
        except DomainError as err:  # pydantic reports ValueError with the field's location
            raise ValueError(err.message) from None


class ProposeUserId(_UserIdCommand):
    """The Party proposes a User ID for this role to the DCC."""


class AcceptUserId(_UserIdCommand):
    """The DCC accepts the proposed User ID."""


class RejectUserId(_UserIdCommand):
    """The DCC rejects the proposed User ID."""

    reason: Text


class RecordSreptCompleted(Command):
    """SMKI and Repository Entry Process Tests were completed (L7)."""


class GiveUeptNotice(Command):
    """The Party gives notice of the date it wants to start UEPT (60 WD)."""

    planned_start_on: Day


class ConfirmEntryCriteria(Command):
    """One or more UEPT entry criteria are met."""

    criteria: list[EntryCriterion] = Field(min_length=1, max_length=LIST_MAX)


class StartUept(Command):
    """UEPT starts (all entry criteria met and the notice period has run)."""


class SubmitTestCompletionReport(Command):
    """The Party submits its Test Completion Report."""


class ConfirmReportReceipt(Command):
    """The DCC confirms receipt of the Test Completion Report."""


class ConcludeUeptReview(Command):
    """The DCC reviewed the report: concluded, or further testing required."""

    outcome: Literal["concluded", "further_testing_required"]
    notes: OptionalText = ""


class RecordQualityGateMeeting(Command):
    """The exit quality gate review meeting was held."""

    successful: Flag
    notes: OptionalText = ""


class IssueTestCompletionCertificate(Command):
    """The DCC issues the Test Completion Certificate."""

    certificate_ref: Name


class BookAssessment(Command):
    """Book an assessment with the User CIO (12 weeks' notice)."""

    area: ClassVar[Area]
    kind: Literal["pre_assessment", "full", "follow_up"] = "full"
    assessment_on: Day


class CompleteAssessment(Command):
    """The User CIO completed the booked assessment."""

    area: ClassVar[Area]


class SetAssuranceStatus(Command):
    """The SEC Panel sets the assurance status."""

    area: ClassVar[Area]
    status: AssuranceStatus
    conditions: OptionalText = ""


class BookSecurityAssessment(BookAssessment):
    """Book the (pre-, full or follow-up) User Security Assessment (G8; 12 weeks' notice)."""

    area: ClassVar[Area] = "security"


class CompleteSecurityAssessment(CompleteAssessment):
    """The User CIO completed the booked security assessment."""

    area: ClassVar[Area] = "security"


class SetSecurityStatus(SetAssuranceStatus):
    """The SEC Panel sets the security assurance status (G8.34)."""

    area: ClassVar[Area] = "security"


class BookPrivacyAssessment(BookAssessment):
    """Book the Full Privacy Assessment (Other User only; I2; 12 weeks' notice)."""

    area: ClassVar[Area] = "privacy"


class CompletePrivacyAssessment(CompleteAssessment):
    """The Independent Privacy Auditor completed the booked privacy assessment."""

    area: ClassVar[Area] = "privacy"


class SetPrivacyStatus(SetAssuranceStatus):
    """The SEC Panel sets the privacy assurance status (I2.30)."""

    area: ClassVar[Area] = "privacy"


class NotifyCreditCoverRequirement(Command):
    """The DCC notifies the Credit Cover Requirement (J3.2), given or from its parts."""

    requirement: Annotated[Amount, Field(ge=0)] | None = None
    value_at_risk: Annotated[Amount, Field(ge=0)] | None = None
    maximum_credit_value: Annotated[Amount, Field(ge=0)] | None = None
    unsecured_credit_factor: Factor | None = None
    threshold: Annotated[Amount, Field(ge=0)] | None = Field(
        default=None, description="The DCC's notified threshold; default from CPI data."
    )

    @model_validator(mode="after")
    def _requirement_or_parts(self) -> NotifyCreditCoverRequirement:
        parts = (self.value_at_risk, self.maximum_credit_value, self.unsecured_credit_factor)
        if self.requirement is None and any(p is None for p in parts):
            raise ValueError(
                "give either 'requirement', or all of 'value_at_risk', "
                "'maximum_credit_value' and 'unsecured_credit_factor'"
            )
        return self


class CreditSupportInput(CreditSupportItem):
    """One instrument as the Party lodges it: every field bounded (see domain.limits)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    form: CreditSupportForm
    amount: Annotated[Amount, Field(gt=0)]
    provider: Name | None = None
    expires_on: Day | None = None
    required_bank_rating: Flag = True


class LodgeCreditSupport(Command):
    """The Party lodges Credit Support (Bank Guarantee, Letter of Credit, Cash Deposit)."""

    items: list[Annotated[CreditSupportInput, BeforeValidator(_as_input)]] = Field(
        min_length=1, max_length=LIST_MAX
    )


class AssessCreditSupport(Command):
    """The DCC assesses the lodged Credit Support on the effective date."""


class VerifyEvidence(Command):
    """SECAS verified the evidence for one requirement (H1.11)."""

    requirement: Requirement
    reference: OptionalName = ""


class RaiseDispute(Command):
    """The Party raises a dispute under H1.13."""

    subject: DisputeSubject
    reason: Text


class RecordPanelDetermination(Command):
    """The SEC Panel determined a dispute: whether the Party's position is upheld, and the
    outcome it determines (a status, UEPT concluded, the Credit Support sufficient)."""

    dispute_id: DisputeId
    upheld: Flag = Field(description="True: the Party's position is upheld.")
    summary: OptionalText = ""
    outcome: DeterminedOutcome | None = Field(
        default=None,
        description="What the outcome now is: a status for security or privacy, "
        "uept_concluded, or credit_support_sufficient; it takes effect on the case.",
    )


class ReferDisputeToOfgem(Command):
    """The Party refers the Panel's determination to Ofgem."""

    dispute_id: DisputeId


class RecordOfgemDetermination(Command):
    """Ofgem made its final determination (and the outcome it determines, if any)."""

    dispute_id: DisputeId
    upheld: Flag = Field(description="True: the Party's position is upheld.")
    summary: OptionalText = ""
    outcome: DeterminedOutcome | None = Field(
        default=None, description="As for the Panel: the outcome takes effect on the case."
    )


class WithdrawCase(Command):
    """The Party withdraws from the UEP for this role."""

    reason: Text


class CorrectCalendar(Command):
    """Add or remove non-working days; open DCC deadlines are recomputed."""

    add_holidays: list[Day] = Field(default_factory=list, max_length=LIST_MAX)
    remove_holidays: list[Day] = Field(default_factory=list, max_length=LIST_MAX)


class ChangeRulesVersion(Command):
    """SECAS moves the running case onto a newer rules version, with its reason."""

    rules_version: RulesVersion
    reason: Text


class RecordCompletionNotice(Command):
    """Internal: SECAS's notice of completion went to one recipient (before revision 2)."""

    recipient: Recipient


class RecordNoticeQueued(Command):
    """Internal: the completion notice to one recipient is in the outbox."""

    recipient: Recipient
    notice_id: MessageId


class RecordNoticeDelivered(Command):
    """Internal: the delivery channel delivered the completion notice to one recipient."""

    recipient: Recipient
    notice_id: MessageId
    channel: Name
    reference: OptionalName = ""


class RecordPanelInformationPaper(Command):
    """SECAS informed the SEC Panel of the completion by an information paper at a Panel
    meeting (H1.12); ``effective_on`` is the meeting's date."""

    reference: OptionalName = Field(default="", description="The paper's reference.")


class RecordPartyPosition(Command):
    """Internal: the case's Party record gave its credit and security positions and User ID
    ranges (revision 3); read from the record itself, never taken from a sender."""

    position: PartyPosition


class Message(BaseModel):
    """Registry entry: a message's name, its command model, who sends it, and its area."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    model: type[Command]
    sender: str
    summary: str
    area: str
    signal: bool = False


def _m(name: str, model: type[Command], sender: str, area: str, signal: bool = False) -> Message:
    doc = (model.__doc__ or name).strip().splitlines()[0]
    return Message(name=name, model=model, sender=sender, summary=doc, area=area, signal=signal)


MESSAGES: dict[str, Message] = {
    m.name: m
    for m in [
        _m("propose_user_id", ProposeUserId, "Party", "user_id"),
        _m("accept_user_id", AcceptUserId, "DCC", "user_id", signal=True),
        _m("reject_user_id", RejectUserId, "DCC", "user_id", signal=True),
        _m("record_srept_completed", RecordSreptCompleted, "DCC", "srept", signal=True),
        _m("give_uept_notice", GiveUeptNotice, "Party", "uept"),
        _m("confirm_entry_criteria", ConfirmEntryCriteria, "DCC", "uept", signal=True),
        _m("start_uept", StartUept, "DCC", "uept", signal=True),
        _m("submit_test_completion_report", SubmitTestCompletionReport, "Party", "uept"),
        _m("confirm_report_receipt", ConfirmReportReceipt, "DCC", "uept", signal=True),
        _m("conclude_uept_review", ConcludeUeptReview, "DCC", "uept", signal=True),
        _m("record_quality_gate_meeting", RecordQualityGateMeeting, "DCC", "uept", signal=True),
        _m("issue_test_certificate", IssueTestCompletionCertificate, "DCC", "uept", signal=True),
        _m("book_security_assessment", BookSecurityAssessment, "Party", "security"),
        _m(
            "complete_security_assessment", CompleteSecurityAssessment, "User CIO", "security", True
        ),
        _m("set_security_status", SetSecurityStatus, "SEC Panel", "security", signal=True),
        _m("book_privacy_assessment", BookPrivacyAssessment, "Party", "privacy"),
        _m("complete_privacy_assessment", CompletePrivacyAssessment, "User CIO", "privacy", True),
        _m("set_privacy_status", SetPrivacyStatus, "SEC Panel", "privacy", signal=True),
        _m("notify_credit_cover", NotifyCreditCoverRequirement, "DCC", "credit", signal=True),
        _m("lodge_credit_support", LodgeCreditSupport, "Party", "credit"),
        _m("assess_credit_support", AssessCreditSupport, "DCC", "credit", signal=True),
        _m("verify_evidence", VerifyEvidence, "SECAS", "evidence", signal=True),
        _m("raise_dispute", RaiseDispute, "Party", "dispute"),
        _m("record_panel_determination", RecordPanelDetermination, "SEC Panel", "dispute", True),
        _m("refer_dispute_to_ofgem", ReferDisputeToOfgem, "Party", "dispute"),
        _m("record_ofgem_determination", RecordOfgemDetermination, "Ofgem", "dispute", True),
        _m("withdraw", WithdrawCase, "Party", "case"),
        _m("correct_calendar", CorrectCalendar, "SECAS", "case"),
        _m("change_rules_version", ChangeRulesVersion, "SECAS", "case"),
        _m(
            "record_panel_information_paper",
            RecordPanelInformationPaper,
            "SECAS",
            "evidence",
            signal=True,
        ),
    ]
}
"""Every operator / system message, by its update (and, where ``signal``, signal) name."""
