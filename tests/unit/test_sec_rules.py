"""SEC rules that one-line mutants of the domain used to survive: a case completing on security
"Approved, subject to", what a dispute pauses (and what it does not), and the decider's own
Credit Cover Threshold from CPI when the DCC gives none.

Literal dates and amounts throughout; nothing depends on the day the tests run.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain import commands as c
from domain import events as ev
from domain.assurance import AssuranceStatus, RulesVersion
from domain.decider import start_case
from domain.errors import DomainError, OutOfStageError
from domain.roles import UserRole
from domain.state import CaseState
from tests.unit.test_decider import (
    START,
    TODAY,
    assessed,
    given,
    in_testing,
    party,
    then_types,
    when,
    with_id_accepted,
)

A = AssuranceStatus
UEPT_DONE_ON = date(2026, 5, 4)
SECURITY_ON = START + timedelta(weeks=12)


def uept_done(state: CaseState) -> CaseState:
    """UEPT through its certificate, every DCC step answered on 4 May 2026."""
    on = UEPT_DONE_ON
    for cmd in [
        c.SubmitTestCompletionReport(effective_on=on),
        c.ConfirmReportReceipt(effective_on=on),
        c.ConcludeUeptReview(outcome="concluded", effective_on=on),
        c.RecordQualityGateMeeting(successful=True, effective_on=on),
        c.IssueTestCompletionCertificate(certificate_ref="TCC-1", effective_on=on),
    ]:
        state = given(state, when(state, cmd))
    return state


def ready_but_security(rules: RulesVersion | None = None) -> CaseState:
    """A Gas Supplier case with everything met and verified but security, whose assessment is
    done and awaits the Panel's status."""
    s = in_testing() if rules is None else _in_testing_under(rules)
    s = uept_done(s)
    book = c.BookSecurityAssessment(assessment_on=SECURITY_ON, effective_on=START)
    s = given(s, when(s, book))
    s = given(s, when(s, c.CompleteSecurityAssessment(effective_on=SECURITY_ON)))
    s = given(
        s,
        when(s, c.NotifyCreditCoverRequirement(requirement=Decimal(0), threshold=Decimal(2000))),
    )
    for requirement in ("user_id", "uept", "credit"):
        s = given(s, when(s, c.VerifyEvidence(requirement=requirement)))
    return s


def _in_testing_under(rules: RulesVersion) -> CaseState:
    base = in_testing()
    return base.model_copy(update={"rules_version": rules})


@pytest.mark.parametrize("rules", [RulesVersion.GUIDANCE_2018, RulesVersion.MP112])
@pytest.mark.parametrize("status", [A.APPROVED, A.APPROVED_SUBJECT_TO])
def test_security_approved_or_approved_subject_to_completes_the_case(
    status: AssuranceStatus, rules: RulesVersion
) -> None:
    s = ready_but_security(rules)
    [set_] = when(s, c.SetSecurityStatus(status=status, conditions="fix the firewall"))
    assert isinstance(set_, ev.AssuranceStatusSet) and set_.allows_completion
    s = given(s, set_)
    assert s.requirement_met("security")
    out = when(s, c.VerifyEvidence(requirement="security"))
    assert then_types(out) == ["EvidenceVerified", "UserEntryProcessCompleted"]
    s = given(s, out)
    assert s.status == "completed"


@pytest.mark.parametrize("status", [A.DEFERRED, A.REJECTED])
def test_security_deferred_or_rejected_does_not_complete_the_case(status: AssuranceStatus) -> None:
    s = ready_but_security()
    [set_] = when(s, c.SetSecurityStatus(status=status))
    assert isinstance(set_, ev.AssuranceStatusSet) and not set_.allows_completion
    s = given(s, set_)
    assert not s.requirement_met("security")
    with pytest.raises(OutOfStageError, match="security requirement is not met"):
        when(s, c.VerifyEvidence(requirement="security"))


def test_the_last_evidence_completes_only_when_all_others_are_verified() -> None:
    s = ready_but_security()
    s = given(s, when(s, c.SetSecurityStatus(status=A.APPROVED_SUBJECT_TO)))
    unverified = s.model_copy(
        update={"verified": {k: v for k, v in s.verified.items() if k != "uept"}}
    )
    assert then_types(when(unverified, c.VerifyEvidence(requirement="security"))) == [
        "EvidenceVerified"
    ]


def test_a_dispute_determined_approved_subject_to_completes_security() -> None:
    s = ready_but_security()
    s = given(s, when(s, c.SetSecurityStatus(status=A.DEFERRED)))
    s = given(s, when(s, c.RaiseDispute(subject="security", reason="the scope was wrong")))
    out = when(
        s, c.RecordPanelDetermination(dispute_id="D1", upheld=True, outcome="approved_subject_to")
    )
    assert then_types(out) == ["PanelDeterminationMade", "AssuranceStatusSet"]
    s = given(s, out)
    assert s.security.status == A.APPROVED_SUBJECT_TO and s.requirement_met("security")
    out = when(s, c.VerifyEvidence(requirement="security"))
    assert then_types(out) == ["EvidenceVerified", "UserEntryProcessCompleted"]


# -- what a dispute pauses (H1.13) ------------------------------------------------------------

UEPT_COMMANDS: list[c.Command] = [
    c.GiveUeptNotice(planned_start_on=date(2026, 12, 1)),
    c.ConfirmEntryCriteria(criteria=["accession_confirmed"]),
    c.StartUept(),
    c.SubmitTestCompletionReport(),
    c.ConfirmReportReceipt(),
    c.ConcludeUeptReview(outcome="concluded"),
    c.RecordQualityGateMeeting(successful=True),
    c.IssueTestCompletionCertificate(certificate_ref="TCC-1"),
    c.VerifyEvidence(requirement="uept"),
]
CREDIT_COMMANDS: list[c.Command] = [
    c.NotifyCreditCoverRequirement(requirement=Decimal(100), threshold=Decimal(2000)),
    c.LodgeCreditSupport(items=[{"form": "cash_deposit", "amount": Decimal(50_000)}]),
    c.AssessCreditSupport(),
    c.VerifyEvidence(requirement="credit"),
]
SECURITY_COMMANDS: list[c.Command] = [
    c.BookSecurityAssessment(kind="follow_up", assessment_on=date(2026, 12, 1)),
    c.CompleteSecurityAssessment(),
    c.SetSecurityStatus(status=A.APPROVED),
    c.VerifyEvidence(requirement="security"),
]
PRIVACY_COMMANDS: list[c.Command] = [
    c.BookPrivacyAssessment(kind="follow_up", assessment_on=date(2026, 12, 1)),
    c.CompletePrivacyAssessment(),
    c.SetPrivacyStatus(status=A.APPROVED),
    c.VerifyEvidence(requirement="privacy"),
]


def uept_disputed() -> CaseState:
    s = in_testing()
    on = date(2026, 3, 2)
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=on)))
    s = given(s, when(s, c.ConfirmReportReceipt(effective_on=on)))
    s = given(s, when(s, c.ConcludeUeptReview(outcome="further_testing_required", effective_on=on)))
    return given(s, when(s, c.RaiseDispute(subject="uept", reason="the tests passed")))


def credit_disputed() -> CaseState:
    s = with_id_accepted()
    notified = c.NotifyCreditCoverRequirement(requirement=Decimal(50_000), threshold=2000)
    s = given(s, when(s, notified))
    return given(s, when(s, c.RaiseDispute(subject="credit", reason="too much")))


def assurance_disputed(area: str) -> CaseState:
    role = UserRole.GAS_SUPPLIER if area == "security" else UserRole.OTHER_USER
    s = assessed(area, role)
    status = c.SetSecurityStatus if area == "security" else c.SetPrivacyStatus
    s = given(s, when(s, status(status=A.DEFERRED)))
    return given(s, when(s, c.RaiseDispute(subject=area, reason="scope")))


DISPUTED = {
    "uept": (uept_disputed, UEPT_COMMANDS),
    "credit": (credit_disputed, CREDIT_COMMANDS),
    "security": (lambda: assurance_disputed("security"), SECURITY_COMMANDS),
    "privacy": (lambda: assurance_disputed("privacy"), PRIVACY_COMMANDS),
}
PAUSED = [
    pytest.param(area, i, id=f"{area}-{type(cmd).__name__}-{i}")
    for area, (_, commands) in DISPUTED.items()
    for i, cmd in enumerate(commands)
]


@pytest.mark.parametrize(("area", "index"), PAUSED)
def test_a_dispute_with_the_panel_pauses_every_command_of_its_step(area: str, index: int) -> None:
    build, commands = DISPUTED[area]
    s = build()
    with pytest.raises(OutOfStageError, match=f"the {area} step is paused by dispute D1") as info:
        when(s, commands[index])
    assert info.value.waiting_for == ["the SEC Panel's determination of dispute D1"]


@pytest.mark.parametrize("area", sorted(DISPUTED))
def test_a_dispute_referred_to_ofgem_still_pauses_its_step(area: str) -> None:
    build, commands = DISPUTED[area]
    s = build()
    s = given(s, when(s, c.RecordPanelDetermination(dispute_id="D1", upheld=False)))
    s = given(s, when(s, c.ReferDisputeToOfgem(dispute_id="D1")))
    with pytest.raises(OutOfStageError, match="paused by dispute D1 until Ofgem") as info:
        when(s, commands[0])
    assert info.value.waiting_for == ["Ofgem's determination of dispute D1"]
    with pytest.raises(OutOfStageError, match="paused by dispute D1"):
        when(s, c.RaiseDispute(subject=area, reason="again"))


@pytest.mark.parametrize("area", sorted(DISPUTED))
def test_a_determined_dispute_pauses_nothing(area: str) -> None:
    build, commands = DISPUTED[area]
    s = build()
    s = given(s, when(s, c.RecordPanelDetermination(dispute_id="D1", upheld=False)))
    assert not any(d.pauses for d in s.disputes)
    try:
        when(s, commands[0])
    except DomainError as refused:
        assert "paused" not in str(refused)


def test_a_dispute_pauses_only_its_own_step() -> None:
    s = credit_disputed()
    # security and UEPT go on while credit is with the Panel
    book = c.BookSecurityAssessment(assessment_on=SECURITY_ON, effective_on=START)
    assert then_types(when(s, book)) == ["AssessmentBooked"]
    notice = c.GiveUeptNotice(planned_start_on=date(2026, 12, 1), effective_on=START)
    assert then_types(when(s, notice)) == ["UeptNoticeGiven"]
    assert then_types(when(s, c.VerifyEvidence(requirement="user_id"))) == ["EvidenceVerified"]
    s = assurance_disputed("security")
    notified = c.NotifyCreditCoverRequirement(requirement=Decimal(100), threshold=Decimal(2000))
    assert then_types(when(s, notified))[0] == "CreditCoverRequirementNotified"


# -- the decider's own Credit Cover Threshold (SEC Appendix A; ONS D7BT) ---------------------

# 2,000 x CPI(Oct 2024) 135.0 / CPI(Oct 2014) 100.4 = 2,689.24 -> GBP 2,689 (Regulatory Year
# 2025/26, from 1 April 2025); 2,000 x CPI(Oct 2023) 132.0 / 100.4 = 2,629.48 -> GBP 2,629
# (2024/25, to 31 March 2025).


def _early_case() -> CaseState:
    cmd = c.StartCase(party=party(), role=UserRole.GAS_SUPPLIER, started_on=date(2025, 1, 6))
    return given(start_case(cmd, "uep-acme-gas_supplier", TODAY, 2))


@pytest.mark.parametrize(
    ("on", "requirement", "threshold", "required"),
    [
        (date(2025, 6, 2), "2689", "2689", False),  # equal to the threshold: none needed
        (date(2025, 6, 2), "2690", "2689", True),
        (date(2026, 3, 31), "2689", "2689", False),  # last day of Regulatory Year 2025/26
        (date(2025, 3, 31), "2650", "2629", True),  # Regulatory Year 2024/25
        (date(2025, 4, 1), "2650", "2689", False),  # the first day of 2025/26
        (date(2026, 4, 1), "2786", "2785", True),  # 2026/27: 2,000 x 139.8 / 100.4 = 2,784.86
    ],
)
def test_without_a_notified_threshold_the_decider_takes_it_from_cpi(
    on: date, requirement: str, threshold: str, required: bool
) -> None:
    s = _early_case()
    out = when(s, c.NotifyCreditCoverRequirement(requirement=Decimal(requirement), effective_on=on))
    notified = out[0]
    assert isinstance(notified, ev.CreditCoverRequirementNotified)
    assert notified.threshold == Decimal(threshold)
    assert notified.threshold_source == "CPI (ONS D7BT)"
    assert notified.regulatory_year == (on.year if on.month >= 4 else on.year - 1)
    assert notified.support_required is required
    expected = ["CreditCoverRequirementNotified"] + (
        [] if required else ["CreditSupportNotRequired"]
    )
    assert then_types(out) == expected
    assert given(s, out).requirement_met("credit") is not required


def test_a_notified_threshold_is_recorded_as_the_dccs() -> None:
    s = _early_case()
    cmd = c.NotifyCreditCoverRequirement(
        requirement=Decimal(2650), threshold=Decimal(2600), effective_on=date(2025, 6, 2)
    )
    notified = when(s, cmd)[0]
    assert isinstance(notified, ev.CreditCoverRequirementNotified)
    assert (notified.threshold, notified.threshold_source) == (Decimal(2600), "notified by the DCC")
    assert notified.support_required


def test_without_cpi_for_the_year_the_decider_asks_for_the_dccs_threshold() -> None:
    s = _early_case()
    # Regulatory Year 2027/28 needs CPI for October 2026, not in the bundled table
    first = date(2027, 4, 1)
    cmd = c.NotifyCreditCoverRequirement(requirement=Decimal(1), effective_on=first)
    with pytest.raises(DomainError, match="no CPI for October 2026") as info:
        when(s, cmd, first)
    assert info.value.field == "threshold"
