"""The case view (the ``state`` query and ``uep case show``): every field as a person reads it.

Literal dates: the DCC's figures are worked by hand in the comments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain import commands as c
from domain.assurance import AssuranceStatus, RulesVersion
from domain.party.position import CreditPosition, SecurityPosition
from domain.roles import UserRole
from domain.state import CaseState, PartyTerms
from domain.view import RejectedMessage, build_view, case_summary
from tests.unit.test_decider import CAL, START, UID, assessed, given, in_testing, started, when

AS_OF = date(2026, 5, 1)


def awaiting_review() -> CaseState:
    """Report submitted Thu 16 Apr 2026, its receipt confirmed late on Thu 30 Apr."""
    s = in_testing()
    s = given(s, when(s, c.SubmitTestCompletionReport(effective_on=date(2026, 4, 16))))
    return given(s, when(s, c.ConfirmReportReceipt(effective_on=date(2026, 4, 30))))


def test_the_view_of_a_case_awaiting_the_dccs_review() -> None:
    rejected = RejectedMessage(
        name="accept_user_id",
        message_id="dcc-2",
        received_at=datetime(2026, 4, 30, 9, 0, tzinfo=UTC),
        error="octets",
    )
    view = build_view(awaiting_review(), AS_OF, CAL, [rejected], stream_version=9)
    assert (view.case_id, view.summary) == ("uep-acme-gas_supplier", "Acme Energy - Gas Supplier")
    assert (view.party_id, view.party_name, view.party_category) == (
        "acme",
        "Acme Energy",
        "small_supplier",
    )
    assert (view.role, view.role_label) == ("gas_supplier", "Gas Supplier")
    assert (view.rules_version, view.revision, view.status) == ("mp112", 2, "open")
    assert (view.stage, view.stage_label) == ("uept_completion", "UEPT completion (DCC steps)")
    assert (view.started_on, view.as_of, view.stream_version) == (START, AS_OF, 9)
    assert (view.user_id, view.user_ids) == (UID, [UID])
    assert view.rejected_messages == [rejected]
    assert (view.completed_on, view.withdrawn_on, view.party_record) == (None, None, None)
    assert [r.model_dump() for r in view.requirements] == [
        {"requirement": "user_id", "status": "accepted", "met": True, "verified_on": None},
        {"requirement": "uept", "status": "report_received", "met": False, "verified_on": None},
        {"requirement": "security", "status": "not_started", "met": False, "verified_on": None},
        {
            "requirement": "credit",
            "status": "awaiting_requirement",
            "met": False,
            "verified_on": None,
        },
    ]
    # receipt due Mon 20 Apr (16 + 2 WD), done Thu 30 Apr: 21-24, 27-30 Apr = 8 WD late;
    # review due Thu 23 Apr (5 WD from the report's receipt on 16 Apr), open on Fri 1 May:
    # 24, 27, 28, 29, 30 Apr and 1 May = 6 WD overdue
    assert [s.model_dump() for s in view.dcc_steps] == [
        {
            "step": "report_receipt",
            "cycle": 1,
            "opened_on": date(2026, 4, 16),
            "due_on": date(2026, 4, 20),
            "done_on": date(2026, 4, 30),
            "status": "missed",
            "working_days_late": 8,
        },
        {
            "step": "report_review",
            "cycle": 1,
            "opened_on": date(2026, 4, 16),
            "due_on": date(2026, 4, 23),
            "done_on": None,
            "status": "overdue",
            "working_days_late": 6,
        },
    ]
    # the 2017 mandate lies before the calendar's first year: no Working Days to count
    assert [d.model_dump() for d in view.deadlines] == [
        {
            "what": "DCC User mandate",
            "who": "Party",
            "due_on": date(2017, 11, 25),
            "working_days_left": None,
        },
        {
            "what": "DCC report review",
            "who": "DCC",
            "due_on": date(2026, 4, 23),
            "working_days_left": -6,
        },
    ]
    assert (view.mandate_due_on, view.mandate_derogated, view.mandate_status) == (
        date(2017, 11, 25),
        False,
        "breached",
    )


def test_the_view_of_a_case_just_started() -> None:
    view = build_view(given(started()), date(2025, 6, 2), CAL)
    assert view.user_id is None and view.user_ids == [] and view.dcc_steps == []
    assert view.rejected_messages == [] and view.stream_version == 0
    assert [r.status for r in view.requirements] == [
        "not_started",
        "not_started",
        "not_started",
        "awaiting_requirement",
    ]


def test_a_proposed_user_id_shows_until_the_dcc_answers() -> None:
    s = given(started())
    s = given(s, when(s, c.ProposeUserId(user_id=UID)))
    view = build_view(s, AS_OF, CAL)
    assert (view.user_id, view.user_ids) == (UID, [])
    assert view.requirements[0].status == "proposed"


@pytest.mark.parametrize(
    ("status", "shown", "met"),
    [
        (AssuranceStatus.APPROVED, "approved", True),
        (AssuranceStatus.APPROVED_SUBJECT_TO, "approved_subject_to", True),
        (AssuranceStatus.DEFERRED, "deferred", False),
    ],
)
def test_an_assurance_status_shows_once_set_and_the_phase_before(
    status: AssuranceStatus, shown: str, met: bool
) -> None:
    for area, role, command in [
        ("security", UserRole.GAS_SUPPLIER, c.SetSecurityStatus),
        ("privacy", UserRole.OTHER_USER, c.SetPrivacyStatus),
    ]:
        s = assessed(area, role, RulesVersion.MP112)
        before = {r.requirement: r for r in build_view(s, AS_OF, CAL).requirements}
        assert before[area].status == "assessed" and not before[area].met
        s = given(s, when(s, command(status=status)))
        after = {r.requirement: r for r in build_view(s, AS_OF, CAL).requirements}
        assert (after[area].status, after[area].met) == (shown, met)


def test_privacy_is_listed_for_other_user_only() -> None:
    other = build_view(given(started(UserRole.OTHER_USER)), AS_OF, CAL)
    assert [r.requirement for r in other.requirements] == [
        "user_id",
        "uept",
        "security",
        "privacy",
        "credit",
    ]
    assert other.requirements[3].status == "not_started"


def test_verified_requirements_show_their_day() -> None:
    s = given(started())
    s = given(s, when(s, c.ProposeUserId(user_id=UID)))
    s = given(s, when(s, c.AcceptUserId(user_id=UID)))
    s = given(s, when(s, c.VerifyEvidence(requirement="user_id", effective_on=date(2026, 2, 2))))
    first = build_view(s, AS_OF, CAL).requirements[0]
    assert (first.status, first.met, first.verified_on) == ("accepted", True, date(2026, 2, 2))


# -- revision 3: credit and security from the Party record ------------------------------------


def party_backed(credit: CreditPosition, security: SecurityPosition) -> CaseState:
    terms = PartyTerms(
        record="uep-party-acme",
        version=4,
        event="PartyCreditAssessed",
        credit=credit,
        security=security,
        recorded_on=date(2026, 3, 2),
    )
    return given(started()).model_copy(update={"revision": 3, "from_party": terms})


def statuses(state: CaseState) -> dict[str, tuple[str, bool]]:
    return {r.requirement: (r.status, r.met) for r in build_view(state, AS_OF, CAL).requirements}


def test_a_party_backed_case_awaits_its_record() -> None:
    s = given(started()).model_copy(update={"revision": 3})
    shown = statuses(s)
    assert shown["security"] == ("awaiting_party_record", False)
    assert shown["credit"] == ("awaiting_party_record", False)


def test_a_party_backed_case_shows_the_records_positions() -> None:
    s = party_backed(
        CreditPosition(met=True, reason="covered", valid_until=date(2026, 9, 1)),
        SecurityPosition(
            met=True, reason="approved", assessment_id="A1", status=AssuranceStatus.APPROVED
        ),
    )
    shown = statuses(s)
    assert shown["security"] == ("approved (A1, Party record)", True)
    assert shown["credit"] == ("met until 2026-09-01 (Party record)", True)
    view = build_view(s, AS_OF, CAL)
    assert view.party_record == s.from_party and view.revision == 3


def test_a_party_backed_case_without_a_status_or_an_end_date() -> None:
    met = party_backed(
        CreditPosition(met=True, reason="not required", requirement=Decimal(0)),
        SecurityPosition(met=True, reason="covered"),
    )
    assert statuses(met)["security"] == ("met (Party record)", True)
    assert statuses(met)["credit"] == ("met (Party record)", True)
    not_met = party_backed(
        CreditPosition(met=False, reason="shortfall", valid_until=date(2026, 9, 1)),
        SecurityPosition(met=False, reason="no assessment"),
    )
    assert statuses(not_met)["security"] == ("not_met (Party record)", False)
    assert statuses(not_met)["credit"] == ("not_met (Party record)", False)


def test_case_summary() -> None:
    assert case_summary(given(started(UserRole.OTHER_USER))) == "Acme Energy - Other User"
