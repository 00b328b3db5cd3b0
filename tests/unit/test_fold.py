"""The fold (domain.state.evolve): each event changes exactly the fields it should, nothing else.

One history runs through every kind of event a revision-2 case records; after each event the
state is compared with the one before, field by field (nested fields by dotted path). Literal
dates, in 2025.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain import events as ev
from domain.credit import CreditSupportItem
from domain.state import CaseState, evolve, fold
from tests.unit.test_decider import UID, given, started

_INDEXED = ("dcc_steps", "disputes", "lodged")


def D(month: int, day: int) -> date:
    return date(2025, month, day)


def flat(value: Any, path: str = "") -> dict[str, Any]:
    """Leaves of a dumped model by dotted path; the step, dispute and instrument lists by index."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flat(item, f"{path}{key}."))
    elif isinstance(value, list) and path.rstrip(".").split(".")[-1] in _INDEXED:
        for index, item in enumerate(value):
            out.update(flat(item, f"{path}{index}."))
    else:
        out[path[:-1]] = value
    return out


def changes(before: CaseState, after: CaseState) -> dict[str, Any]:
    """What ``after`` holds that ``before`` did not ('<gone>' for a removed leaf)."""
    old, new = flat(before.model_dump(mode="json")), flat(after.model_dump(mode="json"))
    return {
        k: new.get(k, "<gone>")
        for k in sorted(set(old) | set(new))
        if old.get(k, "<absent>") != new.get(k, "<absent>")
    }


HISTORY: list[tuple[ev.Event, dict[str, Any]]] = [
    (
        ev.UserIdProposed(effective_on=D(6, 3), user_id=UID),
        {
            "last_effective_on": "2025-06-03",
            "user_id.proposed": "90b3d51f30010000",
            "user_id.status": "proposed",
        },
    ),
    (
        ev.UserIdRejected(effective_on=D(6, 4), user_id=UID, reason="format"),
        {
            "last_effective_on": "2025-06-04",
            "user_id.last_reason": "format",
            "user_id.rejected": ["90b3d51f30010000"],
            "user_id.status": "rejected",
        },
    ),
    (
        ev.UserIdProposed(effective_on=D(6, 5), user_id="90b3d51f30010001"),
        {
            "last_effective_on": "2025-06-05",
            "user_id.proposed": "90b3d51f30010001",
            "user_id.status": "proposed",
        },
    ),
    (
        ev.UserIdAccepted(effective_on=D(6, 6), user_id="90b3d51f30010001"),
        {
            "last_effective_on": "2025-06-06",
            "user_id.accepted": "90b3d51f30010001",
            "user_id.accepted_ids": ["90b3d51f30010001"],
            "user_id.status": "accepted",
        },
    ),
    (ev.SreptCompleted(effective_on=D(6, 6)), {"srept_completed_on": "2025-06-06"}),
    (
        ev.UeptNoticeGiven(
            effective_on=D(6, 9), planned_start_on=D(9, 8), earliest_start_on=D(9, 1)
        ),
        {
            "last_effective_on": "2025-06-09",
            "uept.earliest_start_on": "2025-09-01",
            "uept.notice_given_on": "2025-06-09",
            "uept.phase": "notice_given",
            "uept.planned_start_on": "2025-09-08",
        },
    ),
    (
        ev.UeptEntryCriteriaConfirmed(effective_on=D(6, 9), criteria=["accession_confirmed"]),
        {"uept.criteria": ["accession_confirmed"]},
    ),
    (
        ev.UeptEntryCriteriaConfirmed(
            effective_on=D(6, 9), criteria=["accession_confirmed", "user_roles_identified"]
        ),
        {"uept.criteria": ["accession_confirmed", "user_roles_identified"]},
    ),
    (
        ev.UeptStarted(effective_on=D(9, 8), cycle=1),
        {
            "last_effective_on": "2025-09-08",
            "uept.cycle": 1,
            "uept.phase": "testing",
            "uept.started_on": "2025-09-08",
        },
    ),
    (
        ev.TestCompletionReportSubmitted(effective_on=D(10, 1), cycle=1, receipt_due_on=D(10, 3)),
        {
            "last_effective_on": "2025-10-01",
            "uept.dcc_steps.0.cycle": 1,
            "uept.dcc_steps.0.done_on": None,
            "uept.dcc_steps.0.due_on": "2025-10-03",
            "uept.dcc_steps.0.missed": False,
            "uept.dcc_steps.0.opened_on": "2025-10-01",
            "uept.dcc_steps.0.step": "report_receipt",
            "uept.phase": "report_submitted",
        },
    ),
    (
        ev.DccDeadlineMissed(
            effective_on=D(10, 4), step="report_receipt", cycle=1, due_on=D(10, 3)
        ),
        {"last_effective_on": "2025-10-04", "uept.dcc_steps.0.missed": True},
    ),
    (
        ev.TestCompletionReportReceiptConfirmed(
            effective_on=D(10, 6), cycle=1, review_due_on=D(10, 8), review_from=D(10, 1)
        ),
        {
            "last_effective_on": "2025-10-06",
            "uept.dcc_steps.0.done_on": "2025-10-06",
            "uept.dcc_steps.1.cycle": 1,
            "uept.dcc_steps.1.done_on": None,
            "uept.dcc_steps.1.due_on": "2025-10-08",
            "uept.dcc_steps.1.missed": False,
            "uept.dcc_steps.1.opened_on": "2025-10-01",
            "uept.dcc_steps.1.step": "report_review",
            "uept.phase": "report_received",
        },
    ),
    (
        ev.UeptReviewConcluded(effective_on=D(10, 7), cycle=1, outcome="further_testing_required"),
        {
            "last_effective_on": "2025-10-07",
            "uept.adverse": "the DCC required further testing (2025-10-07)",
            "uept.cycle": 2,
            "uept.dcc_steps.1.done_on": "2025-10-07",
            "uept.phase": "testing",
        },
    ),
    (ev.UeptStarted(effective_on=D(10, 8), cycle=2), {"last_effective_on": "2025-10-08"}),
    (
        ev.TestCompletionReportSubmitted(effective_on=D(10, 13), cycle=2, receipt_due_on=D(10, 15)),
        {
            "last_effective_on": "2025-10-13",
            "uept.adverse": "",
            "uept.dcc_steps.2.cycle": 2,
            "uept.dcc_steps.2.done_on": None,
            "uept.dcc_steps.2.due_on": "2025-10-15",
            "uept.dcc_steps.2.missed": False,
            "uept.dcc_steps.2.opened_on": "2025-10-13",
            "uept.dcc_steps.2.step": "report_receipt",
            "uept.phase": "report_submitted",
        },
    ),
    (
        ev.TestCompletionReportReceiptConfirmed(
            effective_on=D(10, 14), cycle=2, review_due_on=D(10, 20)
        ),
        {
            "last_effective_on": "2025-10-14",
            "uept.dcc_steps.2.done_on": "2025-10-14",
            "uept.dcc_steps.3.cycle": 2,
            "uept.dcc_steps.3.done_on": None,
            "uept.dcc_steps.3.due_on": "2025-10-20",
            "uept.dcc_steps.3.missed": False,
            "uept.dcc_steps.3.opened_on": "2025-10-14",
            "uept.dcc_steps.3.step": "report_review",
            "uept.phase": "report_received",
        },
    ),
    (
        ev.UeptReviewConcluded(effective_on=D(10, 15), cycle=2, outcome="concluded"),
        {
            "last_effective_on": "2025-10-15",
            "uept.dcc_steps.3.done_on": "2025-10-15",
            "uept.phase": "review_concluded",
        },
    ),
    (
        ev.QualityGateMeetingHeld(effective_on=D(10, 16), cycle=2, successful=False),
        {
            "last_effective_on": "2025-10-16",
            "uept.adverse": "the quality gate review was unsuccessful (2025-10-16)",
            "uept.cycle": 3,
            "uept.phase": "testing",
        },
    ),
    (
        ev.TestCompletionReportSubmitted(effective_on=D(10, 20), cycle=3, receipt_due_on=D(10, 22)),
        {
            "last_effective_on": "2025-10-20",
            "uept.adverse": "",
            "uept.dcc_steps.4.cycle": 3,
            "uept.dcc_steps.4.done_on": None,
            "uept.dcc_steps.4.due_on": "2025-10-22",
            "uept.dcc_steps.4.missed": False,
            "uept.dcc_steps.4.opened_on": "2025-10-20",
            "uept.dcc_steps.4.step": "report_receipt",
            "uept.phase": "report_submitted",
        },
    ),
    (
        ev.TestCompletionReportReceiptConfirmed(
            effective_on=D(10, 20), cycle=3, review_due_on=D(10, 27)
        ),
        {
            "uept.dcc_steps.4.done_on": "2025-10-20",
            "uept.dcc_steps.5.cycle": 3,
            "uept.dcc_steps.5.done_on": None,
            "uept.dcc_steps.5.due_on": "2025-10-27",
            "uept.dcc_steps.5.missed": False,
            "uept.dcc_steps.5.opened_on": "2025-10-20",
            "uept.dcc_steps.5.step": "report_review",
            "uept.phase": "report_received",
        },
    ),
    (
        ev.UeptReviewConcluded(effective_on=D(10, 21), cycle=3, outcome="concluded"),
        {
            "last_effective_on": "2025-10-21",
            "uept.dcc_steps.5.done_on": "2025-10-21",
            "uept.phase": "review_concluded",
        },
    ),
    (
        ev.QualityGateMeetingHeld(
            effective_on=D(10, 22), cycle=3, successful=True, certificate_due_on=D(10, 24)
        ),
        {
            "last_effective_on": "2025-10-22",
            "uept.dcc_steps.6.cycle": 3,
            "uept.dcc_steps.6.done_on": None,
            "uept.dcc_steps.6.due_on": "2025-10-24",
            "uept.dcc_steps.6.missed": False,
            "uept.dcc_steps.6.opened_on": "2025-10-22",
            "uept.dcc_steps.6.step": "certificate",
            "uept.phase": "certificate_due",
        },
    ),
    (
        ev.DccDeadlinesExtended(
            effective_on=D(10, 22),
            dispute_id="D0",
            paused_working_days=1,
            recomputed={"certificate:3": D(10, 27)},
        ),
        {"uept.dcc_steps.6.due_on": "2025-10-27"},
    ),
    (
        ev.CalendarCorrected(
            effective_on=D(10, 22),
            added_holidays=[D(10, 23)],
            removed_holidays=[D(12, 25)],
            recomputed={"certificate:3": D(10, 28)},
            earliest_start_on=None,
        ),
        {
            "holidays_added": ["2025-10-23"],
            "holidays_removed": ["2025-12-25"],
            "uept.dcc_steps.6.due_on": "2025-10-28",
        },
    ),
    (
        ev.TestCompletionCertificateIssued(
            effective_on=D(10, 27), cycle=3, certificate_ref="TCC-3"
        ),
        {
            "last_effective_on": "2025-10-27",
            "uept.certificate_ref": "TCC-3",
            "uept.certified_on": "2025-10-27",
            "uept.dcc_steps.6.done_on": "2025-10-27",
            "uept.phase": "certified",
        },
    ),
    (
        ev.AssessmentBooked(
            effective_on=D(6, 9),
            area="security",
            kind="pre_assessment",
            assessment_on=D(8, 1),
            short_notice=True,
        ),
        {
            "security.booked_for": "2025-08-01",
            "security.booked_kind": "pre_assessment",
            "security.phase": "booked",
            "security.short_notice": True,
        },
    ),
    (
        ev.AssessmentCompleted(effective_on=D(8, 1), area="security", kind="pre_assessment"),
        {
            "security.booked_kind": None,
            "security.phase": "not_started",
            "security.pre_assessment_done": True,
        },
    ),
    (
        ev.AssessmentBooked(
            effective_on=D(8, 4), area="security", kind="full", assessment_on=D(10, 27)
        ),
        {
            "security.booked_for": "2025-10-27",
            "security.booked_kind": "full",
            "security.phase": "booked",
            "security.short_notice": False,
        },
    ),
    (
        ev.AssessmentCompleted(effective_on=D(10, 27), area="security", kind="full"),
        {"security.assessments_done": 1, "security.phase": "assessed"},
    ),
    (
        ev.AssuranceStatusSet(
            effective_on=D(10, 28),
            area="security",
            status="deferred",
            allows_completion=False,
            conditions="c",
        ),
        {
            "last_effective_on": "2025-10-28",
            "security.conditions": "c",
            "security.phase": "status_set",
            "security.status": "deferred",
        },
    ),
    (
        ev.DisputeRaised(effective_on=D(10, 29), dispute_id="D1", subject="security", reason="r"),
        {
            "disputes.0.dispute_id": "D1",
            "disputes.0.ofgem_upheld": None,
            "disputes.0.outcome": None,
            "disputes.0.panel_upheld": None,
            "disputes.0.phase": "with_panel",
            "disputes.0.raised_on": "2025-10-29",
            "disputes.0.reason": "r",
            "disputes.0.referred_on": None,
            "disputes.0.subject": "security",
            "last_effective_on": "2025-10-29",
        },
    ),
    (
        ev.PanelDeterminationMade(
            effective_on=D(10, 30), dispute_id="D1", upheld=False, outcome=None
        ),
        {
            "disputes.0.panel_upheld": False,
            "disputes.0.phase": "panel_determined",
            "last_effective_on": "2025-10-30",
        },
    ),
    (
        ev.DisputeReferredToOfgem(effective_on=D(10, 31), dispute_id="D1"),
        {
            "disputes.0.phase": "with_ofgem",
            "disputes.0.referred_on": "2025-10-31",
            "last_effective_on": "2025-10-31",
        },
    ),
    (
        ev.OfgemDeterminationMade(
            effective_on=D(11, 3), dispute_id="D1", upheld=True, outcome="approved"
        ),
        {
            "disputes.0.ofgem_upheld": True,
            "disputes.0.outcome": "approved",
            "disputes.0.phase": "ofgem_determined",
            "last_effective_on": "2025-11-03",
        },
    ),
    (
        ev.CreditCoverRequirementNotified(
            effective_on=D(11, 3),
            requirement=Decimal(50000),
            threshold=Decimal(2689),
            regulatory_year=2025,
            threshold_source="notified by the DCC",
            support_required=True,
        ),
        {
            "credit.phase": "required",
            "credit.regulatory_year": 2025,
            "credit.requirement": "50000",
            "credit.threshold": "2689",
        },
    ),
    (
        ev.CreditSupportLodged(
            effective_on=D(11, 4),
            items=[CreditSupportItem(form="cash_deposit", amount=Decimal(10000))],
        ),
        {
            "credit.lodged.0.amount": "10000",
            "credit.lodged.0.expires_on": None,
            "credit.lodged.0.form": "cash_deposit",
            "credit.lodged.0.provider": None,
            "credit.lodged.0.required_bank_rating": True,
            "credit.phase": "lodged",
            "last_effective_on": "2025-11-04",
        },
    ),
    (
        ev.CreditSupportAssessed(
            effective_on=D(11, 5),
            accepted=False,
            accepted_total=Decimal(10000),
            required=Decimal(50000),
            reasons=["short"],
        ),
        {
            "credit.accepted_total": "10000",
            "credit.lodged.0.amount": "<gone>",
            "credit.lodged.0.expires_on": "<gone>",
            "credit.lodged.0.form": "<gone>",
            "credit.lodged.0.provider": "<gone>",
            "credit.lodged.0.required_bank_rating": "<gone>",
            "credit.phase": "required",
            "credit.refusals": ["short"],
            "last_effective_on": "2025-11-05",
        },
    ),
    (
        ev.CreditSupportFoundSufficient(effective_on=D(11, 6), dispute_id="D2"),
        {
            "credit.accepted_total": "50000",
            "credit.phase": "accepted",
            "last_effective_on": "2025-11-06",
        },
    ),
    (
        ev.EvidenceVerified(effective_on=D(11, 7), requirement="credit"),
        {"last_effective_on": "2025-11-07", "verified.credit": "2025-11-07"},
    ),
    (
        ev.CreditCoverRequirementNotified(
            effective_on=D(11, 10),
            requirement=Decimal(60000),
            threshold=Decimal(2689),
            regulatory_year=2025,
            threshold_source="notified by the DCC",
            support_required=True,
        ),
        {
            "credit.accepted_total": None,
            "credit.phase": "lodged",
            "credit.requirement": "60000",
            "last_effective_on": "2025-11-10",
            "verified.credit": "<gone>",
        },
    ),
    (
        ev.CreditCoverRequirementNotified(
            effective_on=D(11, 11),
            requirement=Decimal(100),
            threshold=Decimal(2689),
            regulatory_year=2025,
            threshold_source="notified by the DCC",
            support_required=False,
        ),
        {
            "credit.phase": "not_required",
            "credit.requirement": "100",
            "last_effective_on": "2025-11-11",
        },
    ),
    (
        ev.CreditSupportNotRequired(
            effective_on=D(11, 11), requirement=Decimal(100), threshold=Decimal(2689)
        ),
        {},
    ),
    (
        ev.UserEntryProcessCompleted(effective_on=D(11, 12), user_id="90b3d51f30010001"),
        {"completed_on": "2025-11-12", "last_effective_on": "2025-11-12", "status": "completed"},
    ),
    (ev.CompletionNotified(effective_on=D(11, 12), recipient="party"), {"notified": ["party"]}),
    (
        ev.CompletionNoticeQueued(effective_on=D(11, 12), recipient="dcc", notice_id="n1"),
        {"notices_queued.dcc": "n1"},
    ),
    (
        ev.CompletionNoticeDelivered(
            effective_on=D(11, 12), recipient="dcc", notice_id="n1", channel="file"
        ),
        {"notified": ["party", "dcc"]},
    ),
    (
        ev.CompletionNoticeDelivered(
            effective_on=D(11, 12), recipient="dcc", notice_id="n1", channel="file"
        ),
        {},
    ),
    (
        ev.PanelInformedByPaper(effective_on=D(11, 13), reference="P"),
        {
            "last_effective_on": "2025-11-13",
            "panel_paper_on": "2025-11-13",
            "panel_paper_reference": "P",
        },
    ),
    (
        ev.CaseWithdrawn(effective_on=D(11, 14), reason="gone"),
        {
            "last_effective_on": "2025-11-14",
            "status": "withdrawn",
            "withdrawal_reason": "gone",
            "withdrawn_on": "2025-11-14",
        },
    ),
]


def test_each_event_changes_exactly_what_it_should() -> None:
    state = given(started())
    for event, expected in HISTORY:
        after = evolve(state, event)
        assert changes(state, after) == expected, event.type
        state = after
    assert fold([e for e, _ in HISTORY], given(started())) == state


def test_an_event_before_the_case_started_is_refused() -> None:
    with pytest.raises(ValueError, match="UserIdProposed before CaseStarted"):
        evolve(None, ev.UserIdProposed(effective_on=D(6, 3), user_id=UID))


def test_a_new_case_started_on_the_stream_begins_afresh() -> None:
    s = given(started(), ev.UserIdProposed(effective_on=D(6, 3), user_id=UID))
    [again] = started()
    assert evolve(s, again) == given(started())
    assert given(started()).privacy.applicable is False
