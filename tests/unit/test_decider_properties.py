"""Properties of the decider over arbitrary message sequences (hypothesis).

Whatever operators and systems send, in whatever order: the decider either refuses with a
DomainError or decides events that fold cleanly, survive storage as JSON, and leave a state the
view can always describe.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain import events as ev
from domain.calendar_data import build_calendar
from domain.decider import decide, start_case
from domain.errors import DomainError
from domain.progress import outstanding, stage
from domain.roles import PartyProfile, UserRole
from domain.state import CaseState, evolve, fold
from domain.view import build_view

CAL = build_calendar("england-and-wales", 2016, 2040)
START = date(2025, 1, 6)
TODAY = date(2026, 11, 23)
IDS = ["90b3d51f30010001", "90b3d51f30010002"]

days = st.integers(min_value=0, max_value=(TODAY - START).days).map(
    lambda n: START + timedelta(days=n)
)
maybe_day = st.none() | days
amount = st.sampled_from([Decimal("0"), Decimal("1500"), Decimal("30000")])


def _cmd(model: type[c.Command], **fields: Any) -> st.SearchStrategy[c.Command]:
    return st.builds(model, effective_on=maybe_day, **fields)


OUTCOMES = st.sampled_from(
    [None, "approved", "deferred", "rejected", "uept_concluded", "credit_support_sufficient"]
)
COMMANDS: st.SearchStrategy[c.Command] = st.one_of(
    _cmd(c.ProposeUserId, user_id=st.sampled_from(IDS)),
    _cmd(c.AcceptUserId, user_id=st.sampled_from(IDS)),
    _cmd(c.RejectUserId, user_id=st.sampled_from(IDS), reason=st.just("no")),
    _cmd(c.RecordSreptCompleted),
    _cmd(c.GiveUeptNotice, planned_start_on=days),
    _cmd(c.ConfirmEntryCriteria, criteria=st.lists(st.sampled_from(ev.ENTRY_CRITERIA), min_size=1)),
    _cmd(c.StartUept),
    _cmd(c.SubmitTestCompletionReport),
    _cmd(c.ConfirmReportReceipt),
    _cmd(c.ConcludeUeptReview, outcome=st.sampled_from(["concluded", "further_testing_required"])),
    _cmd(c.RecordQualityGateMeeting, successful=st.booleans()),
    _cmd(c.IssueTestCompletionCertificate, certificate_ref=st.just("TCC")),
    _cmd(
        c.BookSecurityAssessment,
        kind=st.sampled_from(["pre_assessment", "full", "follow_up"]),
        assessment_on=days,
    ),
    _cmd(c.CompleteSecurityAssessment),
    _cmd(
        c.SetSecurityStatus,
        status=st.sampled_from(["approved", "deferred", "rejected", "approved_subject_to"]),
    ),
    _cmd(c.BookPrivacyAssessment, kind=st.sampled_from(["full", "follow_up"]), assessment_on=days),
    _cmd(c.CompletePrivacyAssessment),
    _cmd(
        c.SetPrivacyStatus,
        status=st.sampled_from(["approved", "rejected", "provisionally_approved"]),
    ),
    _cmd(c.NotifyCreditCoverRequirement, requirement=amount, threshold=st.just(Decimal("2400"))),
    _cmd(c.LodgeCreditSupport, items=st.just([{"form": "cash_deposit", "amount": "30000"}])),
    _cmd(c.AssessCreditSupport),
    _cmd(
        c.VerifyEvidence,
        requirement=st.sampled_from(["user_id", "uept", "security", "privacy", "credit"]),
    ),
    _cmd(
        c.RaiseDispute,
        subject=st.sampled_from(["uept", "security", "privacy", "credit"]),
        reason=st.just("x"),
    ),
    _cmd(
        c.RecordPanelDetermination,
        dispute_id=st.sampled_from(["D1", "D2"]),
        upheld=st.booleans(),
        outcome=OUTCOMES,
    ),
    _cmd(c.ReferDisputeToOfgem, dispute_id=st.sampled_from(["D1", "D2"])),
    _cmd(
        c.RecordOfgemDetermination,
        dispute_id=st.sampled_from(["D1", "D2"]),
        upheld=st.booleans(),
        outcome=OUTCOMES,
    ),
    _cmd(c.WithdrawCase, reason=st.just("x")),
)


def opened(role: UserRole) -> tuple[CaseState, list[ev.Event]]:
    party = PartyProfile(
        party_id="acme",
        party_name="Acme",
        category="other_sec_party",
        licences=[
            "gas_supply",
            "electricity_supply",
            "electricity_distribution",
            "gas_transportation",
        ],
        mop_or_mam=True,
    )
    events = start_case(
        c.StartCase(party=party, role=role, started_on=START), f"uep-acme-{role}", TODAY
    )
    state = fold(events)
    assert state is not None
    return state, list(events)


def _sensible(state: CaseState, on: date) -> list[c.Command]:
    """Commands that fit the case's state: a guide so sequences reach the later stages."""
    uid = state.user_id.proposed or IDS[0]
    earliest = state.uept.earliest_start_on or on
    booked = on + timedelta(weeks=12)
    sec = state.security.booked_for or on
    priv = state.privacy.booked_for or on
    return [
        c.ProposeUserId(user_id=uid, effective_on=on),
        c.AcceptUserId(user_id=uid, effective_on=on),
        c.GiveUeptNotice(planned_start_on=CAL.add_working_days(on, 60), effective_on=on),
        c.ConfirmEntryCriteria(criteria=list(ev.ENTRY_CRITERIA), effective_on=on),
        c.StartUept(effective_on=max(on, earliest)),
        c.SubmitTestCompletionReport(effective_on=on),
        c.ConfirmReportReceipt(effective_on=on),
        c.ConcludeUeptReview(outcome="concluded", effective_on=on),
        c.RecordQualityGateMeeting(successful=True, effective_on=on),
        c.IssueTestCompletionCertificate(certificate_ref="TCC", effective_on=on),
        c.BookSecurityAssessment(kind="full", assessment_on=booked, effective_on=on),
        c.BookSecurityAssessment(kind="follow_up", assessment_on=booked, effective_on=on),
        c.CompleteSecurityAssessment(effective_on=max(on, sec)),
        c.SetSecurityStatus(status="approved", effective_on=max(on, sec)),
        c.BookPrivacyAssessment(kind="full", assessment_on=booked, effective_on=on),
        c.CompletePrivacyAssessment(effective_on=max(on, priv)),
        c.SetPrivacyStatus(status="approved", effective_on=max(on, priv)),
        c.NotifyCreditCoverRequirement(requirement=Decimal("100"), threshold=Decimal("2400")),
        *[
            c.VerifyEvidence(requirement=r, effective_on=on)
            for r in state.applicable_requirements()
        ],
    ]


def _accepted(state: CaseState, command: c.Command) -> bool:
    try:
        decide(state, command, TODAY, CAL)
    except DomainError:
        return False
    return True


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(role=st.sampled_from(list(UserRole)), data=st.data())
def test_any_sequence_refuses_cleanly_or_decides_foldable_events(
    role: UserRole, data: st.DataObject
) -> None:
    state, history = opened(role)
    clock = START
    for _ in range(data.draw(st.integers(min_value=1, max_value=60), label="steps")):
        clock = min(TODAY, clock + timedelta(days=data.draw(st.integers(0, 30), label="days")))
        fitting = [x for x in _sensible(state, clock) if _accepted(state, x)]
        if fitting and data.draw(st.integers(0, 9), label="guided?") < 8:
            command = data.draw(st.sampled_from(fitting), label="command")
        else:
            command = data.draw(COMMANDS, label="command")
        closed = state.status != "open"
        try:
            decided = decide(state, command, TODAY, CAL)
        except DomainError as err:
            assert str(err)  # every refusal says something
            continue
        assert not closed, "a closed case decided new events"
        for event in decided:
            stored = ev.event_from_data(event.type, ev.event_to_data(event))
            assert stored == event  # survives the event store's JSON
            state = evolve(state, event)
        history.extend(decided)
        assert fold(history) == state  # replaying the stream gives the same state
        open_steps = [s for s in state.uept.dcc_steps if s.done_on is None]
        assert len(open_steps) <= 1
        assert all(s.due_on >= s.opened_on for s in state.uept.dcc_steps)
        if state.status == "completed":
            assert all(state.requirement_met(r) for r in state.applicable_requirements())
            assert set(state.verified) == set(state.applicable_requirements())
    stage(state)
    outstanding(state)
    build_view(state, TODAY, CAL)
