"""Messages to a Party record: one model per message, each a payload a person can type."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.assurance import AssuranceStatus
from domain.commands import Command, CreditSupportInput, Message, PartyInput
from domain.errors import DomainError
from domain.limits import LIST_MAX, USER_ID_TEXT_MAX, Amount, Day, Factor, Name, OptionalText
from domain.roles import UserRole
from domain.userid import parse_user_id

Reference = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")]
"""An instrument's reference, as the DCC files it."""
AssessmentId = Annotated[str, Field(min_length=2, max_length=12, pattern=r"^S[0-9]{1,10}$")]
"""An assessment's id as the record numbered it: S1, S2, ..."""


class _UserId(BaseModel):
    @field_validator("first", "last", check_fields=False)
    @classmethod
    def _eui64(cls, value: str) -> str:
        try:
            return parse_user_id(value)
        except DomainError as err:
            raise ValueError(err.message) from None


class PartyRecordInput(BaseModel):
    """Workflow input of a Party record: the Party's profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party: PartyInput
    opened_on: Day | None = None


class ChangeProfile(Command):
    """SECAS records a change of the Party's profile (licences, CME exit, ...)."""

    party: PartyInput


class AllocateUserIdRange(_UserId, Command):
    """SECAS allocates the Party a range of EUI-64 User IDs (inclusive)."""

    first: str = Field(max_length=USER_ID_TEXT_MAX)
    last: str = Field(max_length=USER_ID_TEXT_MAX)


class NotifyPartyCreditCover(Command):
    """The DCC notifies the Party's Credit Cover Requirement (J3.2), given or from its parts."""

    requirement: Annotated[Amount, Field(ge=0)] | None = None
    value_at_risk: Annotated[Amount, Field(ge=0)] | None = None
    maximum_credit_value: Annotated[Amount, Field(ge=0)] | None = None
    unsecured_credit_factor: Factor | None = None
    threshold: Annotated[Amount, Field(ge=0)] | None = Field(
        default=None, description="The DCC's notified threshold; default from CPI data."
    )


class LodgeInstrument(Command):
    """The Party lodges one instrument of Credit Support under its reference."""

    reference: Reference
    instrument: CreditSupportInput


class WithdrawInstrument(Command):
    """The Party withdraws an instrument (it no longer counts)."""

    reference: Reference
    reason: OptionalText = ""


class ReplaceInstrument(Command):
    """The Party replaces an instrument by a new one (the old no longer counts)."""

    reference: Reference
    by_reference: Reference
    instrument: CreditSupportInput


class ReportInstrument(Command):
    """The DCC reports an instrument breached or disclaimed by its issuer."""

    reference: Reference
    status: Literal["breached", "disclaimed"]
    reason: OptionalText = ""


class AssessPartyCredit(Command):
    """The DCC assesses the Party's Credit Support on the effective date (also its monthly
    review)."""


class BookPartySecurityAssessment(Command):
    """Book the Optional Pre-Assessment, the Initial Full User Security Assessment or a
    follow-up with the User CIO, covering a set of the Party's roles."""

    kind: Literal["pre_assessment", "full", "follow_up"] = "full"
    roles: list[UserRole] = Field(min_length=1, max_length=len(UserRole))
    assessment_on: Day


class CompletePartySecurityAssessment(Command):
    """The User CIO completed a booked assessment."""

    assessment_id: AssessmentId


class SetPartySecurityStatus(Command):
    """The SEC Panel sets the assurance status of a completed assessment (G8.34)."""

    assessment_id: AssessmentId
    status: AssuranceStatus
    conditions: OptionalText = ""


class RecordRoleCase(Command):
    """Internal: a role case of the Party opened, moved on or closed (what it says is checked
    against the case itself before it is recorded)."""

    role: UserRole
    case_id: Name
    status: Literal["open", "completed", "withdrawn"]
    user_ids: list[str] = Field(default_factory=list, max_length=LIST_MAX)


def _m(name: str, model: type[Command], sender: str, signal: bool = False) -> Message:
    doc = (model.__doc__ or name).strip().splitlines()[0]
    return Message(name=name, model=model, sender=sender, summary=doc, area="party", signal=signal)


PARTY_MESSAGES: dict[str, Message] = {
    m.name: m
    for m in [
        _m("change_profile", ChangeProfile, "SECAS"),
        _m("allocate_user_id_range", AllocateUserIdRange, "SECAS"),
        _m("notify_party_credit_cover", NotifyPartyCreditCover, "DCC", signal=True),
        _m("lodge_instrument", LodgeInstrument, "Party"),
        _m("withdraw_instrument", WithdrawInstrument, "Party"),
        _m("replace_instrument", ReplaceInstrument, "Party"),
        _m("report_instrument", ReportInstrument, "DCC", signal=True),
        _m("assess_party_credit", AssessPartyCredit, "DCC", signal=True),
        _m("book_party_security_assessment", BookPartySecurityAssessment, "Party"),
        _m(
            "complete_party_security_assessment",
            CompletePartySecurityAssessment,
            "User CIO",
            signal=True,
        ),
        _m("set_party_security_status", SetPartySecurityStatus, "SEC Panel", signal=True),
    ]
}
"""Every message a Party record takes from people and systems, by update (and signal) name."""
