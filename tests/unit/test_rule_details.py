"""Rule details the full mutation run found unchecked: User ID range edges and the group bit,
a claim beside the same claim, when an instrument stops counting and until when support holds,
the latest security decision, the monthly review, lapses, the Party's mandate standing, the words
and fields of credit and eligibility refusals, and the UEPT notice's refusal. Literal dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain import commands as c
from domain import events as ev
from domain.credit import CreditSupportItem, assess_credit_support, refusal_reason, value_at_risk
from domain.errors import DomainError, IneligibleError, InvalidInputError
from domain.mandates import CaseMandate, Mandate, MandateStatus, party_mandate_status
from domain.party import commands as pc
from domain.party import events as pe
from domain.party.state import (
    PartyState,
    credit_position,
    lapses_due,
    position_for,
    review_due_on,
    security_position,
    stops_counting_on,
)
from domain.roles import PartyProfile, UserRole, check_eligibility
from domain.userid import claim_refusal, in_ranges, is_group_address
from tests.unit.test_decider import START, TODAY, given, when, with_id_accepted
from tests.unit.test_party_record import OPENED, apply, guarantee, opened
from tests.unit.test_party_rules import cash, decided, required

RANGE = [("90b3d51f30010010", "90b3d51f300100ff")]


def test_a_range_includes_its_first_and_last_id_and_nothing_beyond() -> None:
    assert in_ranges("90b3d51f30010010", RANGE) and in_ranges("90b3d51f300100ff", RANGE)
    assert not in_ranges("90b3d51f3001000f", RANGE) and not in_ranges("90b3d51f30010100", RANGE)
    assert in_ranges("0000000000000020", [("0000000000000011", "0000000000000030")])
    assert not in_ranges("0000000000000010", [("0000000000000011", "0000000000000030")])


def test_the_group_bit_is_read_from_the_first_octet_in_hex() -> None:
    assert is_group_address("0b00000000000001")  # 0x0b: odd
    assert not is_group_address("0a00000000000001")
    assert not is_group_address("90b3d51f30010000")


def test_a_rival_holder_is_found_after_the_same_claim() -> None:
    holders = [("acme", "gas_supplier"), ("rival", "gas_supplier")]
    refusal = claim_refusal("90b3d51f30010000", "acme", "gas_supplier", holders)
    assert refusal is not None and "held by Party 'rival'" in refusal


def test_the_role_conflict_refusal_in_full() -> None:
    refusal = claim_refusal("90b3d51f30010000", "acme", "other_user", [("acme", "gas_supplier")])
    assert refusal == (
        "User ID 90-B3-D5-1F-30-01-00-00 is held by Party 'acme' as gas_supplier; it cannot also "
        "serve other_user: only import_supplier, export_supplier and gas_supplier may share one "
        "User ID (H1.4, User Entry Process Guidance v1.3 s.4)"
    )


# -- the Party's credit ------------------------------------------------------------------------


def letter_of_credit(ref: str, amount: str, expires_on: date) -> pc.LodgeInstrument:
    return pc.LodgeInstrument.model_validate(
        {
            "reference": ref,
            "instrument": {"form": "letter_of_credit", "amount": amount, "expires_on": expires_on},
            "effective_on": OPENED,
        }
    )


def test_anything_but_a_guarantee_stops_counting_the_day_after_it_expires() -> None:
    s = apply(opened(), letter_of_credit("LC-1", "10000", date(2026, 9, 30)))
    assert stops_counting_on(s.instruments[0]) == date(2026, 10, 1)


def test_support_holds_while_what_still_counts_covers_the_requirement_exactly() -> None:
    # 50,000 required: cash 10,000 (open-ended), LC 10,000 to 30 Sep, guarantee 40,000 to 31 Dec.
    # When the LC stops (1 Oct), 50,000 still counts; when the guarantee stops (1 Dec), 10,000.
    s = apply(
        required(),
        cash("CASH-1", "10000"),
        letter_of_credit("LC-1", "10000", date(2026, 9, 30)),
        guarantee("40000", date(2026, 12, 31)),
        pc.AssessPartyCredit(effective_on=OPENED),
    )
    position = credit_position(s, TODAY)
    assert position.met and position.valid_until == date(2026, 12, 1)


def test_the_latest_decided_assessment_covering_a_role_decides() -> None:
    s = apply(
        decided(),  # S1 Deferred on 1 June
        pc.BookPartySecurityAssessment(
            kind="follow_up", roles=[UserRole.GAS_SUPPLIER], assessment_on=date(2026, 6, 1)
        ),
        pc.CompletePartySecurityAssessment(assessment_id="S2", effective_on=date(2026, 6, 1)),
        pc.SetPartySecurityStatus.model_validate(
            {"assessment_id": "S2", "status": "approved", "effective_on": date(2026, 6, 1)}
        ),
    )
    position = security_position(s, UserRole.GAS_SUPPLIER)
    assert (position.met, position.assessment_id, position.status) == (True, "S2", "approved")
    deferred = security_position(decided(), UserRole.GAS_SUPPLIER)
    assert (deferred.assessment_id, deferred.status) == ("S1", "deferred")


def test_a_review_is_due_while_support_is_held_even_if_none_is_required() -> None:
    notified = pc.NotifyPartyCreditCover(
        requirement=Decimal(100), threshold=Decimal(2000), effective_on=OPENED
    )
    assert review_due_on(apply(opened(), notified)) is None
    assert review_due_on(apply(opened(), cash(), notified)) == date(2026, 4, 2)


def test_every_held_instrument_that_stopped_counting_lapses_in_turn() -> None:
    s = apply(
        opened(),
        guarantee("50000", date(2027, 6, 30)),  # lodged first, still counting
        letter_of_credit("LC-1", "10000", date(2026, 4, 30)),
    )
    assert lapses_due(s, TODAY) == [
        pe.InstrumentStoppedCounting(
            effective_on=date(2026, 5, 1),
            reference="LC-1",
            reason="Letter of Credit of GBP 10,000.00: expired on 2026-04-30",
        )
    ]


def test_a_position_names_the_records_event_only_when_given() -> None:
    s: PartyState = opened()
    assert position_for(s, UserRole.GAS_SUPPLIER, TODAY, 3).party_event == ""
    assert position_for(s, UserRole.GAS_SUPPLIER, TODAY, 3, "PartyRecordOpened").party_event == (
        "PartyRecordOpened"
    )


def test_the_partys_mandate_standing_counts_derogated_cases_and_completions() -> None:
    derogated = CaseMandate(mandate=Mandate(due=None, source="s", derogated=True))
    assert party_mandate_status([derogated], TODAY) == (MandateStatus.DEROGATED, None)
    met = CaseMandate(
        mandate=Mandate(due=date(2027, 1, 1), source="s"), completed_on=date(2026, 1, 1)
    )
    assert party_mandate_status([met], TODAY) == (MandateStatus.MET, date(2027, 1, 1))
    on_track = CaseMandate(
        mandate=Mandate(due=date(2027, 1, 1), source="s"),
        forecast_completion_on=date(2026, 12, 1),
    )
    assert party_mandate_status([on_track], TODAY) == (MandateStatus.ON_TRACK, date(2027, 1, 1))
    none = CaseMandate(mandate=Mandate(due=None, source="s"))
    assert party_mandate_status([none], TODAY) == (MandateStatus.NO_MANDATE, None)


# -- words and fields of refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field", "message"),
    [
        (
            lambda: value_at_risk(Decimal(1), Decimal(-1)),
            "likely_costs",
            "-1 is negative; it must be zero or more",
        ),
        (
            lambda: value_at_risk(Decimal(1), Decimal(1), "x"),  # type: ignore[arg-type]
            "working_capital_adjustment",
            "'x' is not a number",
        ),
        (
            lambda: value_at_risk(Decimal(1), Decimal(1), Decimal(0)),
            "working_capital_adjustment",
            "working capital adjustment 0 must be above zero",
        ),
        (
            lambda: assess_credit_support([], Decimal(-1), date(2026, 1, 1)),
            "requirement",
            "-1 is negative; it must be zero or more",
        ),
    ],
)
def test_credit_arithmetic_refuses_naming_the_input(call: object, field: str, message: str) -> None:
    assert callable(call)
    with pytest.raises(DomainError) as refused:
        call()
    assert (refused.value.field, refused.value.message) == (field, message)


def test_a_refused_guarantee_is_described_with_and_without_its_provider() -> None:
    item = CreditSupportItem(form="bank_guarantee", amount=Decimal(1), expires_on=date(2026, 1, 20))
    tail = (
        ": expires on 2026-01-20, 19 days after 2026-01-01; a Bank Guarantee needs at least one "
        "month left until it expires (SEC Appendix A)"
    )
    assert refusal_reason(item, date(2026, 1, 1)) == "Bank Guarantee of GBP 1.00" + tail
    named = item.model_copy(update={"provider": "Big Bank"})
    assert (
        refusal_reason(named, date(2026, 1, 1)) == "Bank Guarantee of GBP 1.00 from Big Bank" + tail
    )


def test_ineligibility_names_what_the_party_holds() -> None:
    party = PartyProfile.model_validate(
        {
            "party_id": "p",
            "party_name": "P",
            "category": "other_sec_party",
            "licences": ["gas_supply", "gas_transportation"],
        }
    )
    with pytest.raises(IneligibleError) as refused:
        check_eligibility(party, UserRole.ELECTRICITY_DISTRIBUTOR)
    assert refused.value.message == (
        "Electricity Distributor needs an electricity distribution licence (User Entry Process "
        "Guidance v1.3, s.3); P holds: gas supply, gas transportation"
    )


# -- the UEPT notice ---------------------------------------------------------------------------


def test_a_short_notice_is_refused_naming_the_earliest_start() -> None:
    s = with_id_accepted()
    with pytest.raises(InvalidInputError) as refused:
        when(s, c.GiveUeptNotice(planned_start_on=date(2025, 8, 1), effective_on=START))
    assert refused.value.field == "planned_start_on"
    assert refused.value.message == (
        "2025-08-01 is less than 60 Working Days after the notice of 2025-06-02; the earliest "
        "start is 2025-08-26 (User Entry Process Guidance v1.3, s.5.2)"
    )


def test_a_notice_may_be_given_again_and_criteria_confirmed_after_it() -> None:
    s = with_id_accepted()
    s = given(s, when(s, c.GiveUeptNotice(planned_start_on=date(2025, 9, 1), effective_on=START)))
    again = when(s, c.GiveUeptNotice(planned_start_on=date(2025, 10, 1), effective_on=START))
    assert [e.type for e in again] == ["UeptNoticeGiven"]
    criteria = when(s, c.ConfirmEntryCriteria(criteria=["accession_confirmed"]))
    assert [e.type for e in criteria] == ["UeptEntryCriteriaConfirmed"]


def test_uept_starts_in_cycle_1_and_not_before_its_earliest_day() -> None:
    s = with_id_accepted()
    s = given(
        s,
        ev.UeptNoticeGiven(
            effective_on=START,
            planned_start_on=date(2025, 9, 1),
            earliest_start_on=date(2025, 8, 26),
        ),
        ev.UeptEntryCriteriaConfirmed(effective_on=START, criteria=list(ev.ENTRY_CRITERIA)),
    )
    assert when(s, c.StartUept(effective_on=date(2025, 8, 26))) == [
        ev.UeptStarted(effective_on=date(2025, 8, 26), cycle=1)
    ]
    with pytest.raises(InvalidInputError) as refused:
        when(s, c.StartUept(effective_on=date(2025, 8, 25)))
    assert refused.value.field == "effective_on"
    assert refused.value.message == (
        "UEPT may not start before 2025-08-26, 60 Working Days after the notice of 2025-06-02 "
        "(User Entry Process Guidance v1.3, s.5.2)"
    )
