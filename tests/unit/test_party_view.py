"""The Party record as a person reads it (domain.party.view): roles, ranges, credit, instruments
and what the record waits for. Literal dates; the record opened Mon 2 Mar 2026, read on 1 June."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.party import commands as pc
from domain.party.state import PartyState
from domain.party.view import PartyTodo, build_party_view, party_outstanding
from domain.roles import UserRole
from tests.unit.test_party_record import (
    OPENED,
    TODAY,
    apply,
    credit_required,
    guarantee,
    opened,
    with_cases,
)

NO_GAS_FUSA = "no security assessment of the Party covers Gas Supplier: book one that does"
NO_OTHER_FUSA = "no security assessment of the Party covers Other User: book one that does"


def two_roles() -> PartyState:
    return with_cases(opened(), UserRole.GAS_SUPPLIER, UserRole.OTHER_USER)


def covered_until_july() -> PartyState:
    """Range allocated, GBP 50,000 required and covered by a guarantee expiring 31 July 2026."""
    s = apply(
        two_roles(), pc.AllocateUserIdRange(first="90b3d51f30010000", last="90b3d51f300100ff")
    )
    s = credit_required(s)
    s = apply(s, guarantee("50000", date(2026, 7, 31)), pc.AssessPartyCredit(effective_on=OPENED))
    case = pc.RecordRoleCase(
        role=UserRole.GAS_SUPPLIER,
        case_id="uep-acme-gas_supplier",
        status="open",
        user_ids=["90b3d51f30010000"],
        effective_on=OPENED,
    )
    return apply(s, case)


def test_a_new_record_waits_for_a_range_the_credit_requirement_and_security() -> None:
    assert party_outstanding(two_roles(), TODAY) == [
        PartyTodo(who="SECAS", what="allocate the Party a User ID range (H1.4-H1.6)"),
        PartyTodo(who="DCC", what="credit: the DCC has not notified the Credit Cover Requirement"),
        PartyTodo(who="Party", what=f"security (Gas Supplier): {NO_GAS_FUSA}"),
        PartyTodo(who="Party", what=f"security (Other User): {NO_OTHER_FUSA}"),
    ]


def test_a_record_without_open_roles_waits_for_nothing_but_its_review() -> None:
    assert party_outstanding(opened(), TODAY) == []


def test_the_view_of_a_record_covered_until_july() -> None:
    view = build_party_view(covered_until_july(), TODAY, stream_version=5)
    assert (view.record_id, view.party_id, view.party_name) == (
        "uep-party-acme",
        "acme",
        "Acme Energy",
    )
    assert (view.opened_on, view.as_of, view.stream_version) == (OPENED, TODAY, 5)
    assert [(r.role, r.role_label, r.case_id, r.status, r.user_ids) for r in view.roles] == [
        (UserRole.OTHER_USER, "Other User", "uep-acme-other_user", "open", []),
        (
            UserRole.GAS_SUPPLIER,
            "Gas Supplier",
            "uep-acme-gas_supplier",
            "open",
            ["90-B3-D5-1F-30-01-00-00"],
        ),
    ]
    assert [r.security.reason for r in view.roles] == [NO_OTHER_FUSA, NO_GAS_FUSA]
    assert view.user_id_ranges == ["90-B3-D5-1F-30-01-00-00 to 90-B3-D5-1F-30-01-00-FF"]
    assert view.credit_notice is not None and view.credit_notice.requirement == Decimal(50_000)
    assert view.credit_assessment is not None and view.credit_assessment.counted == ["BG-1"]
    assert view.credit.met and view.credit.valid_until == date(2026, 7, 1)
    assert view.review_due_on == date(2026, 4, 2)  # a month after the notice and assessment
    [bg] = view.instruments
    assert bg.model_dump() == {
        "reference": "BG-1",
        "form": "bank_guarantee",
        "amount": Decimal(50_000),
        "provider": None,
        "expires_on": date(2026, 7, 31),
        "lodged_on": OPENED,
        "status": "lodged",
        "counts_until": date(2026, 7, 1),  # a calendar month before its expiry
        "counts_today": True,
        "why_not": None,
    }
    assert view.security == []
    # 1 June to 1 July is 30 days: within a month, the Party is told to replace or extend
    assert view.outstanding == [
        PartyTodo(who="Party", what=f"security (Other User): {NO_OTHER_FUSA}"),
        PartyTodo(who="Party", what=f"security (Gas Supplier): {NO_GAS_FUSA}"),
        PartyTodo(
            who="DCC",
            what="review the Credit Cover Requirement (monthly; due since 2026-04-02)",
        ),
        PartyTodo(
            who="Party",
            what="replace or extend Credit Support before 2026-07-01: from then the support "
            "that counts falls below GBP 50,000.00",
        ),
    ]


def test_no_warning_more_than_a_month_before_the_support_stops_counting() -> None:
    s = covered_until_july()
    early = [t.what for t in party_outstanding(s, date(2026, 5, 31))]  # 31 days before: warned
    assert any(w.startswith("replace or extend") for w in early)
    earlier = [t.what for t in party_outstanding(s, date(2026, 5, 30))]  # 32 days before
    assert not any(w.startswith("replace or extend") for w in earlier)
    review = [t.what for t in party_outstanding(s, date(2026, 4, 1))]
    assert not any(w.startswith("review the Credit") for w in review)  # not yet due
    assert any(w.startswith("review the Credit") for w in party_outstanding_on(s, 2026, 4, 2))


def party_outstanding_on(s: PartyState, year: int, month: int, day: int) -> list[str]:
    return [t.what for t in party_outstanding(s, date(year, month, day))]


def test_an_instrument_that_no_longer_counts_says_why() -> None:
    s = apply(covered_until_july(), pc.WithdrawInstrument(reference="BG-1", effective_on=OPENED))
    [bg] = build_party_view(s, TODAY).instruments
    assert (bg.status, bg.counts_today, bg.why_not) == ("withdrawn", False, "withdrawn")
    after = build_party_view(covered_until_july(), date(2026, 7, 1))
    assert not after.instruments[0].counts_today
    assert after.instruments[0].why_not is not None
