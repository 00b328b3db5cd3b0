"""The events the UEPT and credit steps record, field by field. Literal dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain import commands as c
from domain import events as ev
from domain.credit import CreditSupportItem
from domain.decider import next_dcc_due
from domain.roles import UserRole
from tests.unit.test_decider import START, TODAY, given, in_testing, started, when, with_id_accepted

ON = date(2026, 3, 2)


def test_entry_criteria_record_only_the_new_ones_once_each() -> None:
    s = with_id_accepted()
    first = c.ConfirmEntryCriteria(criteria=["accession_confirmed", "accession_confirmed"])
    [e] = when(s, first)
    assert e == ev.UeptEntryCriteriaConfirmed(effective_on=TODAY, criteria=["accession_confirmed"])
    s = given(s, e)
    more = c.ConfirmEntryCriteria(criteria=["accession_confirmed", "user_roles_identified"])
    [e] = when(s, more)
    assert e == ev.UeptEntryCriteriaConfirmed(
        effective_on=TODAY, criteria=["user_roles_identified"]
    )


def test_the_review_and_the_quality_gate_keep_their_notes_and_the_certificate_step_opens() -> None:
    s = in_testing()
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=ON)))
    s = given(s, when(s, c.ConfirmReportReceipt(effective_on=ON)))
    [review] = when(s, c.ConcludeUeptReview(outcome="concluded", notes="fine", effective_on=ON))
    assert review == ev.UeptReviewConcluded(
        effective_on=ON, cycle=1, outcome="concluded", notes="fine"
    )
    s = given(s, review)
    failed = c.RecordQualityGateMeeting(successful=False, notes="gaps", effective_on=ON)
    assert when(s, failed) == [
        ev.QualityGateMeetingHeld(
            effective_on=ON, cycle=1, successful=False, certificate_due_on=None, notes="gaps"
        )
    ]
    passed = c.RecordQualityGateMeeting(successful=True, effective_on=ON)
    # Mon 2 Mar 2026 + 2 WD = Wed 4 Mar
    assert when(s, passed) == [
        ev.QualityGateMeetingHeld(
            effective_on=ON, cycle=1, successful=True, certificate_due_on=date(2026, 3, 4)
        )
    ]
    s = given(s, when(s, passed))
    [cert] = when(s, c.IssueTestCompletionCertificate(certificate_ref="TCC-7", effective_on=ON))
    assert cert == ev.TestCompletionCertificateIssued(
        effective_on=ON, cycle=1, certificate_ref="TCC-7"
    )


def test_the_next_dcc_deadline_is_the_soonest_watched_step_not_yet_missed() -> None:
    s = given(
        in_testing(),
        ev.TestCompletionReportSubmitted(effective_on=ON, cycle=1, receipt_due_on=date(2026, 3, 4)),
    )
    assert next_dcc_due(s, {"report_receipt:1"}) == date(2026, 3, 4)
    assert next_dcc_due(s, set()) is None  # not watched: entered after its due date
    missed = given(
        s,
        ev.DccDeadlineMissed(
            effective_on=date(2026, 3, 5), step="report_receipt", cycle=1, due_on=date(2026, 3, 4)
        ),
    )
    assert next_dcc_due(missed, {"report_receipt:1"}) is None
    done = given(s, when(s, c.ConfirmReportReceipt(effective_on=date(2026, 3, 3))))
    # the receipt is done; the review (from the report's receipt on 2 Mar + 5 WD) is next
    assert next_dcc_due(done, {"report_receipt:1", "report_review:1"}) == date(2026, 3, 9)
    assert next_dcc_due(done, {"report_receipt:1"}) is None


def test_support_is_lodged_while_required_or_lodged_and_the_dccs_assessment_recorded() -> None:
    s = given(started())
    s = given(s, when(s, c.NotifyCreditCoverRequirement(requirement=50_000, threshold=2000)))
    first = c.LodgeCreditSupport(items=[{"form": "cash_deposit", "amount": 30_000}])
    [lodged] = when(s, first)
    assert lodged == ev.CreditSupportLodged(
        effective_on=TODAY,
        items=[CreditSupportItem(form="cash_deposit", amount=Decimal(30_000))],
    )
    s = given(s, lodged)
    more = c.LodgeCreditSupport(
        items=[{"form": "letter_of_credit", "amount": 20_000, "provider": "Bank"}]
    )
    s = given(s, when(s, more))
    assert [i.amount for i in s.credit.lodged] == [Decimal(30_000), Decimal(20_000)]
    [assessed] = when(s, c.AssessCreditSupport())
    assert assessed == ev.CreditSupportAssessed(
        effective_on=TODAY,
        accepted=True,
        accepted_total=Decimal(50_000),
        required=Decimal(50_000),
        reasons=[],
    )
    assert given(s, assessed).requirement_met("credit")
    assert START < TODAY


def test_an_assessment_booked_exactly_twelve_weeks_ahead_is_not_short_notice() -> None:
    s = given(started(UserRole.OTHER_USER))
    twelve = date(2025, 8, 25)  # Mon 2 Jun 2025 + 12 weeks
    [booked] = when(s, c.BookPrivacyAssessment(assessment_on=twelve, effective_on=START))
    assert booked == ev.AssessmentBooked(
        effective_on=START, area="privacy", kind="full", assessment_on=twelve, short_notice=False
    )
    [security] = when(
        s, c.BookSecurityAssessment(assessment_on=date(2025, 8, 24), effective_on=START)
    )
    assert security == ev.AssessmentBooked(
        effective_on=START,
        area="security",
        kind="full",
        assessment_on=date(2025, 8, 24),
        short_notice=True,  # a day short: recorded, not refused, for security
    )
    s = given(s, booked)
    [done] = when(s, c.CompletePrivacyAssessment(effective_on=twelve))
    assert done == ev.AssessmentCompleted(effective_on=twelve, area="privacy", kind="full")
    s = given(s, done)
    [status] = when(s, c.SetPrivacyStatus(status="approved_subject_to", conditions="logs"))
    assert status == ev.AssuranceStatusSet(
        effective_on=TODAY,
        area="privacy",
        status="approved_subject_to",
        allows_completion=True,
        conditions="logs",
    )


def test_a_pre_assessment_then_the_full_one() -> None:
    s = given(started())
    pre = c.BookSecurityAssessment(
        kind="pre_assessment", assessment_on=date(2025, 8, 25), effective_on=START
    )
    s = given(s, when(s, pre))
    [done] = when(s, c.CompleteSecurityAssessment(effective_on=date(2025, 8, 25)))
    assert done == ev.AssessmentCompleted(
        effective_on=date(2025, 8, 25), area="security", kind="pre_assessment"
    )
    s = given(s, done)
    full = c.BookSecurityAssessment(
        assessment_on=date(2025, 11, 17), effective_on=date(2025, 8, 25)
    )
    assert [e.type for e in when(s, full)] == ["AssessmentBooked"]
