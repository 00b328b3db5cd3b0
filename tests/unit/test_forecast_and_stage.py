"""Stage, deadlines, what the case waits for, and the completion forecast (domain.progress).

The forecast is checked on a calendar of plain weekdays (no bank holidays), so each expected date
is weekday arithmetic done by hand: 5 Working Days is one calendar week.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain import commands as c
from domain import events as ev
from domain.assurance import AssuranceStatus
from domain.calendar import WorkingDayCalendar
from domain.party.position import CreditPosition, SecurityPosition
from domain.progress import (
    Stage,
    _assurance_end,
    _credit_end,
    _uept_end,
    deadlines,
    forecast_completion,
    next_deadline,
    notices_due,
    stage,
    waiting_for,
)
from domain.roles import UserRole
from domain.state import AssessmentState, CaseState, PartyTerms
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
from tests.unit.test_sec_rules import ready_but_security, uept_done

PLAIN = WorkingDayCalendar(region="weekdays", first_year=2025, last_year=2027, holidays=[])
TODAY = date(2026, 1, 5)  # a Monday


def _uept(**update: object) -> CaseState:
    s = with_id_accepted()
    return s.model_copy(update={"uept": s.uept.model_copy(update=update)})


# -- the UEPT part of the forecast -------------------------------------------------------------


def test_uept_not_started_is_60_days_notice_then_20_of_tests_and_9_of_dcc_steps() -> None:
    # Mon 5 Jan + 60 WD (12 weeks) = Mon 30 Mar; + 29 WD (5 weeks and 4 days) = Fri 8 May
    assert _uept_end(_uept(), TODAY, PLAIN) == date(2026, 5, 8)


def test_uept_with_notice_runs_from_the_later_of_the_planned_and_earliest_start() -> None:
    s = _uept(
        phase="notice_given",
        planned_start_on=date(2026, 3, 2),
        earliest_start_on=date(2026, 2, 23),
    )
    assert _uept_end(s, TODAY, PLAIN) == date(2026, 4, 10)  # Mon 2 Mar + 29 WD
    later = _uept(
        phase="notice_given",
        planned_start_on=date(2026, 2, 23),
        earliest_start_on=date(2026, 3, 2),
    )
    assert _uept_end(later, TODAY, PLAIN) == date(2026, 4, 10)
    past = _uept(
        phase="notice_given",
        planned_start_on=date(2025, 12, 1),
        earliest_start_on=date(2025, 12, 1),
    )
    assert _uept_end(past, TODAY, PLAIN) == date(2026, 2, 13)  # from today: Mon 5 Jan + 29 WD


def test_uept_testing_takes_20_days_from_its_start_then_the_dcc_steps() -> None:
    recent = _uept(phase="testing", started_on=TODAY)
    assert _uept_end(recent, TODAY, PLAIN) == date(2026, 2, 13)  # + 20 WD = 2 Feb, + 9 = 13 Feb
    overdue = _uept(phase="testing", started_on=date(2025, 12, 1))
    assert _uept_end(overdue, TODAY, PLAIN) == date(2026, 1, 16)  # tests overdue: today + 9


def test_uept_completion_counts_the_dcc_steps_left_from_the_open_steps_due_day() -> None:
    s = in_testing()
    s = given(
        s,
        ev.TestCompletionReportSubmitted(
            effective_on=date(2026, 1, 5), cycle=1, receipt_due_on=date(2026, 1, 7)
        ),
    )
    assert _uept_end(s, TODAY, PLAIN) == date(2026, 1, 20)  # Wed 7 Jan + 9 WD
    s = given(
        s,
        ev.TestCompletionReportReceiptConfirmed(
            effective_on=date(2026, 1, 5), cycle=1, review_due_on=date(2026, 1, 12)
        ),
    )
    assert _uept_end(s, TODAY, PLAIN) == date(2026, 1, 21)  # Mon 12 Jan + 7 WD
    assert _uept_end(s, date(2026, 1, 14), PLAIN) == date(2026, 1, 23)  # overdue: Wed 14 + 7
    s = given(s, ev.UeptReviewConcluded(effective_on=TODAY, cycle=1, outcome="concluded"))
    assert _uept_end(s, TODAY, PLAIN) == date(2026, 1, 7)  # today + 2 WD for the certificate
    s = given(
        s,
        ev.QualityGateMeetingHeld(
            effective_on=TODAY, cycle=1, successful=True, certificate_due_on=date(2026, 1, 7)
        ),
    )
    assert _uept_end(s, TODAY, PLAIN) == date(2026, 1, 7)  # the certificate's own due day
    assert _uept_end(_uept(phase="certified"), TODAY, PLAIN) == TODAY


# -- assurance and credit -----------------------------------------------------------------


def test_assurance_forecast_by_phase() -> None:
    assert _assurance_end(AssessmentState(allows_completion=True), TODAY, 6) == TODAY
    booked = AssessmentState(phase="booked", booked_for=date(2026, 2, 2))
    assert _assurance_end(booked, TODAY, 6) == date(2026, 3, 2)  # the day + 4 weeks
    overdue = AssessmentState(phase="booked", booked_for=date(2025, 12, 1))
    assert _assurance_end(overdue, TODAY, 6) == date(2026, 2, 2)  # today + 4 weeks
    assert _assurance_end(AssessmentState(phase="assessed"), TODAY, 6) == date(2026, 2, 2)
    assert _assurance_end(AssessmentState(), TODAY, 6) == date(2026, 7, 4)  # 180 days
    assert _assurance_end(AssessmentState(), TODAY, 7) == date(2026, 8, 3)  # 210 days


def test_credit_forecast_is_today_once_met_else_a_monthly_review() -> None:
    s = given(started())
    assert _credit_end(s, TODAY) == date(2026, 2, 5)  # 31 days
    s = given(s, when(s, c.NotifyCreditCoverRequirement(requirement=Decimal(0), threshold=2000)))
    assert _credit_end(s, TODAY) == TODAY


def test_the_forecast_is_the_latest_part_plus_5_days_of_secas_verification() -> None:
    s = with_id_accepted()
    # UEPT not started: Fri 8 May; security (6 months): Sat 4 Jul; credit: 5 Feb.
    # Latest Sat 4 Jul + 5 WD = Fri 10 Jul
    assert forecast_completion(s, TODAY, PLAIN) == date(2026, 7, 10)
    other = given(started(UserRole.OTHER_USER))
    # privacy (7 months): Mon 3 Aug + 5 WD = Mon 10 Aug
    assert forecast_completion(other, TODAY, PLAIN) == date(2026, 8, 10)
    approved = uept_done(in_testing())
    approved = given(approved, when(approved, c.NotifyCreditCoverRequirement(requirement=0)))
    # only security left, not started: Sat 4 Jul + 5 WD
    assert forecast_completion(approved, TODAY, PLAIN) == date(2026, 7, 10)


def test_a_party_backed_case_with_security_met_forecasts_from_uept_and_credit() -> None:
    terms = PartyTerms(
        record="uep-party-acme",
        version=3,
        credit=CreditPosition(met=True, reason="covered"),
        security=SecurityPosition(met=True, reason="approved"),
        recorded_on=START,
    )
    s = _uept(phase="certified").model_copy(update={"revision": 3, "from_party": terms})
    assert forecast_completion(s, TODAY, PLAIN) == date(2026, 1, 12)  # today + 5 WD
    unmet = s.model_copy(
        update={
            "from_party": terms.model_copy(
                update={"security": SecurityPosition(met=False, reason="x")}
            )
        }
    )
    assert forecast_completion(unmet, TODAY, PLAIN) == date(2026, 7, 10)


def test_a_closed_case_forecasts_its_completion_or_nothing() -> None:
    done = completed()
    assert forecast_completion(done, TODAY, PLAIN) == done.completed_on
    withdrawn = given(started(), ev.CaseWithdrawn(effective_on=START, reason="x"))
    assert forecast_completion(withdrawn, TODAY, PLAIN) is None


# -- stage ----------------------------------------------------------------------------------


def completed() -> CaseState:
    s = ready_but_security()
    s = given(s, when(s, c.SetSecurityStatus(status=AssuranceStatus.APPROVED)))
    return given(
        s, when(s, c.VerifyEvidence(requirement="security", effective_on=date(2026, 6, 1)))
    )


def test_stage_after_uept_is_assurance_then_credit_then_evidence() -> None:
    s = uept_done(in_testing())
    assert stage(s) == Stage.ASSURANCE
    s = given(s, when(s, c.BookSecurityAssessment(assessment_on=date(2026, 9, 1))))
    s = given(s, when(s, c.CompleteSecurityAssessment(effective_on=date(2026, 9, 1))))
    s = given(s, when(s, c.SetSecurityStatus(status=AssuranceStatus.APPROVED_SUBJECT_TO)))
    assert stage(s) == Stage.CREDIT
    s = given(s, when(s, c.NotifyCreditCoverRequirement(requirement=0, threshold=2000)))
    assert stage(s) == Stage.EVIDENCE


def test_other_user_needs_privacy_too_before_credit() -> None:
    s = assessed("security", UserRole.OTHER_USER)
    s = given(s, when(s, c.SetSecurityStatus(status=AssuranceStatus.APPROVED)))
    s = given(
        s,
        ev.UserIdProposed(effective_on=START, user_id=UID),
        ev.UserIdAccepted(effective_on=START, user_id=UID),
    )
    s = s.model_copy(update={"uept": s.uept.model_copy(update={"phase": "certified"})})
    assert stage(s) == Stage.ASSURANCE
    privacy = s.privacy.model_copy(update={"allows_completion": True, "phase": "status_set"})
    assert stage(s.model_copy(update={"privacy": privacy})) == Stage.CREDIT


def test_a_completed_case_is_in_notification_until_every_notice_is_out() -> None:
    s = completed()
    assert stage(s) == Stage.NOTIFICATION
    assert notices_due(s) == ["party", "dcc", "ofgem", "sec_panel"]
    assert waiting_for(s) == [
        "SECAS: notify the party",
        "SECAS: notify the dcc",
        "SECAS: notify the ofgem",
        "SECAS: inform the SEC Panel by an information paper at a Panel meeting (H1.12)",
    ]
    for n, recipient in enumerate(["party", "dcc", "ofgem"]):
        s = given(s, when(s, c.RecordNoticeQueued(recipient=recipient, notice_id=f"n{n}")))
    assert waiting_for(s)[0] == "SECAS: deliver the completion notice to the party (queued)"
    for n, recipient in enumerate(["party", "dcc", "ofgem"]):
        delivered = c.RecordNoticeDelivered(recipient=recipient, notice_id=f"n{n}", channel="m")
        s = given(s, when(s, delivered))
    assert notices_due(s) == ["sec_panel"]
    s = given(s, when(s, c.RecordPanelInformationPaper(effective_on=date(2026, 7, 1))))
    assert waiting_for(s) == ["SECAS: notify the sec_panel"]
    s = given(s, when(s, c.RecordNoticeQueued(recipient="sec_panel", notice_id="n3")))
    paper = c.RecordNoticeDelivered(recipient="sec_panel", notice_id="n3", channel="paper")
    s = given(s, when(s, paper))
    assert (notices_due(s), stage(s), waiting_for(s)) == ([], Stage.COMPLETED, [])
    assert notices_due(given(started())) == []


# -- deadlines --------------------------------------------------------------------------------


def test_deadlines_soonest_first_with_the_mandate_left_out_of_the_next_one() -> None:
    s = given(
        with_id_accepted(UserRole.OTHER_USER),
        ev.UeptNoticeGiven(
            effective_on=START,
            planned_start_on=date(2025, 9, 1),
            earliest_start_on=date(2025, 8, 27),
        ),
        ev.AssessmentBooked(
            effective_on=START, area="security", kind="full", assessment_on=date(2025, 10, 6)
        ),
        ev.AssessmentBooked(
            effective_on=START, area="privacy", kind="full", assessment_on=date(2025, 9, 29)
        ),
    )
    assert [(d.what, d.who, d.due_on, d.kind) for d in deadlines(s)] == [
        ("earliest UEPT start", "DCC", date(2025, 8, 27), "uept_start"),
        ("privacy assessment", "User CIO", date(2025, 9, 29), "assessment"),
        ("security assessment", "User CIO", date(2025, 10, 6), "assessment"),
    ]
    assert next_deadline(s) == date(2025, 8, 27)
    mandated = s.model_copy(update={"mandate_due_on": date(2025, 8, 1)})
    first = deadlines(mandated)[0]
    assert (first.kind, first.what, first.who) == ("mandate", "DCC User mandate", "Party")
    assert next_deadline(mandated) == date(2025, 8, 27)
    derogated = mandated.model_copy(update={"mandate_derogated": True})
    assert "mandate" not in [d.kind for d in deadlines(derogated)]


def test_an_open_dcc_step_is_a_deadline_of_the_dcc_and_a_closed_case_has_none() -> None:
    s = in_testing()
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=date(2026, 3, 2))))
    step = [d for d in deadlines(s) if d.kind == "dcc_step"]
    assert [(d.what, d.who, d.due_on) for d in step] == [
        ("DCC report receipt", "DCC", date(2026, 3, 4))
    ]
    assert deadlines(given(s, ev.CaseWithdrawn(effective_on=START, reason="x"))) == []


# -- what the case waits for -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda: given(started(), ev.UserIdProposed(effective_on=START, user_id=UID)),
            f"DCC: accept or reject User ID {UID}",
        ),
        (
            lambda: given(
                started(),
                ev.UserIdProposed(effective_on=START, user_id=UID),
                ev.UserIdRejected(effective_on=START, user_id=UID, reason="x"),
            ),
            "Party: propose a User ID to the DCC",
        ),
    ],
)
def test_the_user_id_item(build: object, expected: str) -> None:
    assert callable(build)
    assert waiting_for(build())[0] == expected


def test_uept_items_through_the_process() -> None:
    s = with_id_accepted()
    s = given(
        s,
        ev.UeptNoticeGiven(
            effective_on=START,
            planned_start_on=date(2025, 9, 1),
            earliest_start_on=date(2025, 8, 27),
        ),
        ev.UeptEntryCriteriaConfirmed(effective_on=START, criteria=ALL_CRITERIA),
    )
    assert waiting_for(s)[0] == "DCC: start UEPT by 2025-08-27"
    s = in_testing()
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=date(2026, 3, 2))))
    late = given(s, when(s, c.ConfirmReportReceipt(effective_on=date(2026, 3, 10))))
    s = given(
        s,
        ev.DccDeadlineMissed(
            effective_on=date(2026, 3, 5), step="report_receipt", cycle=1, due_on=date(2026, 3, 4)
        ),
    )
    assert waiting_for(s)[0] == (
        "DCC: confirm receipt of the Test Completion Report (late) by 2026-03-04"
    )
    concluded = given(late, when(late, c.ConcludeUeptReview(outcome="concluded")))
    assert waiting_for(concluded)[0] == "DCC: hold the quality gate review meeting"
    gate = given(concluded, when(concluded, c.RecordQualityGateMeeting(successful=True)))
    assert waiting_for(gate)[0].startswith("DCC: issue the Test Completion Certificate by ")


def test_assurance_and_credit_items() -> None:
    s = given(started(UserRole.OTHER_USER))
    booked = c.BookSecurityAssessment(assessment_on=START + timedelta(weeks=11), effective_on=START)
    s = given(s, when(s, booked))
    s = given(s, when(s, c.NotifyCreditCoverRequirement(requirement=50_000, threshold=2000)))
    items = waiting_for(s)
    assert (
        "User CIO: carry out the security assessment (full, booked at less than twelve weeks' "
        "notice) by 2025-08-18"
    ) in items
    assert "Party: book the privacy assessment (12 weeks' notice)" in items
    assert "Party: lodge Credit Support of GBP 50000" in items
    lodged = given(
        s, when(s, c.LodgeCreditSupport(items=[{"form": "cash_deposit", "amount": 50_000}]))
    )
    assert "DCC: assess the lodged Credit Support" in waiting_for(lodged)
    deferred = assessed("security")
    assert "SEC Panel: set the security assurance status" in waiting_for(deferred)
    deferred = given(deferred, when(deferred, c.SetSecurityStatus(status="deferred")))
    assert "Party: book a follow-up security assessment (status deferred)" in waiting_for(deferred)
    disputed = given(deferred, when(deferred, c.RaiseDispute(subject="security", reason="x")))
    assert waiting_for(disputed)[-1] == "SEC Panel: determine dispute D1 (security)"
    referred = given(
        disputed,
        ev.PanelDeterminationMade(effective_on=START, dispute_id="D1", upheld=False),
        ev.DisputeReferredToOfgem(effective_on=START, dispute_id="D1"),
    )
    assert waiting_for(referred)[-1] == "Ofgem: determine dispute D1 (security)"


def test_party_backed_items_name_the_record_and_who_must_act() -> None:
    s = given(started(revision=3))
    assert waiting_for(s)[-2:] == [
        "SECAS: open the Party record of acme (security is held there)",
        "SECAS: open the Party record of acme (credit is held there)",
    ]
    terms = PartyTerms(
        record="uep-party-acme",
        version=3,
        credit=CreditPosition(met=False, reason="no requirement notified", who="DCC"),
        security=SecurityPosition(met=False, reason="no assessment", who="somebody"),
        recorded_on=START,
    )
    s = s.model_copy(update={"from_party": terms})
    assert waiting_for(s)[-2:] == [
        "Party: Party record uep-party-acme: no assessment",
        "DCC: Party record uep-party-acme: no requirement notified",
    ]
    met = terms.model_copy(update={"credit": CreditPosition(met=True, reason="ok")})
    items = waiting_for(s.model_copy(update={"from_party": met}))
    assert "Party: Party record uep-party-acme: no assessment" in items
    assert not any("no requirement notified" in i for i in items)
