"""The Party record (domain.party) and the revision-3 role case that takes its positions from it.

Literal dates throughout: nothing here depends on the day the tests run.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain import commands as c
from domain import events as ev
from domain.calendar_data import build_calendar
from domain.decider import decide, start_case, user_id_claims
from domain.errors import DomainError, IneligibleError, InvalidInputError, OutOfStageError
from domain.party import commands as pc
from domain.party import record_id
from domain.party.decider import decide_party, open_party
from domain.party.state import (
    PartyState,
    credit_position,
    fold_party,
    lapses_due,
    next_lapse,
    position_for,
    review_due_on,
    security_position,
    stops_counting_on,
)
from domain.progress import outstanding
from domain.roles import UserRole
from domain.state import CaseState, fold

CAL = build_calendar("england-and-wales", 2016, 2040)
OPENED = date(2026, 3, 2)
TODAY = date(2026, 6, 1)
SUPPLIERS = [UserRole.IMPORT_SUPPLIER, UserRole.EXPORT_SUPPLIER, UserRole.GAS_SUPPLIER]
RANGE = ("90b3d51f30010000", "90b3d51f300100ff")


def profile(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "party_id": "acme",
        "party_name": "Acme Energy",
        "category": "small_supplier",
        "licences": ["gas_supply", "electricity_supply"],
    }
    return {**base, **extra}


def opened() -> PartyState:
    events = open_party(pc.PartyRecordInput.model_validate({"party": profile()}), OPENED)
    state = fold_party(events)
    assert state is not None
    return state


def apply(state: PartyState, *commands: c.Command, today: date = TODAY) -> PartyState:
    for command in commands:
        folded = fold_party(decide_party(state, command, today), state)
        assert folded is not None
        state = folded
    return state


def refusal(state: PartyState, command: c.Command, today: date = TODAY) -> DomainError:
    with pytest.raises(DomainError) as caught:
        decide_party(state, command, today)
    return caught.value


def guarantee(amount: str, expires_on: date, ref: str = "BG-1") -> pc.LodgeInstrument:
    return pc.LodgeInstrument.model_validate(
        {
            "reference": ref,
            "instrument": {"form": "bank_guarantee", "amount": amount, "expires_on": expires_on},
            "effective_on": OPENED,
        }
    )


def with_cases(state: PartyState, *roles: UserRole) -> PartyState:
    return apply(
        state,
        *(
            pc.RecordRoleCase(
                role=role, case_id=f"uep-acme-{role}", status="open", effective_on=OPENED
            )
            for role in roles
        ),
    )


def credit_required(state: PartyState, requirement: str = "50000") -> PartyState:
    return apply(
        state,
        pc.NotifyPartyCreditCover(
            requirement=Decimal(requirement), threshold=Decimal("10000"), effective_on=OPENED
        ),
    )


# -- credit at the Party --------------------------------------------------------------------


def test_one_guarantee_lodged_once_covers_every_role_and_counts_once() -> None:
    state = credit_required(with_cases(opened(), *SUPPLIERS))
    state = apply(
        state, guarantee("50000", date(2027, 6, 30)), pc.AssessPartyCredit(effective_on=OPENED)
    )
    assert [i.reference for i in state.instruments] == ["BG-1"]
    assert state.credit_assessment is not None
    assert state.credit_assessment.accepted_total == Decimal("50000")
    for role in SUPPLIERS:
        position = position_for(state, role, TODAY, version=7)
        assert position.credit.met and position.credit.accepted_total == Decimal("50000")
        assert position.party_record == record_id("acme")
    # the same reference again is refused, so nothing can be counted twice
    err = refusal(state, guarantee("50000", date(2027, 6, 30)))
    assert isinstance(err, InvalidInputError) and "already lodged" in err.message


def test_a_guarantee_stops_counting_a_month_before_it_expires() -> None:
    expiry = date(2026, 9, 30)
    state = credit_required(opened())
    state = apply(state, guarantee("50000", expiry), pc.AssessPartyCredit(effective_on=OPENED))
    line = stops_counting_on(state.instruments[0])
    # on 31 August the guarantee still has a calendar month to run; on 1 September it has not
    assert line == date(2026, 9, 1)
    position = credit_position(state, TODAY)
    assert position.met and position.valid_until == line
    assert position.met_on(date(2026, 8, 31)) and not position.met_on(line)
    assert not credit_position(state, line).met
    assert next_lapse(state) == line
    assert lapses_due(state, date(2026, 8, 31)) == []
    [lapse] = lapses_due(state, line)
    assert (lapse.reference, lapse.effective_on) == ("BG-1", line)
    state = fold_party([lapse], state) or state
    assert next_lapse(state) is None and lapses_due(state, date(2026, 12, 1)) == []


def test_a_shortfall_keeps_the_valid_instruments_and_says_how_short() -> None:
    state = credit_required(opened(), "80000")
    cash = pc.LodgeInstrument.model_validate(
        {"reference": "CASH-1", "instrument": {"form": "cash_deposit", "amount": "30000"}}
    )
    state = apply(
        state,
        guarantee("40000", date(2027, 6, 30)),
        cash,
        pc.AssessPartyCredit(effective_on=TODAY),
    )
    position = credit_position(state, TODAY)
    assert not position.met and position.shortfall == Decimal("10000")
    assert "10,000" in position.reason and position.who == "Party"
    assert [i.status for i in state.instruments] == ["lodged", "lodged"]
    # more support, then the DCC's assessment: met, and the first two still count
    more = pc.LodgeInstrument.model_validate(
        {"reference": "LC-1", "instrument": {"form": "letter_of_credit", "amount": "10000"}}
    )
    state = apply(state, more)
    waiting = credit_position(state, TODAY)
    assert not waiting.met and "yet to assess LC-1" in waiting.reason and waiting.who == "DCC"
    state = apply(state, pc.AssessPartyCredit(effective_on=TODAY))
    assert credit_position(state, TODAY).accepted_total == Decimal("80000")


def test_bad_credit_messages_are_refused_with_the_field_and_reason() -> None:
    state = credit_required(opened())
    err = refusal(state, guarantee("50000", date(2026, 3, 20)))
    assert err.field == "instrument.expires_on" and "less than a month" in err.message
    err = refusal(state, pc.WithdrawInstrument(reference="BG-9"))
    assert err.field == "reference" and "no instrument 'BG-9'" in err.message
    err = refusal(opened(), pc.AssessPartyCredit())
    assert isinstance(err, OutOfStageError) and "notified requirement" in err.message


def test_replacing_an_instrument_keeps_one_count_and_the_dcc_reassesses() -> None:
    state = credit_required(opened())
    state = apply(
        state,
        guarantee("50000", date(2026, 9, 30)),
        pc.AssessPartyCredit(effective_on=OPENED),
        pc.ReplaceInstrument.model_validate(
            {
                "reference": "BG-1",
                "by_reference": "BG-2",
                "instrument": {
                    "form": "bank_guarantee",
                    "amount": "50000",
                    "expires_on": "2027-09-30",
                },
            }
        ),
    )
    assert [(i.reference, i.status) for i in state.instruments] == [
        ("BG-1", "replaced"),
        ("BG-2", "lodged"),
    ]
    assert not credit_position(state, TODAY).met  # the DCC has yet to assess BG-2
    state = apply(state, pc.AssessPartyCredit())
    position = credit_position(state, TODAY)
    assert position.met and position.valid_until == date(2027, 9, 1)


def test_the_monthly_review_falls_due_a_month_after_the_last_review() -> None:
    state = credit_required(opened())
    assert review_due_on(state) == date(2026, 4, 2)
    state = apply(
        state, guarantee("50000", date(2027, 6, 30)), pc.AssessPartyCredit(effective_on=TODAY)
    )
    assert review_due_on(state) == date(2026, 7, 1)
    assert review_due_on(opened()) is None


# -- security at the Party ------------------------------------------------------------------


def fusa(state: PartyState, *roles: UserRole, status: str = "approved") -> PartyState:
    booked = apply(
        state,
        pc.BookPartySecurityAssessment(
            roles=list(roles), assessment_on=date(2026, 5, 25), effective_on=OPENED
        ),
    )
    aid = booked.security[-1].assessment_id
    return apply(
        booked,
        pc.CompletePartySecurityAssessment(assessment_id=aid, effective_on=date(2026, 5, 25)),
        pc.SetPartySecurityStatus.model_validate(
            {"assessment_id": aid, "status": status, "effective_on": "2026-05-28"}
        ),
    )


def test_one_fusa_covering_two_roles_satisfies_both_and_a_third_needs_cover() -> None:
    state = fusa(opened(), UserRole.IMPORT_SUPPLIER, UserRole.GAS_SUPPLIER)
    assert security_position(state, UserRole.IMPORT_SUPPLIER).met
    assert security_position(state, UserRole.GAS_SUPPLIER).met
    third = security_position(state, UserRole.EXPORT_SUPPLIER)
    assert not third.met and "covers Export Supplier" in third.reason
    assert third.who == "Party"


def test_a_deferred_status_needs_a_follow_up_covering_the_role() -> None:
    state = fusa(opened(), UserRole.GAS_SUPPLIER, status="deferred")
    position = security_position(state, UserRole.GAS_SUPPLIER)
    assert not position.met and "follow-up" in position.reason
    booked = apply(
        state,
        pc.BookPartySecurityAssessment(
            kind="follow_up", roles=[UserRole.GAS_SUPPLIER], assessment_on=date(2026, 8, 3)
        ),
    )
    waiting = security_position(booked, UserRole.GAS_SUPPLIER)
    assert not waiting.met and waiting.who == "User CIO" and waiting.assessment_id == "S2"


def test_bad_security_messages_are_refused_with_the_field_and_reason() -> None:
    state = opened()
    err = refusal(
        state,
        pc.BookPartySecurityAssessment(
            roles=[UserRole.ELECTRICITY_DISTRIBUTOR], assessment_on=date(2026, 9, 1)
        ),
    )
    assert err.field == "roles" and "Electricity Distributor" in err.message
    err = refusal(
        state,
        pc.SetPartySecurityStatus.model_validate({"assessment_id": "S1", "status": "approved"}),
    )
    assert err.field == "assessment_id" and "no assessment 'S1'" in err.message


# -- the profile and User ID ranges ---------------------------------------------------------


def test_a_profile_change_that_breaks_an_open_case_is_refused_naming_it() -> None:
    state = with_cases(opened(), UserRole.GAS_SUPPLIER)
    change = pc.ChangeProfile.model_validate({"party": profile(licences=["electricity_supply"])})
    err = refusal(state, change)
    assert isinstance(err, IneligibleError) and "uep-acme-gas_supplier" in err.message
    fine = pc.ChangeProfile.model_validate({"party": profile(supplies_domestic=False)})
    assert not apply(state, fine).profile.supplies_domestic


def test_ranges_may_not_overlap() -> None:
    state = apply(opened(), pc.AllocateUserIdRange(first=RANGE[0], last=RANGE[1]))
    err = refusal(state, pc.AllocateUserIdRange(first="90b3d51f30010080", last="90b3d51f30020000"))
    assert err.field == "first" and "overlaps" in err.message
    err = refusal(state, pc.AllocateUserIdRange(first="90b3d51f300200ff", last="90b3d51f30020000"))
    assert err.field == "last"


# -- the revision-3 role case ---------------------------------------------------------------


def party_case(role: UserRole = UserRole.GAS_SUPPLIER) -> CaseState:
    cmd = c.StartCase.model_validate(
        {"party": profile(), "role": str(role), "started_on": OPENED.isoformat()}
    )
    state = fold(start_case(cmd, f"uep-acme-{role}", TODAY, revision=3))
    assert state is not None and state.party_backed
    return state


def when(state: CaseState, command: c.Command, today: date = TODAY) -> list[ev.Event]:
    return decide(state, command, today, CAL)


def given(state: CaseState, events: list[ev.Event]) -> CaseState:
    folded = fold(events, state)
    assert folded is not None
    return folded


def told(state: CaseState, party: PartyState, version: int, on: date = TODAY) -> CaseState:
    position = position_for(party, state.role, on, version, "Test")
    return given(state, when(state, c.RecordPartyPosition(position=position), on))


def ready_party(*roles: UserRole) -> PartyState:
    state = apply(opened(), pc.AllocateUserIdRange(first=RANGE[0], last=RANGE[1]))
    state = credit_required(with_cases(state, *roles))
    state = apply(
        state, guarantee("50000", date(2026, 9, 30)), pc.AssessPartyCredit(effective_on=OPENED)
    )
    return fusa(state, *roles)


def test_a_party_backed_case_refuses_its_own_credit_and_security_naming_the_record() -> None:
    case = party_case()
    for command in (
        c.LodgeCreditSupport.model_validate(
            {"items": [{"form": "cash_deposit", "amount": "1000"}]}
        ),
        c.BookSecurityAssessment(assessment_on=date(2026, 9, 1)),
        c.NotifyCreditCoverRequirement(requirement=Decimal(1)),
    ):
        with pytest.raises(InvalidInputError) as caught:
            when(case, command)
        assert "uep-party-acme" in caught.value.message
    waiting = {(i.requirement, i.who) for i in outstanding(case)}
    assert ("credit", "SECAS") in waiting and ("security", "SECAS") in waiting


def test_the_position_is_recorded_once_and_names_the_record_event() -> None:
    party = ready_party(UserRole.GAS_SUPPLIER)
    case = told(party_case(), party, version=9)
    assert case.requirement_met("credit") and case.requirement_met("security")
    assert case.from_party is not None and case.from_party.version == 9
    again = position_for(party, UserRole.GAS_SUPPLIER, TODAY, 10, "Test")
    assert when(case, c.RecordPartyPosition(position=again)) == []
    older = position_for(opened(), UserRole.GAS_SUPPLIER, TODAY, 3, "Test")
    assert when(case, c.RecordPartyPosition(position=older)) == []


def test_user_ids_must_be_individual_and_in_the_partys_range() -> None:
    case = told(party_case(), ready_party(UserRole.GAS_SUPPLIER), version=9)
    with pytest.raises(InvalidInputError) as caught:
        when(case, c.ProposeUserId(user_id="90b3d51f30020000"))
    assert "outside" in caught.value.message and "90-B3-D5-1F-30-01-00-00" in caught.value.message
    with pytest.raises(InvalidInputError) as caught:
        when(case, c.ProposeUserId(user_id="91b3d51f30010001"))
    assert "group (multicast)" in caught.value.message
    with pytest.raises(OutOfStageError) as not_yet:
        when(party_case(), c.ProposeUserId(user_id="90b3d51f30010001"))
    assert "range" in not_yet.value.message


def test_a_role_may_hold_a_second_user_id() -> None:
    case = told(party_case(), ready_party(UserRole.GAS_SUPPLIER), version=9)
    first, second = "90b3d51f30010001", "90b3d51f30010002"
    for uid in (first, second):
        case = given(case, when(case, c.ProposeUserId(user_id=uid)))
        case = given(case, when(case, c.AcceptUserId(user_id=uid)))
    assert case.user_id.accepted == first and case.user_id.accepted_ids == [first, second]
    assert case.requirement_met("user_id")
    with pytest.raises(InvalidInputError):
        when(case, c.ProposeUserId(user_id=first))
    withdrawn = when(case, c.WithdrawCase(reason="leaving"))
    assert user_id_claims(case, withdrawn) == [("release", first), ("release", second)]


def test_completion_is_refused_on_a_day_the_guarantee_no_longer_counts() -> None:
    party = ready_party(UserRole.GAS_SUPPLIER)
    case = told(party_case(), party, version=9)
    assert case.from_party is not None
    line = case.from_party.credit.valid_until
    assert line == date(2026, 9, 1)
    verified = {"user_id", "uept", "security"}
    case = case.model_copy(
        update={
            "verified": dict.fromkeys(verified, TODAY),
            "user_id": case.user_id.model_copy(
                update={"status": "accepted", "accepted": "90b3d51f30010001"}
            ),
            "uept": case.uept.model_copy(update={"phase": "certified"}),
        }
    )
    before = when(case, c.VerifyEvidence(requirement="credit"), today=date(2026, 8, 31))
    assert [e.type for e in before] == ["EvidenceVerified", "UserEntryProcessCompleted"]
    with pytest.raises(OutOfStageError) as caught:
        when(case, c.VerifyEvidence(requirement="credit"), today=line)
    assert "no longer covers" in caught.value.message
    case = given(case, when(case, c.VerifyEvidence(requirement="credit"), today=date(2026, 8, 31)))
    assert case.status == "completed"


def test_a_lapse_told_to_an_open_case_withdraws_its_verified_credit() -> None:
    party = ready_party(UserRole.GAS_SUPPLIER)
    case = told(party_case(), party, version=9)
    case = given(case, when(case, c.VerifyEvidence(requirement="credit")))
    assert "credit" in case.verified
    line = date(2026, 9, 1)
    lapsed = fold_party(lapses_due(party, line), party)
    assert lapsed is not None
    case = told(case, lapsed, version=12, on=line)
    assert not case.requirement_met("credit") and "credit" not in case.verified
    credit_items = [i for i in outstanding(case) if i.requirement == "credit"]
    assert credit_items and "uep-party-acme" in credit_items[0].what
