"""What a determination of a dispute (H1.13) records and changes: the Panel's or Ofgem's outcome
as an assurance status, a concluded UEPT cycle, sufficient Credit Support, and the DCC deadlines
moved by the Working Days a UEPT dispute held them. Literal dates."""

from __future__ import annotations

from datetime import date
from typing import Literal

import pytest

from domain import commands as c
from domain import events as ev
from domain.assurance import AssuranceStatus as A
from domain.assurance import RulesVersion
from domain.errors import InvalidInputError, OutOfStageError
from domain.roles import UserRole
from domain.state import CaseState
from tests.unit.test_decider import START, TODAY, assessed, given, in_testing, when

Area = Literal["security", "privacy"]


def disputed(area: str) -> CaseState:
    role = UserRole.GAS_SUPPLIER if area == "security" else UserRole.OTHER_USER
    s = assessed(area, role, RulesVersion.MP112)
    status = c.SetSecurityStatus if area == "security" else c.SetPrivacyStatus
    s = given(s, when(s, status(status=A.DEFERRED)))
    return given(s, when(s, c.RaiseDispute(subject=area, reason="x")))


def with_ofgem(area: str) -> CaseState:
    return given(
        disputed(area),
        ev.PanelDeterminationMade(effective_on=START, dispute_id="D1", upheld=False),
        ev.DisputeReferredToOfgem(effective_on=START, dispute_id="D1"),
    )


@pytest.mark.parametrize(
    ("area", "outcome", "allows"),
    [
        ("privacy", A.APPROVED_SUBJECT_TO, True),
        ("privacy", A.REJECTED, False),
        ("security", A.APPROVED_SUBJECT_TO, True),
        ("security", A.REJECTED, False),
    ],
)
def test_the_panels_outcome_becomes_the_status(area: Area, outcome: A, allows: bool) -> None:
    cmd = c.RecordPanelDetermination(dispute_id="D1", upheld=allows, outcome=outcome, summary="s")
    made, applied = when(disputed(area), cmd)
    assert made == ev.PanelDeterminationMade(
        effective_on=TODAY, dispute_id="D1", upheld=allows, summary="s", outcome=outcome
    )
    assert applied == ev.AssuranceStatusSet(
        effective_on=TODAY,
        area=area,
        status=outcome,
        allows_completion=allows,
        conditions="determined by the SEC Panel on dispute D1: s",
    )
    s = given(disputed(area), made, applied)
    assert s.requirement_met(area) is allows
    assert s.disputes[0].phase == "panel_determined" and not s.disputes[0].pauses


@pytest.mark.parametrize("area", ["security", "privacy"])
def test_an_outcome_the_rules_version_does_not_know_is_refused(area: str) -> None:
    cmd = c.RecordPanelDetermination(dispute_id="D1", upheld=True, outcome="provisionally_approved")
    with pytest.raises(InvalidInputError, match="Provisionally approved is not a") as refused:
        when(disputed(area), cmd)
    assert refused.value.field == f"{area}_status"


def test_ofgems_determination_with_and_without_an_outcome() -> None:
    s = with_ofgem("security")
    [made] = when(s, c.RecordOfgemDetermination(dispute_id="D1", upheld=False, summary="stands"))
    assert made == ev.OfgemDeterminationMade(
        effective_on=TODAY, dispute_id="D1", upheld=False, summary="stands", outcome=None
    )
    assert given(s, made).disputes[0].phase == "ofgem_determined"
    out = when(s, c.RecordOfgemDetermination(dispute_id="D1", upheld=True, outcome="approved"))
    assert out[1] == ev.AssuranceStatusSet(
        effective_on=TODAY,
        area="security",
        status=A.APPROVED,
        allows_completion=True,
        conditions="determined by Ofgem on dispute D1",
    )


def test_the_referral_is_dated() -> None:
    s = given(
        disputed("security"),
        ev.PanelDeterminationMade(effective_on=START, dispute_id="D1", upheld=False),
    )
    [referred] = when(s, c.ReferDisputeToOfgem(dispute_id="D1", effective_on=date(2025, 12, 1)))
    assert referred == ev.DisputeReferredToOfgem(effective_on=date(2025, 12, 1), dispute_id="D1")
    s = given(s, referred)
    assert (s.disputes[0].phase, s.disputes[0].referred_on) == ("with_ofgem", date(2025, 12, 1))


# -- UEPT disputes: a concluded cycle, and the DCC's clock ------------------------------------


def further_testing() -> CaseState:
    s = in_testing()
    for cmd in [
        c.SubmitTestCompletionReport(effective_on=date(2026, 3, 2)),
        c.ConfirmReportReceipt(effective_on=date(2026, 3, 3)),
        c.ConcludeUeptReview(effective_on=date(2026, 3, 5), outcome="further_testing_required"),
    ]:
        s = given(s, when(s, cmd))
    return given(s, when(s, c.RaiseDispute(subject="uept", reason="the tests passed")))


def test_a_uept_outcome_is_refused_once_testing_moved_on() -> None:
    s = further_testing()
    # the Party went on testing and submitted a new report meanwhile (a backdated fact)
    s = given(
        s,
        ev.TestCompletionReportSubmitted(
            effective_on=date(2026, 3, 9), cycle=2, receipt_due_on=date(2026, 3, 11)
        ),
    )
    cmd = c.RecordPanelDetermination(dispute_id="D1", upheld=True, outcome="uept_concluded")
    with pytest.raises(OutOfStageError, match="UEPT has moved on since the disputed outcome"):
        when(s, cmd)


def test_a_uept_dispute_determines_only_a_concluded_cycle() -> None:
    cmd = c.RecordPanelDetermination(dispute_id="D1", upheld=True, outcome="approved")
    with pytest.raises(InvalidInputError) as refused:
        when(further_testing(), cmd)
    assert refused.value.message == (
        "approved is not an outcome of a uept dispute; it can determine uept_concluded"
    )
    assert refused.value.field == "outcome"


def test_the_concluded_cycle_is_the_disputed_one() -> None:
    cmd = c.RecordPanelDetermination(
        dispute_id="D1", upheld=True, outcome="uept_concluded", effective_on=date(2026, 3, 6)
    )
    [_, concluded] = when(further_testing(), cmd)
    assert concluded == ev.UeptConcludedByDetermination(
        effective_on=date(2026, 3, 6), dispute_id="D1", cycle=1
    )


def test_deadlines_move_by_the_working_days_the_dispute_was_with_ofgem() -> None:
    """Referred on Mon 9 Mar 2026, determined by Ofgem on Mon 16 Mar: 5 Working Days (10-13,
    16 Mar); the receipt due Wed 4 Mar moves to Wed 11 Mar."""
    s = given(
        in_testing(),
        ev.TestCompletionReportSubmitted(
            effective_on=date(2026, 3, 2), cycle=1, receipt_due_on=date(2026, 3, 4)
        ),
        ev.DisputeRaised(
            effective_on=date(2026, 3, 3), dispute_id="D1", subject="uept", reason="x"
        ),
        ev.PanelDeterminationMade(effective_on=date(2026, 3, 6), dispute_id="D1", upheld=False),
        ev.DisputeReferredToOfgem(effective_on=date(2026, 3, 9), dispute_id="D1"),
    )
    cmd = c.RecordOfgemDetermination(dispute_id="D1", upheld=False, effective_on=date(2026, 3, 16))
    [_, extended] = when(s, cmd)
    assert extended == ev.DccDeadlinesExtended(
        effective_on=date(2026, 3, 16),
        dispute_id="D1",
        paused_working_days=5,
        recomputed={"report_receipt:1": date(2026, 3, 11)},
    )


def test_no_extension_without_an_open_step_or_a_working_day_paused() -> None:
    s = further_testing()  # no DCC step open: the review concluded
    out = when(s, c.RecordPanelDetermination(dispute_id="D1", upheld=False))
    assert [e.type for e in out] == ["PanelDeterminationMade"]
    same_day = given(
        in_testing(),
        ev.TestCompletionReportSubmitted(
            effective_on=date(2026, 3, 2), cycle=1, receipt_due_on=date(2026, 3, 4)
        ),
        ev.DisputeRaised(
            effective_on=date(2026, 3, 3), dispute_id="D1", subject="uept", reason="x"
        ),
    )
    cmd = c.RecordPanelDetermination(dispute_id="D1", upheld=False, effective_on=date(2026, 3, 3))
    assert [e.type for e in when(same_day, cmd)] == ["PanelDeterminationMade"]
