"""The case decider: given events, when a command, then events or a domain error."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain import commands as c
from domain import events as ev
from domain.assurance import AssuranceStatus, RulesVersion
from domain.calendar_data import build_calendar
from domain.credit import CreditSupportItem
from domain.decider import (
    decide,
    missed_deadlines,
    next_dcc_due,
    start_case,
    user_id_claims,
    watchable_steps,
)
from domain.errors import DomainError, IneligibleError, InvalidInputError, OutOfStageError
from domain.progress import Stage, outstanding, stage
from domain.roles import PartyProfile, UserRole
from domain.state import CaseState, fold

CAL = build_calendar("england-and-wales", 2019, 2032)
START = date(2025, 6, 2)
TODAY = date(2026, 11, 23)
UID = "90b3d51f30010000"
ALL_CRITERIA = list(ev.ENTRY_CRITERIA)


def party(**extra: Any) -> PartyProfile:
    base: dict[str, Any] = {
        "party_id": "acme",
        "party_name": "Acme Energy",
        "category": "small_supplier",
        "licences": ["gas_supply", "electricity_supply"],
    }
    return PartyProfile.model_validate({**base, **extra})


def started(
    role: UserRole = UserRole.GAS_SUPPLIER,
    rules: RulesVersion | None = None,
    revision: int = 2,
    **p: Any,
) -> list[ev.Event]:
    """A case opened on START; revision 2 (case-level credit and security) unless given:
    revision 3's Party-backed rules are in tests/unit/test_party_record.py."""
    cmd = c.StartCase(party=party(**p), role=role, started_on=START, rules_version=rules)
    return start_case(cmd, f"uep-acme-{role}", TODAY, revision)


def given(*events: ev.Event | list[ev.Event] | CaseState) -> CaseState:
    state: CaseState | None = None
    for e in events:
        if isinstance(e, CaseState):
            state = e
            continue
        state = fold(e if isinstance(e, list) else [e], state)
    assert state is not None
    return state


def when(state: CaseState, command: c.Command, today: date = TODAY) -> list[ev.Event]:
    return decide(state, command, today, CAL)


def then_types(events: list[ev.Event]) -> list[str]:
    return [e.type for e in events]


def accepted_id() -> list[ev.Event]:
    return [
        ev.UserIdProposed(effective_on=START, user_id=UID),
        ev.UserIdAccepted(effective_on=START, user_id=UID),
    ]


def with_id_accepted(role: UserRole = UserRole.GAS_SUPPLIER, **p: Any) -> CaseState:
    return given(started(role, **p), *accepted_id())


def in_testing() -> CaseState:
    earliest = CAL.add_working_days(START, 60)
    return given(
        started(),
        ev.UserIdProposed(effective_on=START, user_id=UID),
        ev.UserIdAccepted(effective_on=START, user_id=UID),
        ev.UeptNoticeGiven(
            effective_on=START, planned_start_on=earliest, earliest_start_on=earliest
        ),
        ev.UeptEntryCriteriaConfirmed(effective_on=START, criteria=ALL_CRITERIA),
        ev.UeptStarted(effective_on=earliest, cycle=1),
    )


# -- starting -------------------------------------------------------------------------------


def test_start_records_rules_version_and_mandate() -> None:
    [e] = started(UserRole.GAS_SUPPLIER)
    assert isinstance(e, ev.CaseStarted)
    assert date(2020, 11, 29) <= START  # so the version in force is MP112
    assert (e.rules_version, e.revision) == (RulesVersion.MP112, 2)
    assert e.mandate_due_on == date(2017, 11, 25)
    assert e.effective_on == START


def test_a_case_started_before_mp112_runs_under_the_2018_guidance() -> None:
    cmd = c.StartCase(party=party(), role=UserRole.GAS_SUPPLIER, started_on=date(2019, 3, 4))
    [e] = start_case(cmd, "uep-acme-gas_supplier", TODAY)
    assert isinstance(e, ev.CaseStarted)
    assert e.rules_version == RulesVersion.GUIDANCE_2018


def test_an_explicit_rules_version_is_recorded() -> None:
    cmd = c.StartCase(
        party=party(), role=UserRole.GAS_SUPPLIER, started_on=START, rules_version="guidance-2018"
    )
    [e] = start_case(cmd, "uep-acme-gas_supplier", TODAY)
    assert isinstance(e, ev.CaseStarted)
    assert e.rules_version == RulesVersion.GUIDANCE_2018


def test_start_refuses_ineligible_party_naming_the_licence() -> None:
    with pytest.raises(IneligibleError, match="gas supply"):
        started(UserRole.GAS_SUPPLIER, licences=["electricity_supply"])


def test_start_refuses_future_date() -> None:
    cmd = c.StartCase(
        party=party(), role=UserRole.GAS_SUPPLIER, started_on=TODAY + timedelta(days=1)
    )
    with pytest.raises(InvalidInputError, match="future"):
        start_case(cmd, "uep-acme-gas_supplier", TODAY)


# -- (a) User ID ----------------------------------------------------------------------------


def test_user_id_proposed_then_accepted() -> None:
    s = given(started())
    assert then_types(when(s, c.ProposeUserId(user_id="90-B3-D5-1F-30-01-00-00"))) == [
        "UserIdProposed"
    ]
    s = given(started(), ev.UserIdProposed(effective_on=START, user_id=UID))
    [e] = when(s, c.AcceptUserId(user_id="90 b3 d5 1f 30 01 00 00"))
    assert isinstance(e, ev.UserIdAccepted) and e.user_id == UID


def test_accepting_a_different_id_is_refused() -> None:
    s = given(started(), ev.UserIdProposed(effective_on=START, user_id=UID))
    with pytest.raises(InvalidInputError, match="not the proposed"):
        when(s, c.AcceptUserId(user_id="90b3d51f30010001"))


def test_second_proposal_waits_for_dcc() -> None:
    s = given(started(), ev.UserIdProposed(effective_on=START, user_id=UID))
    with pytest.raises(OutOfStageError) as info:
        when(s, c.ProposeUserId(user_id="90b3d51f30010001"))
    assert any("DCC: accept or reject" in w for w in info.value.waiting_for)


def test_rejected_id_may_not_be_proposed_again_but_another_may() -> None:
    s = given(
        started(),
        ev.UserIdProposed(effective_on=START, user_id=UID),
        ev.UserIdRejected(effective_on=START, user_id=UID, reason="format"),
    )
    with pytest.raises(InvalidInputError, match="rejected"):
        when(s, c.ProposeUserId(user_id=UID))
    assert then_types(when(s, c.ProposeUserId(user_id="90b3d51f30010001"))) == ["UserIdProposed"]


def test_claims_follow_proposal_rejection_and_withdrawal() -> None:
    s = given(started())
    assert user_id_claims(s, [ev.UserIdProposed(effective_on=START, user_id=UID)]) == [
        ("claim", UID)
    ]
    s = with_id_accepted()
    assert user_id_claims(s, [ev.CaseWithdrawn(effective_on=START, reason="x")]) == [
        ("release", UID)
    ]


def test_malformed_user_id_is_a_validation_error() -> None:
    with pytest.raises(ValueError, match="octet"):
        c.ProposeUserId(user_id="90-B3-D5-1F-30-01-00")


# -- (b) UEPT -------------------------------------------------------------------------------


def test_notice_needs_60_working_days() -> None:
    s = with_id_accepted()
    earliest = CAL.add_working_days(START, 60)
    with pytest.raises(InvalidInputError, match=earliest.isoformat()):
        when(s, c.GiveUeptNotice(planned_start_on=earliest - timedelta(days=1), effective_on=START))
    [e] = when(s, c.GiveUeptNotice(planned_start_on=earliest, effective_on=START))
    assert isinstance(e, ev.UeptNoticeGiven) and e.earliest_start_on == earliest


def test_uept_cannot_start_before_notice_period_or_without_criteria() -> None:
    earliest = CAL.add_working_days(START, 60)
    notice = ev.UeptNoticeGiven(
        effective_on=START, planned_start_on=earliest, earliest_start_on=earliest
    )
    s = given(started(), *accepted_id(), notice)
    with pytest.raises(InvalidInputError, match="may not start before"):
        when(s, c.StartUept(effective_on=earliest - timedelta(days=1)))
    with pytest.raises(OutOfStageError, match="entry criteria"):
        when(s, c.StartUept(effective_on=earliest))
    s = given(s, ev.UeptEntryCriteriaConfirmed(effective_on=START, criteria=ALL_CRITERIA))
    assert then_types(when(s, c.StartUept(effective_on=earliest))) == ["UeptStarted"]


def test_dcc_steps_have_2_5_2_working_day_deadlines_over_christmas() -> None:
    s = in_testing()
    [sub] = when(s, c.SubmitTestCompletionReport(effective_on=date(2025, 12, 23)), TODAY)
    assert isinstance(sub, ev.TestCompletionReportSubmitted)
    assert sub.receipt_due_on == date(2025, 12, 29)  # 24 Dec, then 25, 26 holidays, 27-28 weekend
    s = given(s, sub)
    out = when(s, c.ConfirmReportReceipt(effective_on=date(2025, 12, 24)))
    [rec] = out
    assert isinstance(rec, ev.TestCompletionReportReceiptConfirmed)
    # the review counts from the DCC's receipt of the report on 23 Dec, not from its
    # confirmation: 24, 29, 30, 31 Dec, 2 Jan (25, 26 Dec and 1 Jan holidays)
    assert rec.review_due_on == date(2026, 1, 2)


def test_cases_before_revision_2_count_the_review_from_the_confirmation() -> None:
    s = in_testing().model_copy(update={"revision": 1})
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=date(2025, 12, 23)), TODAY))
    [rec] = when(s, c.ConfirmReportReceipt(effective_on=date(2025, 12, 24)))
    assert isinstance(rec, ev.TestCompletionReportReceiptConfirmed)
    assert rec.review_due_on == date(2026, 1, 5)  # 29, 30, 31 Dec, 2 Jan, 5 Jan


def test_late_dcc_receipt_records_missed_deadline_first() -> None:
    s = in_testing()
    sub = when(s, c.SubmitTestCompletionReport(effective_on=date(2026, 4, 16)))[0]
    s = given(s, sub)
    out = when(s, c.ConfirmReportReceipt(effective_on=date(2026, 4, 30)))
    assert then_types(out) == ["DccDeadlineMissed", "TestCompletionReportReceiptConfirmed"]
    missed = out[0]
    assert isinstance(missed, ev.DccDeadlineMissed)
    assert missed.step == "report_receipt"
    # Thu 16 Apr 2026 + 2 WD = Mon 20 Apr 2026 (Easter Monday is 6 Apr 2026, not in the way)
    assert missed.due_on == date(2026, 4, 20)


def test_timer_check_finds_missed_steps_only_once() -> None:
    s = in_testing()
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=date(2026, 4, 16))))
    watched = watchable_steps(s, date(2026, 4, 16))
    assert watched == {"report_receipt:1"}
    out = missed_deadlines(s, date(2026, 4, 21), watched)
    assert then_types(out) == ["DccDeadlineMissed"]
    assert missed_deadlines(given(s, out), date(2026, 4, 22), watched) == []
    assert missed_deadlines(s, date(2026, 4, 20), watched) == []
    # entered after its due date had passed: not the timer's to judge
    assert watchable_steps(s, date(2026, 4, 21)) == set()
    assert missed_deadlines(s, date(2026, 4, 21), set()) == []


def test_further_testing_loops_back_to_testing() -> None:
    s = in_testing()
    on = date(2026, 5, 4)
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=on)))
    s = given(s, when(s, c.ConfirmReportReceipt(effective_on=on)))
    s = given(s, when(s, c.ConcludeUeptReview(outcome="further_testing_required", effective_on=on)))
    assert s.uept.phase == "testing" and s.uept.cycle == 2
    assert stage(s) == Stage.UEPT_TESTING
    with pytest.raises(OutOfStageError):
        when(s, c.RecordQualityGateMeeting(successful=True, effective_on=on))
    sub = when(s, c.SubmitTestCompletionReport(effective_on=on))[0]
    assert isinstance(sub, ev.TestCompletionReportSubmitted) and sub.cycle == 2


def test_certificate_completes_uept() -> None:
    s = in_testing()
    on = date(2026, 5, 4)
    for cmd in [
        c.SubmitTestCompletionReport(effective_on=on),
        c.ConfirmReportReceipt(effective_on=on),
        c.ConcludeUeptReview(outcome="concluded", effective_on=on),
        c.RecordQualityGateMeeting(successful=True, effective_on=on),
        c.IssueTestCompletionCertificate(certificate_ref="TCC-9", effective_on=on),
    ]:
        s = given(s, when(s, cmd))
    assert s.requirement_met("uept")
    assert [x.done_on for x in s.uept.dcc_steps] == [on, on, on]


# -- (c), (d) assurance ---------------------------------------------------------------------


def assessed(
    area: str, role: UserRole = UserRole.GAS_SUPPLIER, rules: RulesVersion | None = None
) -> CaseState:
    s = given(started(role, rules))
    on = START + timedelta(weeks=12)
    book = c.BookSecurityAssessment if area == "security" else c.BookPrivacyAssessment
    done = c.CompleteSecurityAssessment if area == "security" else c.CompletePrivacyAssessment
    s = given(s, when(s, book(assessment_on=on, effective_on=START)))
    return given(s, when(s, done(effective_on=on)))


def test_twelve_weeks_notice_refuses_only_the_initial_full_privacy_assessment() -> None:
    """Guidance s.7 asks it for the privacy assessment; for security it is SECAS practice."""
    s = given(started())
    short = START + timedelta(weeks=11)
    [booked] = when(s, c.BookSecurityAssessment(assessment_on=short, effective_on=START))
    assert isinstance(booked, ev.AssessmentBooked) and booked.short_notice
    s = given(s, booked)
    assert any("less than twelve weeks" in i.what for i in outstanding(s))
    other = given(started(UserRole.OTHER_USER))
    with pytest.raises(InvalidInputError, match="12 weeks' notice"):
        when(other, c.BookPrivacyAssessment(assessment_on=short, effective_on=START))
    legacy = given(started()).model_copy(update={"revision": 1})
    with pytest.raises(InvalidInputError, match="12 weeks"):
        when(legacy, c.BookSecurityAssessment(assessment_on=short, effective_on=START))


def test_a_uept_notice_given_on_a_non_working_day_counts_from_the_next() -> None:
    s = with_id_accepted()
    # Sat 7 Mar 2026: counted from Mon 9 Mar; 60 WD later is Fri 5 Jun 2026 (Good Friday
    # 3 Apr, Easter Monday 6 Apr, 4 May and 25 May bank holidays skipped); counted from the
    # Saturday itself it would be Thu 4 Jun (checked by hand with those four days)
    [notice] = when(
        s, c.GiveUeptNotice(effective_on=date(2026, 3, 7), planned_start_on=date(2026, 6, 30))
    )
    assert isinstance(notice, ev.UeptNoticeGiven)
    assert notice.earliest_start_on == date(2026, 6, 5)
    legacy = s.model_copy(update={"revision": 1})
    [old] = when(
        legacy, c.GiveUeptNotice(effective_on=date(2026, 3, 7), planned_start_on=date(2026, 6, 30))
    )
    assert isinstance(old, ev.UeptNoticeGiven) and old.earliest_start_on == date(2026, 6, 4)


def test_a_calendar_correction_moves_the_uept_earliest_start() -> None:
    s = with_id_accepted()
    s = given(
        s,
        when(
            s, c.GiveUeptNotice(effective_on=date(2026, 3, 9), planned_start_on=date(2026, 6, 30))
        ),
    )
    assert s.uept.earliest_start_on == date(2026, 6, 5)
    out = when(s, c.CorrectCalendar(add_holidays=[date(2026, 5, 15)]))
    s = given(s, out)
    assert s.uept.earliest_start_on == date(2026, 6, 8)  # a new day off: one Working Day later


def test_facts_before_the_case_started_keep_their_true_date() -> None:
    s = given(started(acceded_on=date(2024, 1, 15)))
    [srept] = when(s, c.RecordSreptCompleted(effective_on=date(2024, 9, 2)))
    assert srept.effective_on == date(2024, 9, 2) and srept.reported_after_the_fact
    proposed = when(s, c.ProposeUserId(user_id=UID, effective_on=date(2024, 10, 1)))
    s = given(s, proposed)
    [accepted] = when(s, c.AcceptUserId(user_id=UID, effective_on=date(2024, 10, 3)))
    assert accepted.reported_after_the_fact
    with pytest.raises(InvalidInputError, match="before the Party acceded on 2024-01-15"):
        when(s, c.RecordSreptCompleted(effective_on=date(2023, 12, 1)))
    with pytest.raises(InvalidInputError, match="before the case started"):
        when(s, c.GiveUeptNotice(effective_on=date(2024, 10, 3), planned_start_on=START))


def test_security_deferred_then_follow_up_approved() -> None:
    s = assessed("security")
    on = START + timedelta(weeks=13)
    s = given(s, when(s, c.SetSecurityStatus(status=AssuranceStatus.DEFERRED, effective_on=on)))
    assert not s.requirement_met("security")
    with pytest.raises(InvalidInputError, match="follow_up"):
        when(s, c.BookSecurityAssessment(assessment_on=on + timedelta(weeks=12), effective_on=on))
    s = given(
        s,
        when(
            s,
            c.BookSecurityAssessment(
                kind="follow_up", assessment_on=on + timedelta(weeks=12), effective_on=on
            ),
        ),
    )
    s = given(s, when(s, c.CompleteSecurityAssessment(effective_on=on + timedelta(weeks=12))))
    s = given(
        s,
        when(
            s,
            c.SetSecurityStatus(
                status=AssuranceStatus.APPROVED, effective_on=on + timedelta(weeks=13)
            ),
        ),
    )
    assert s.requirement_met("security") and s.security.assessments_done == 2


def test_privacy_is_for_other_user_only() -> None:
    s = given(started())
    with pytest.raises(InvalidInputError, match="Other User"):
        when(
            s,
            c.BookPrivacyAssessment(assessment_on=START + timedelta(weeks=12), effective_on=START),
        )


def test_privacy_rejected_under_mp112_blocks_completion() -> None:
    s = assessed("privacy", UserRole.OTHER_USER, RulesVersion.MP112)
    [e] = when(
        s,
        c.SetPrivacyStatus(
            status=AssuranceStatus.REJECTED, effective_on=START + timedelta(weeks=12)
        ),
    )
    assert isinstance(e, ev.AssuranceStatusSet) and not e.allows_completion
    s = given(s, e)
    assert not s.requirement_met("privacy")


def test_rejected_privacy_status_unknown_under_2018_rules() -> None:
    s = assessed("privacy", UserRole.OTHER_USER, RulesVersion.GUIDANCE_2018)
    with pytest.raises(InvalidInputError):
        when(s, c.SetPrivacyStatus(status=AssuranceStatus.REJECTED))


# -- (e) credit -----------------------------------------------------------------------------


def test_credit_under_threshold_needs_no_support() -> None:
    s = given(started())
    out = when(
        s, c.NotifyCreditCoverRequirement(requirement=Decimal("1500"), threshold=Decimal("2300"))
    )
    assert then_types(out) == ["CreditCoverRequirementNotified", "CreditSupportNotRequired"]
    assert given(s, out).requirement_met("credit")


def test_credit_requirement_from_its_parts() -> None:
    s = given(started())
    cmd = c.NotifyCreditCoverRequirement(
        value_at_risk=Decimal("50000"),
        maximum_credit_value=Decimal("40000"),
        unsecured_credit_factor=Decimal("0.5"),
        threshold=Decimal("2300"),
    )
    e = when(s, cmd)[0]
    assert isinstance(e, ev.CreditCoverRequirementNotified)
    assert e.requirement == Decimal("30000") and e.support_required


def test_bank_guarantee_with_20_days_to_expiry_is_refused() -> None:
    s = given(started())
    s = given(
        s,
        when(
            s,
            c.NotifyCreditCoverRequirement(requirement=Decimal("30000"), threshold=Decimal("2300")),
        ),
    )
    bg = CreditSupportItem(
        form="bank_guarantee", amount=Decimal("30000"), expires_on=TODAY + timedelta(days=20)
    )
    s = given(s, when(s, c.LodgeCreditSupport(items=[bg])))
    [e] = when(s, c.AssessCreditSupport())
    assert isinstance(e, ev.CreditSupportAssessed)
    assert not e.accepted and any("month" in r for r in e.reasons)
    assert not given(s, e).requirement_met("credit")


# -- evidence, completion, disputes, withdrawal ---------------------------------------------


def test_evidence_only_for_met_requirements() -> None:
    s = with_id_accepted()
    with pytest.raises(OutOfStageError, match="not met"):
        when(s, c.VerifyEvidence(requirement="uept"))
    assert then_types(when(s, c.VerifyEvidence(requirement="user_id"))) == ["EvidenceVerified"]
    with pytest.raises(InvalidInputError, match="privacy"):
        when(s, c.VerifyEvidence(requirement="privacy"))


def deferred(area: str = "security") -> CaseState:
    """A case whose security (or privacy) status the Panel set to Deferred."""
    role = UserRole.GAS_SUPPLIER if area == "security" else UserRole.OTHER_USER
    s = assessed(area, role)
    status = c.SetSecurityStatus if area == "security" else c.SetPrivacyStatus
    return given(s, when(s, status(status=AssuranceStatus.DEFERRED)))


def test_dispute_pauses_its_step_until_panel_then_ofgem_whose_outcome_takes_effect() -> None:
    s = deferred()
    s = given(s, when(s, c.RaiseDispute(subject="security", reason="scope")))
    booking = c.BookSecurityAssessment(kind="follow_up", assessment_on=START + timedelta(weeks=30))
    with pytest.raises(OutOfStageError, match="paused by dispute D1"):
        when(s, booking)
    s = given(s, when(s, c.RecordPanelDetermination(dispute_id="D1", upheld=False)))
    assert not s.requirement_met("security")
    s = given(s, when(s, c.ReferDisputeToOfgem(dispute_id="D1")))
    with pytest.raises(OutOfStageError, match="Ofgem"):
        when(s, booking)
    out = when(s, c.RecordOfgemDetermination(dispute_id="D1", upheld=True, outcome="approved"))
    assert then_types(out) == ["OfgemDeterminationMade", "AssuranceStatusSet"]
    s = given(s, out)
    assert s.disputes[0].phase == "ofgem_determined"
    assert s.security.status == AssuranceStatus.APPROVED
    assert s.requirement_met("security")
    assert "determined by Ofgem on dispute D1" in s.security.conditions


def test_a_dispute_needs_a_recorded_adverse_outcome() -> None:
    s = assessed("security")
    with pytest.raises(OutOfStageError, match="recorded adverse outcome of security"):
        when(s, c.RaiseDispute(subject="security", reason="scope"))
    with pytest.raises(OutOfStageError, match="recorded adverse outcome of uept"):
        when(in_testing(), c.RaiseDispute(subject="uept", reason="results"))
    with pytest.raises(OutOfStageError, match="recorded adverse outcome of credit"):
        when(with_id_accepted(), c.RaiseDispute(subject="credit", reason="too much"))
    legacy = s.model_copy(update={"revision": 1})
    assert then_types(when(legacy, c.RaiseDispute(subject="security", reason="x"))) == [
        "DisputeRaised"
    ]


def test_an_upheld_uept_dispute_concludes_the_disputed_cycle() -> None:
    s = in_testing()
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=date(2026, 3, 2))))
    s = given(s, when(s, c.ConfirmReportReceipt(effective_on=date(2026, 3, 3))))
    s = given(
        s,
        when(
            s,
            c.ConcludeUeptReview(effective_on=date(2026, 3, 5), outcome="further_testing_required"),
        ),
    )
    assert (s.uept.phase, s.uept.cycle) == ("testing", 2)
    assert "further testing" in s.uept.adverse
    s = given(s, when(s, c.RaiseDispute(subject="uept", reason="the tests passed")))
    out = when(
        s, c.RecordPanelDetermination(dispute_id="D1", upheld=True, outcome="uept_concluded")
    )
    assert then_types(out) == ["PanelDeterminationMade", "UeptConcludedByDetermination"]
    s = given(s, out)
    assert (s.uept.phase, s.uept.cycle, s.uept.adverse) == ("review_concluded", 1, "")
    meeting = when(s, c.RecordQualityGateMeeting(successful=True))
    assert then_types(meeting) == ["QualityGateMeetingHeld"]


def test_a_credit_dispute_can_find_the_support_sufficient() -> None:
    s = with_id_accepted()
    s = given(
        s, when(s, c.NotifyCreditCoverRequirement(requirement=Decimal(50_000), threshold=2000))
    )
    s = given(s, when(s, c.RaiseDispute(subject="credit", reason="the requirement is wrong")))
    with pytest.raises(InvalidInputError, match="outcome: approved is not an outcome of a credit"):
        when(s, c.RecordPanelDetermination(dispute_id="D1", upheld=True, outcome="approved"))
    out = when(
        s,
        c.RecordPanelDetermination(
            dispute_id="D1", upheld=True, outcome="credit_support_sufficient"
        ),
    )
    s = given(s, out)
    assert s.requirement_met("credit")


def test_the_dcc_clock_stops_during_a_uept_dispute_and_the_pause_extends_its_deadline() -> None:
    """Revision 2 cannot reach an open DCC step during a UEPT dispute; the guard holds all the
    same: no miss is recorded while the clock is stopped, and the deadline moves on."""
    s = given(
        in_testing(),
        ev.TestCompletionReportSubmitted(
            effective_on=date(2026, 3, 2), cycle=1, receipt_due_on=date(2026, 3, 4)
        ),
        ev.DisputeRaised(
            effective_on=date(2026, 3, 3), dispute_id="D1", subject="uept", reason="x"
        ),
    )
    watched = watchable_steps(s, date(2026, 3, 2))
    assert missed_deadlines(s, date(2026, 3, 20), watched) == []
    assert next_dcc_due(s, watched) is None
    with pytest.raises(OutOfStageError, match="paused by dispute D1"):
        when(s, c.ConfirmReportReceipt(effective_on=date(2026, 3, 4)))
    out = when(
        s, c.RecordPanelDetermination(dispute_id="D1", upheld=False, effective_on=date(2026, 3, 10))
    )
    [_, extended] = out
    assert isinstance(extended, ev.DccDeadlinesExtended)
    # paused Tue 3 Mar to Tue 10 Mar: 5 Working Days; due Wed 4 Mar + 5 WD = Wed 11 Mar
    assert extended.paused_working_days == 5
    assert extended.recomputed == {"report_receipt:1": date(2026, 3, 11)}
    s = given(s, out)
    assert next_dcc_due(s, watched) == date(2026, 3, 11)
    receipt = when(s, c.ConfirmReportReceipt(effective_on=date(2026, 3, 11)))
    assert then_types(receipt) == ["TestCompletionReportReceiptConfirmed"]  # met, not missed


def test_unknown_dispute_is_named() -> None:
    s = given(started())
    with pytest.raises(InvalidInputError, match="no dispute 'D7'"):
        when(s, c.RecordPanelDetermination(dispute_id="D7", upheld=True))


def test_withdrawn_case_accepts_nothing_more() -> None:
    s = given(started(), ev.CaseWithdrawn(effective_on=START, reason="left the market"))
    with pytest.raises(OutOfStageError, match="withdrawn"):
        when(s, c.ProposeUserId(user_id=UID))


def test_future_effective_date_is_refused() -> None:
    s = given(started())
    with pytest.raises(DomainError, match="future"):
        when(s, c.ProposeUserId(user_id=UID, effective_on=TODAY + timedelta(days=3)))


def test_calendar_correction_recomputes_open_deadline() -> None:
    s = in_testing()
    on = date(2026, 5, 11)
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=on)))
    assert s.uept.dcc_steps[0].due_on == date(2026, 5, 13)
    [e] = when(s, c.CorrectCalendar(add_holidays=[date(2026, 5, 12)]))
    assert isinstance(e, ev.CalendarCorrected)
    assert e.recomputed == {"report_receipt:1": date(2026, 5, 14)}
    assert given(s, e).uept.dcc_steps[0].due_on == date(2026, 5, 14)


def test_credit_raised_after_verification_needs_new_evidence_before_completion() -> None:
    s = given(started())
    s = given(
        s,
        when(
            s, c.NotifyCreditCoverRequirement(requirement=Decimal("100"), threshold=Decimal("2400"))
        ),
    )
    s = given(s, when(s, c.VerifyEvidence(requirement="credit")))
    assert "credit" in s.verified
    # the DCC's monthly review raises the requirement over the threshold
    s = given(
        s,
        when(
            s,
            c.NotifyCreditCoverRequirement(requirement=Decimal("30000"), threshold=Decimal("2400")),
        ),
    )
    assert "credit" not in s.verified and not s.requirement_met("credit")
    with pytest.raises(OutOfStageError, match="not met"):
        when(s, c.VerifyEvidence(requirement="credit"))
