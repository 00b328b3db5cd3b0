"""Every refusal of the case decider says exactly what is wrong: its kind, the input field it
names and its words, which is what an operator reads in the Web UI or the CLI.

One row per refusal: the state the case is in, the command, and the refusal. Literal dates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain import commands as c
from domain import events as ev
from domain.assurance import AssuranceStatus as A
from domain.assurance import RulesVersion
from domain.errors import DomainError, InvalidInputError, OutOfStageError
from domain.party.position import CreditPosition, PartyPosition, SecurityPosition
from domain.roles import UserRole
from domain.state import CaseState, PartyTerms
from tests.unit.test_decider import (
    ALL_CRITERIA,
    START,
    UID,
    assessed,
    given,
    in_testing,
    started,
    when,
    with_id_accepted,
)
from tests.unit.test_sec_rules import ready_but_security

OTHER = "90b3d51f30010001"
WEEKS_12 = START + timedelta(weeks=12)


def fresh() -> CaseState:
    return given(started())


def proposed() -> CaseState:
    return given(started(), ev.UserIdProposed(effective_on=START, user_id=UID))


def rejected() -> CaseState:
    return given(proposed(), ev.UserIdRejected(effective_on=START, user_id=UID, reason="format"))


def srept_done() -> CaseState:
    return given(started(), ev.SreptCompleted(effective_on=START))


def one_criterion() -> CaseState:
    criterion = ev.UeptEntryCriteriaConfirmed(effective_on=START, criteria=["accession_confirmed"])
    return given(with_id_accepted(), criterion)


def notice() -> CaseState:
    s = with_id_accepted()
    return given(
        s, when(s, c.GiveUeptNotice(planned_start_on=date(2025, 9, 1), effective_on=START))
    )


def noticed_without_id() -> CaseState:
    return given(
        started(),
        ev.UeptNoticeGiven(
            effective_on=START,
            planned_start_on=date(2025, 9, 1),
            earliest_start_on=date(2025, 9, 1),
        ),
        ev.UeptEntryCriteriaConfirmed(effective_on=START, criteria=ALL_CRITERIA),
    )


def report_submitted() -> CaseState:
    s = in_testing()
    return given(s, when(s, c.SubmitTestCompletionReport(effective_on=date(2026, 3, 2))))


def received() -> CaseState:
    s = report_submitted()
    return given(s, when(s, c.ConfirmReportReceipt(effective_on=date(2026, 3, 3))))


def concluded() -> CaseState:
    s = received()
    review = c.ConcludeUeptReview(outcome="concluded", effective_on=date(2026, 3, 4))
    return given(s, when(s, review))


def gate_failed() -> CaseState:
    s = concluded()
    meeting = c.RecordQualityGateMeeting(successful=False, effective_on=date(2026, 3, 5))
    return given(s, when(s, meeting))


def rev3(
    ranges: tuple[tuple[str, str], ...] = (("90b3d51f30010000", "90b3d51f300100ff"),),
) -> CaseState:
    terms = PartyTerms(
        record="uep-party-acme",
        version=2,
        credit=CreditPosition(met=False, reason="r"),
        security=SecurityPosition(met=False, reason="s"),
        user_id_ranges=list(ranges),
        recorded_on=START,
    )
    return given(started(revision=3)).model_copy(update={"from_party": terms})


def rev3_no_range() -> CaseState:
    return rev3(())


def rev3_accepted() -> CaseState:
    return given(
        rev3(),
        ev.UserIdProposed(effective_on=START, user_id=UID),
        ev.UserIdAccepted(effective_on=START, user_id=UID),
    )


def rev3_rejected() -> CaseState:
    return given(
        rev3(),
        ev.UserIdProposed(effective_on=START, user_id=OTHER),
        ev.UserIdRejected(effective_on=START, user_id=OTHER, reason="x"),
    )


def position(record: str) -> PartyPosition:
    return PartyPosition(
        party_record=record,
        party_version=3,
        credit=CreditPosition(met=True, reason="r"),
        security=SecurityPosition(met=True, reason="s"),
    )


def other_user() -> CaseState:
    return given(started(UserRole.OTHER_USER))


def privacy_assessed() -> CaseState:
    return assessed("privacy", UserRole.OTHER_USER, RulesVersion.MP112)


def sec_booked() -> CaseState:
    s = fresh()
    return given(s, when(s, c.BookSecurityAssessment(assessment_on=WEEKS_12, effective_on=START)))


def sec_status(status: A) -> CaseState:
    s = assessed("security")
    return given(s, when(s, c.SetSecurityStatus(status=status)))


def sec_approved() -> CaseState:
    return sec_status(A.APPROVED)


def sec_deferred() -> CaseState:
    return sec_status(A.DEFERRED)


def pre_done() -> CaseState:
    s = fresh()
    pre = c.BookSecurityAssessment(
        kind="pre_assessment", assessment_on=WEEKS_12, effective_on=START
    )
    s = given(s, when(s, pre))
    return given(s, when(s, c.CompleteSecurityAssessment(effective_on=WEEKS_12)))


def user_id_verified() -> CaseState:
    return given(with_id_accepted(), ev.EvidenceVerified(effective_on=START, requirement="user_id"))


def completed() -> CaseState:
    s = ready_but_security()
    s = given(s, when(s, c.SetSecurityStatus(status=A.APPROVED)))
    return given(
        s, when(s, c.VerifyEvidence(requirement="security", effective_on=date(2026, 6, 1)))
    )


def papered() -> CaseState:
    s = completed()
    paper = c.RecordPanelInformationPaper(effective_on=date(2026, 7, 1), reference="P")
    return given(s, when(s, paper))


def withdrawn() -> CaseState:
    return given(started(), ev.CaseWithdrawn(effective_on=START, reason="x"))


def sec_disputed() -> CaseState:
    s = sec_deferred()
    return given(s, when(s, c.RaiseDispute(subject="security", reason="x")))


def panel_determined() -> CaseState:
    made = ev.PanelDeterminationMade(effective_on=START, dispute_id="D1", upheld=False)
    return given(sec_disputed(), made)


REFUSALS = [
    pytest.param(
        proposed,
        c.ProposeUserId(user_id=OTHER),
        OutOfStageError,
        None,
        "User ID 90b3d51f30010000 is already proposed to the DCC",
        id="propose while proposed",
    ),
    pytest.param(
        with_id_accepted,
        c.ProposeUserId(user_id=OTHER),
        OutOfStageError,
        None,
        "the DCC already accepted User ID 90b3d51f30010000",
        id="propose after accepted",
    ),
    pytest.param(
        rejected,
        c.ProposeUserId(user_id=UID),
        InvalidInputError,
        "user_id",
        "the DCC rejected 90b3d51f30010000 for this role; propose a different id",
        id="propose rejected again",
    ),
    pytest.param(
        fresh,
        c.AcceptUserId(user_id=UID),
        OutOfStageError,
        None,
        "no User ID is awaiting the DCC's answer",
        id="accept none proposed",
    ),
    pytest.param(
        proposed,
        c.RejectUserId(user_id=OTHER, reason="x"),
        InvalidInputError,
        "user_id",
        "90b3d51f30010001 is not the proposed User ID (90b3d51f30010000)",
        id="reject another",
    ),
    pytest.param(
        srept_done,
        c.RecordSreptCompleted(),
        OutOfStageError,
        None,
        "SREPT was already recorded on 2025-06-02",
        id="srept twice",
    ),
    pytest.param(
        in_testing,
        c.GiveUeptNotice(planned_start_on=date(2026, 9, 1)),
        OutOfStageError,
        None,
        "UEPT is already under way (testing)",
        id="notice while testing",
    ),
    pytest.param(
        with_id_accepted,
        c.GiveUeptNotice(planned_start_on=date(2045, 9, 1), effective_on=START),
        InvalidInputError,
        "planned_start_on",
        "2045-09-01 is more than 5 years after 2025-06-02; check the date",
        id="notice too far",
    ),
    pytest.param(
        in_testing,
        c.ConfirmEntryCriteria(criteria=["accession_confirmed"]),
        OutOfStageError,
        None,
        "UEPT has started; entry criteria are no longer recorded",
        id="criteria after start",
    ),
    pytest.param(
        one_criterion,
        c.ConfirmEntryCriteria(criteria=["accession_confirmed"]),
        OutOfStageError,
        None,
        "those entry criteria are already confirmed",
        id="criteria again",
    ),
    pytest.param(
        with_id_accepted,
        c.StartUept(),
        OutOfStageError,
        None,
        "UEPT needs 60 Working Days' notice first",
        id="start without notice",
    ),
    pytest.param(
        in_testing,
        c.StartUept(),
        OutOfStageError,
        None,
        "UEPT is already under way (testing)",
        id="start twice",
    ),
    pytest.param(
        notice,
        c.StartUept(effective_on=date(2025, 9, 1)),
        OutOfStageError,
        None,
        (
            "UEPT entry criteria not yet met: accession_confirmed, user_roles_identified, "
            "test_artefacts_approved, test_environment_evidenced, resource_evidenced, "
            "security_requirements_met"
        ),
        id="start without criteria",
    ),
    pytest.param(
        noticed_without_id,
        c.StartUept(effective_on=date(2025, 9, 1)),
        OutOfStageError,
        None,
        "UEPT needs a User ID accepted by the DCC for the role",
        id="start without id",
    ),
    pytest.param(
        with_id_accepted,
        c.SubmitTestCompletionReport(),
        OutOfStageError,
        None,
        "a Test Completion Report is submitted while UEPT is testing",
        id="report before testing",
    ),
    pytest.param(
        in_testing,
        c.SubmitTestCompletionReport(effective_on=date(2025, 8, 1)),
        InvalidInputError,
        "effective_on",
        "2025-08-01 is before UEPT started on 2025-08-26",
        id="report before start date",
    ),
    pytest.param(
        in_testing,
        c.ConfirmReportReceipt(),
        OutOfStageError,
        None,
        "no Test Completion Report is awaiting the DCC's receipt",
        id="receipt none",
    ),
    pytest.param(
        report_submitted,
        c.ConfirmReportReceipt(effective_on=date(2026, 3, 1)),
        InvalidInputError,
        "effective_on",
        "2026-03-01 is before the report was submitted on 2026-03-02",
        id="receipt before report",
    ),
    pytest.param(
        report_submitted,
        c.ConcludeUeptReview(outcome="concluded"),
        OutOfStageError,
        None,
        "no received Test Completion Report is awaiting review",
        id="review none",
    ),
    pytest.param(
        received,
        c.ConcludeUeptReview(outcome="concluded", effective_on=date(2026, 3, 2)),
        InvalidInputError,
        "effective_on",
        "2026-03-02 is before the DCC confirmed receipt on 2026-03-03",
        id="review before receipt",
    ),
    pytest.param(
        received,
        c.RecordQualityGateMeeting(successful=True),
        OutOfStageError,
        None,
        "the quality gate meeting follows a concluded DCC review",
        id="gate before review",
    ),
    pytest.param(
        concluded,
        c.IssueTestCompletionCertificate(certificate_ref="T"),
        OutOfStageError,
        None,
        "the certificate follows a successful quality gate meeting",
        id="cert before gate",
    ),
    pytest.param(
        gate_failed,
        c.IssueTestCompletionCertificate(certificate_ref="T"),
        OutOfStageError,
        None,
        "the certificate follows a successful quality gate meeting",
        id="cert after failed gate",
    ),
    pytest.param(
        fresh,
        c.LodgeCreditSupport(items=[{"form": "cash_deposit", "amount": "1"}]),
        OutOfStageError,
        None,
        (
            "Credit Support is lodged once the DCC says it is required (credit is "
            "awaiting_requirement)"
        ),
        id="lodge before required",
    ),
    pytest.param(
        fresh,
        c.AssessCreditSupport(),
        OutOfStageError,
        None,
        "no lodged Credit Support is awaiting the DCC's assessment",
        id="assess none lodged",
    ),
    pytest.param(
        fresh,
        c.CorrectCalendar(),
        InvalidInputError,
        "add_holidays",
        "give add_holidays or remove_holidays",
        id="calendar nothing",
    ),
    pytest.param(
        fresh,
        c.CorrectCalendar(add_holidays=[date(2040, 1, 2)]),
        InvalidInputError,
        "add_holidays",
        "2040-01-02 is outside the calendar's years 2019-2032",
        id="calendar outside",
    ),
    pytest.param(
        fresh,
        c.GiveUeptNotice(planned_start_on=date(2026, 1, 1), effective_on=date(2025, 1, 1)),
        InvalidInputError,
        "effective_on",
        "2025-01-01 is before the case started on 2025-06-02",
        id="effective before start",
    ),
    pytest.param(
        fresh,
        c.RecordSreptCompleted(effective_on=date(2026, 11, 24)),
        InvalidInputError,
        "effective_on",
        "2026-11-24 is in the future (today is 2026-11-23); record a fact once it has happened",
        id="future",
    ),
    pytest.param(
        rev3_accepted,
        c.ProposeUserId(user_id=UID),
        InvalidInputError,
        "user_id",
        "the DCC already accepted 90-B3-D5-1F-30-01-00-00 for this role",
        id="rev3 propose accepted again",
    ),
    pytest.param(
        rev3_rejected,
        c.ProposeUserId(user_id=OTHER),
        InvalidInputError,
        "user_id",
        "the DCC rejected 90-B3-D5-1F-30-01-00-01 for this role; propose a different id",
        id="rev3 propose rejected",
    ),
    pytest.param(
        rev3,
        c.ProposeUserId(user_id="91b3d51f30010000"),
        InvalidInputError,
        "user_id",
        (
            "91-B3-D5-1F-30-01-00-00 is a group (multicast) EUI-64: the I/G bit of its first "
            "octet is set; a User ID identifies one User, so it must be an individual address"
        ),
        id="rev3 group address",
    ),
    pytest.param(
        rev3_no_range,
        c.ProposeUserId(user_id=UID),
        OutOfStageError,
        None,
        (
            "SECAS has not recorded a User ID range for Party acme: the DCC accepts only an id "
            "inside the Party's allocated range (allocate_user_id_range on uep-party-acme)"
        ),
        id="rev3 no range",
    ),
    pytest.param(
        rev3,
        c.ProposeUserId(user_id="90b3d51f30010100"),
        InvalidInputError,
        "user_id",
        (
            "90-B3-D5-1F-30-01-01-00 is outside the User ID range allocated to Party acme "
            "(90-B3-D5-1F-30-01-00-00 to 90-B3-D5-1F-30-01-00-FF); the DCC accepts only an id "
            "inside it"
        ),
        id="rev3 outside range",
    ),
    pytest.param(
        rev3,
        c.NotifyCreditCoverRequirement(requirement=Decimal(1), threshold=Decimal(2)),
        InvalidInputError,
        "payload",
        (
            "Credit Support belongs to the Party, not to one role: send "
            "'notify_party_credit_cover' to the Party record uep-party-acme (this case takes "
            "its position from there)"
        ),
        id="rev3 case credit",
    ),
    pytest.param(
        rev3,
        c.BookSecurityAssessment(assessment_on=WEEKS_12, effective_on=START),
        InvalidInputError,
        "payload",
        (
            "the security assessment belongs to the Party, not to one role: send "
            "'book_party_security_assessment' to the Party record uep-party-acme (this case "
            "takes its position from there)"
        ),
        id="rev3 case security",
    ),
    pytest.param(
        rev3,
        c.RaiseDispute(subject="credit", reason="x"),
        InvalidInputError,
        "subject",
        (
            "a dispute about the Party's credit is not recorded on one role case; the Party "
            "record uep-party-acme holds the credit facts and uep does not yet record disputes "
            "there: record the Panel's or Ofgem's decision on the record (see "
            "docs/operator-guide.md, 'Disputes about the Party record')"
        ),
        id="rev3 credit dispute",
    ),
    pytest.param(
        fresh,
        c.RecordPartyPosition(position=position("uep-party-acme")),
        InvalidInputError,
        "position",
        "this case opened before the Party record and keeps its own credit and security",
        id="rev2 position",
    ),
    pytest.param(
        rev3,
        c.RecordPartyPosition(position=position("uep-party-rival")),
        InvalidInputError,
        "position.party_record",
        "uep-party-rival is not the record of Party acme",
        id="rev3 wrong record",
    ),
    pytest.param(
        fresh,
        c.BookPrivacyAssessment(assessment_on=WEEKS_12, effective_on=START),
        InvalidInputError,
        None,
        (
            "a privacy assessment applies to the Other User role only (H1.10(d)); this case is "
            "Gas Supplier"
        ),
        id="privacy for gas",
    ),
    pytest.param(
        sec_booked,
        c.BookSecurityAssessment(assessment_on=START + timedelta(weeks=13), effective_on=START),
        OutOfStageError,
        None,
        "a security assessment is already booked",
        id="book while booked",
    ),
    pytest.param(
        sec_approved,
        c.BookSecurityAssessment(kind="follow_up", assessment_on=START + timedelta(weeks=30)),
        OutOfStageError,
        None,
        "the security status already allows completion (approved)",
        id="book after approved",
    ),
    pytest.param(
        other_user,
        c.BookPrivacyAssessment(kind="pre_assessment", assessment_on=WEEKS_12, effective_on=START),
        InvalidInputError,
        "kind",
        "the Optional Pre-Assessment is a security step",
        id="pre for privacy",
    ),
    pytest.param(
        pre_done,
        c.BookSecurityAssessment(
            kind="pre_assessment", assessment_on=START + timedelta(weeks=24), effective_on=START
        ),
        OutOfStageError,
        None,
        "the Optional Pre-Assessment comes once, before the full one",
        id="pre twice",
    ),
    pytest.param(
        fresh,
        c.BookSecurityAssessment(kind="follow_up", assessment_on=WEEKS_12, effective_on=START),
        InvalidInputError,
        "kind",
        "a follow-up assessment follows a Deferred or Rejected status",
        id="follow up first",
    ),
    pytest.param(
        sec_deferred,
        c.BookSecurityAssessment(assessment_on=START + timedelta(weeks=40)),
        InvalidInputError,
        "kind",
        "the security status is deferred; book a follow_up assessment",
        id="full after deferred",
    ),
    pytest.param(
        other_user,
        c.BookPrivacyAssessment(assessment_on=START + timedelta(weeks=11), effective_on=START),
        InvalidInputError,
        "assessment_on",
        (
            "an assessment needs 12 weeks' notice: booked on 2025-06-02, the earliest date is "
            "2025-08-25 (User Entry Process Guidance v1.3, s.7)"
        ),
        id="privacy short notice",
    ),
    pytest.param(
        fresh,
        c.BookSecurityAssessment(assessment_on=date(2031, 1, 1), effective_on=START),
        InvalidInputError,
        "assessment_on",
        "2031-01-01 is more than 5 years after 2025-06-02; check the date",
        id="book too far",
    ),
    pytest.param(
        fresh,
        c.CompleteSecurityAssessment(),
        OutOfStageError,
        None,
        "no security assessment is booked",
        id="complete not booked",
    ),
    pytest.param(
        sec_booked,
        c.CompleteSecurityAssessment(effective_on=START + timedelta(weeks=11)),
        InvalidInputError,
        "effective_on",
        "2025-08-18 is before the security assessment booked on 2025-08-25",
        id="complete before date",
    ),
    pytest.param(
        sec_booked,
        c.SetSecurityStatus(status=A.APPROVED),
        OutOfStageError,
        None,
        "the Panel sets the security status after an assessment",
        id="status before assessed",
    ),
    pytest.param(
        privacy_assessed,
        c.SetPrivacyStatus(status=A.PROVISIONALLY_APPROVED),
        InvalidInputError,
        "privacy_status",
        (
            "Provisionally approved is not a privacy assurance status under SEC modification "
            "MP112 (privacy assurance statuses), 29 Nov 2020 (mp112); allowed: Approved, "
            "Approved, subject to, Deferred, Rejected"
        ),
        id="provisionally under mp112",
    ),
    pytest.param(
        with_id_accepted,
        c.VerifyEvidence(requirement="privacy"),
        InvalidInputError,
        "requirement",
        "privacy does not apply to Gas Supplier (privacy is for Other User only)",
        id="verify privacy gas",
    ),
    pytest.param(
        user_id_verified,
        c.VerifyEvidence(requirement="user_id"),
        OutOfStageError,
        None,
        "SECAS already verified the user_id evidence on 2025-06-02",
        id="verify twice",
    ),
    pytest.param(
        with_id_accepted,
        c.VerifyEvidence(requirement="uept"),
        OutOfStageError,
        None,
        "the uept requirement is not met yet, so there is no evidence to verify",
        id="verify not met",
    ),
    pytest.param(
        with_id_accepted,
        c.RecordPanelInformationPaper(reference="P"),
        OutOfStageError,
        None,
        "the Panel is informed of a completion once the UEP completes",
        id="paper before completion",
    ),
    pytest.param(
        papered,
        c.RecordPanelInformationPaper(reference="P"),
        OutOfStageError,
        None,
        "the SEC Panel was already informed at its meeting of 2026-07-01",
        id="paper twice",
    ),
    pytest.param(
        with_id_accepted,
        c.RecordNoticeQueued(recipient="party", notice_id="n1"),
        OutOfStageError,
        None,
        "completion notices follow the completion of the UEP",
        id="queued before completion",
    ),
    pytest.param(
        completed,
        c.RecordNoticeDelivered(recipient="party", notice_id="n1", channel="memory"),
        OutOfStageError,
        None,
        "no notice n1 to the party is queued",
        id="delivered unknown",
    ),
    pytest.param(
        with_id_accepted,
        c.RecordCompletionNotice(recipient="party"),
        OutOfStageError,
        None,
        "completion notices follow the completion of the UEP",
        id="notified before completion",
    ),
    pytest.param(
        completed,
        c.ProposeUserId(user_id=UID),
        OutOfStageError,
        None,
        "the case completed on 2026-06-01; nothing more can be recorded on it",
        id="completed propose",
    ),
    pytest.param(
        withdrawn,
        c.ProposeUserId(user_id=UID),
        OutOfStageError,
        None,
        "the case was withdrawn on 2025-06-02; start a new case to try again",
        id="withdrawn propose",
    ),
    pytest.param(
        sec_disputed,
        c.RaiseDispute(subject="security", reason="y"),
        OutOfStageError,
        None,
        "the security step is paused by dispute D1 until the SEC Panel determines it",
        id="dispute again",
    ),
    pytest.param(
        sec_disputed,
        c.ReferDisputeToOfgem(dispute_id="D1"),
        OutOfStageError,
        None,
        "dispute D1 is with panel; only a Panel determination can be referred to Ofgem",
        id="refer not determined",
    ),
    pytest.param(
        sec_disputed,
        c.RecordOfgemDetermination(dispute_id="D1", upheld=True),
        OutOfStageError,
        None,
        "dispute D1 is with panel; Ofgem determines referred disputes",
        id="ofgem not referred",
    ),
    pytest.param(
        panel_determined,
        c.RecordPanelDetermination(dispute_id="D1", upheld=True),
        OutOfStageError,
        None,
        "dispute D1 is panel determined; the Panel determines disputes it holds",
        id="panel twice",
    ),
    pytest.param(
        sec_disputed,
        c.RecordPanelDetermination(dispute_id="D1", upheld=True, outcome="uept_concluded"),
        InvalidInputError,
        "outcome",
        "uept_concluded is not an assurance status; a security dispute determines a status",
        id="bad status outcome",
    ),
    pytest.param(
        fresh,
        c.RaiseDispute(subject="privacy", reason="x"),
        InvalidInputError,
        None,
        (
            "a privacy assessment applies to the Other User role only (H1.10(d)); this case is "
            "Gas Supplier"
        ),
        id="privacy dispute gas",
    ),
]


@pytest.mark.parametrize(("build", "command", "kind", "field", "message"), REFUSALS)
def test_each_refusal_names_its_field_and_says_what_is_wrong(
    build: Callable[[], CaseState],
    command: c.Command,
    kind: type[DomainError],
    field: str | None,
    message: str,
) -> None:
    with pytest.raises(DomainError) as refused:
        when(build(), command)
    assert type(refused.value) is kind
    assert (refused.value.field, refused.value.message) == (field, message)
    if kind is OutOfStageError and refused.value.waiting_for:
        assert str(refused.value).endswith(".")


@pytest.mark.parametrize(
    ("command", "what", "instead"),
    [
        (
            c.NotifyCreditCoverRequirement(requirement=Decimal(1)),
            "Credit Support",
            "notify_party_credit_cover",
        ),
        (
            c.LodgeCreditSupport(items=[{"form": "cash_deposit", "amount": Decimal(1)}]),
            "Credit Support",
            "lodge_instrument",
        ),
        (c.AssessCreditSupport(), "Credit Support", "assess_party_credit"),
        (
            c.BookSecurityAssessment(assessment_on=WEEKS_12, effective_on=START),
            "the security assessment",
            "book_party_security_assessment",
        ),
        (
            c.CompleteSecurityAssessment(),
            "the security assessment",
            "complete_party_security_assessment",
        ),
        (
            c.SetSecurityStatus(status=A.APPROVED),
            "the security assessment",
            "set_party_security_status",
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, c.Command) else None,
)
def test_a_party_backed_case_names_the_records_message_for_credit_and_security(
    command: c.Command, what: str, instead: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        when(rev3(), command)
    assert refused.value.field == "payload"
    assert refused.value.message == (
        f"{what} belongs to the Party, not to one role: send {instead!r} to the Party record "
        "uep-party-acme (this case takes its position from there)"
    )


def test_a_party_backed_case_records_a_security_dispute_on_the_record() -> None:
    with pytest.raises(InvalidInputError) as refused:
        when(rev3(), c.RaiseDispute(subject="security", reason="x"))
    assert refused.value.field == "subject"
    assert refused.value.message.startswith(
        "a dispute about the Party's security is not recorded on one role case; the Party "
        "record uep-party-acme holds the security facts"
    )


def test_a_party_backed_case_takes_only_news_from_its_record() -> None:
    s = rev3()
    assert s.from_party is not None
    old = position("uep-party-acme").model_copy(update={"party_version": 1})
    assert when(s, c.RecordPartyPosition(position=old)) == []
    same = old.model_copy(
        update={
            "party_version": 5,
            "credit": s.from_party.credit,
            "security": s.from_party.security,
            "user_id_ranges": s.from_party.user_id_ranges,
        }
    )
    assert when(s, c.RecordPartyPosition(position=same)) == []
    new = position("uep-party-acme")
    [recorded] = when(s, c.RecordPartyPosition(position=new))
    assert isinstance(recorded, ev.PartyPositionRecorded)
    assert (recorded.party_record, recorded.party_version) == ("uep-party-acme", 3)
    assert recorded.credit == new.credit and recorded.security == new.security
    first = when(
        rev3().model_copy(update={"from_party": None}), c.RecordPartyPosition(position=new)
    )
    assert [e.type for e in first] == ["PartyPositionRecorded"]
