"""Input limits (domain.limits), the words of a refusal (DomainError), and the effective-date and
planned-date rules every command shares (domain.handlers.common). Literal dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain import commands as c
from domain import events as ev
from domain.decider import start_case, user_id_claims
from domain.errors import DomainError, InvalidInputError, OutOfStageError
from domain.handlers.common import effective_date, not_before, not_too_far_ahead
from domain.roles import UserRole
from tests.unit.test_decider import START, TODAY, UID, given, party, started, when
from tests.unit.test_refusals import rev3


def test_a_refusal_reads_field_message_and_what_the_case_waits_for() -> None:
    err = DomainError("it is wrong", field="user_id", waiting_for=["DCC: answer", "Party: act"])
    assert str(err) == "user_id: it is wrong The case is waiting for: DCC: answer; Party: act."
    assert err.args == ("it is wrong",)
    assert str(DomainError("plain")) == "plain"
    assert DomainError("x").waiting_for == [] and DomainError("x").field is None
    assert str(OutOfStageError("late", waiting_for=["SECAS: verify"])) == (
        "late The case is waiting for: SECAS: verify."
    )


@pytest.mark.parametrize(
    ("notes", "error"),
    [
        ("a\x00b", "must not contain control characters"),
        ("a\u202eb", "must not contain bidirectional override characters"),
        ("   ", "must not be blank"),
    ],
)
def test_free_text_is_refused_with_its_reason(notes: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        c.ConcludeUeptReview(outcome="concluded", notes=notes)


def test_optional_text_and_names_may_be_empty_but_not_blank_and_names_are_one_line() -> None:
    assert c.ConcludeUeptReview(outcome="concluded", notes="").notes == ""
    assert c.ConcludeUeptReview(outcome="concluded", notes="line 1\n\tline 2").notes == (
        "line 1\n\tline 2"
    )
    assert c.RecordPanelInformationPaper(reference="").reference == ""
    assert c.RecordPanelInformationPaper(reference="  SECP/1 ").reference == "SECP/1"
    with pytest.raises(ValidationError, match="must be one line"):
        c.RecordPanelInformationPaper(reference="SECP\n1")
    with pytest.raises(ValidationError, match="must not be blank"):
        c.RecordPanelInformationPaper(reference=" ")
    assert c.IssueTestCompletionCertificate(certificate_ref=" TCC-1 ").certificate_ref == "TCC-1"


def test_dates_are_iso_days_between_2013_and_2099() -> None:
    assert c.RecordSreptCompleted(effective_on="2013-01-01").effective_on == date(2013, 1, 1)
    assert c.RecordSreptCompleted(effective_on=date(2099, 12, 31)).effective_on == date(
        2099, 12, 31
    )
    with pytest.raises(ValidationError, match="must lie between 2013-01-01 and 2099-12-31"):
        c.RecordSreptCompleted(effective_on="2012-12-31")
    with pytest.raises(ValidationError, match="must lie between 2013-01-01 and 2099-12-31"):
        c.RecordSreptCompleted(effective_on="2100-01-01")
    with pytest.raises(ValidationError, match="must be a date written YYYY-MM-DD"):
        c.RecordSreptCompleted.model_validate({"effective_on": "2025-06-02T00:00:00"})
    with pytest.raises(ValidationError, match="must be a date written YYYY-MM-DD"):
        c.RecordSreptCompleted.model_validate({"effective_on": 20250602})


def test_amounts_are_plain_decimals_and_never_booleans() -> None:
    cmd = c.NotifyCreditCoverRequirement.model_validate({"requirement": "25000.50"})
    assert cmd.requirement == Decimal("25000.50")
    assert (
        c.NotifyCreditCoverRequirement.model_validate({"requirement": 25000}).requirement == 25000
    )
    with pytest.raises(ValidationError, match="not true or false"):
        c.NotifyCreditCoverRequirement.model_validate({"requirement": True})
    for bad in ("2.5e4", "25,000", "25000.505", "+1"):
        with pytest.raises(ValidationError, match="digits 0-9 and at most one point"):
            c.NotifyCreditCoverRequirement.model_validate({"requirement": bad})


# -- effective and planned dates ---------------------------------------------------------------


def test_an_effective_date_defaults_to_today_and_is_never_in_the_future() -> None:
    assert effective_date(None, TODAY, None) == TODAY
    assert effective_date(TODAY, TODAY, TODAY) == TODAY  # the same day is neither
    with pytest.raises(InvalidInputError) as future:
        effective_date(date(2026, 11, 24), TODAY, None)
    assert (future.value.field, future.value.message) == (
        "effective_on",
        "2026-11-24 is in the future (today is 2026-11-23); record a fact once it has happened",
    )
    with pytest.raises(InvalidInputError) as early:
        effective_date(date(2025, 6, 1), TODAY, START)
    assert (early.value.field, early.value.message) == (
        "effective_on",
        "2025-06-01 is before the case started on 2025-06-02",
    )


def test_a_fact_follows_the_fact_it_answers() -> None:
    not_before(START, START, "x")
    not_before(START, None, "x")
    with pytest.raises(InvalidInputError) as refused:
        not_before(date(2025, 6, 1), START, "the report was submitted")
    assert (refused.value.field, refused.value.message) == (
        "effective_on",
        "2025-06-01 is before the report was submitted on 2025-06-02",
    )


def test_a_planned_date_may_be_five_years_ahead_and_not_a_day_more() -> None:
    not_too_far_ahead(date(2030, 6, 2), START, "planned_start_on")
    with pytest.raises(InvalidInputError) as refused:
        not_too_far_ahead(date(2030, 6, 3), START, "planned_start_on")
    assert (refused.value.field, refused.value.message) == (
        "planned_start_on",
        "2030-06-03 is more than 5 years after 2025-06-02; check the date",
    )
    leap = date(2028, 2, 29)
    not_too_far_ahead(date(2033, 2, 28), leap, "assessment_on")  # 29 Feb: the 28th, five on
    with pytest.raises(InvalidInputError, match="2033-03-01 is more than 5 years after 2028-02-29"):
        not_too_far_ahead(date(2033, 3, 1), leap, "assessment_on")


def test_facts_before_the_sec_without_an_accession_date() -> None:
    s = given(started())  # no accession date recorded: the earliest is the SEC's 2013 start
    [srept] = when(s, c.RecordSreptCompleted(effective_on=date(2013, 1, 1)), TODAY)
    assert srept.effective_on == date(2013, 1, 1) and srept.reported_after_the_fact
    early = c.ProposeUserId(user_id=UID, effective_on=date(2013, 1, 1))
    [proposed] = when(s, early)
    assert proposed.reported_after_the_fact and proposed.effective_on == date(2013, 1, 1)
    on_the_day = when(s, c.ProposeUserId(user_id=UID, effective_on=START))
    assert not on_the_day[0].reported_after_the_fact


def test_a_case_is_refused_once_closed_with_the_day_it_closed() -> None:
    done = given(started()).model_copy(update={"status": "completed", "completed_on": START})
    with pytest.raises(OutOfStageError, match="the case completed on 2025-06-02; nothing more"):
        when(done, c.RecordSreptCompleted())
    later = c.RecordPanelInformationPaper(effective_on=date(2025, 6, 1))
    with pytest.raises(InvalidInputError, match="before the UEP completed on 2025-06-02"):
        when(done, later)


def test_a_case_records_the_revision_its_rules_and_its_mandate() -> None:
    cmd = c.StartCase(party=party(), role=UserRole.GAS_SUPPLIER, started_on=START)
    [old] = start_case(cmd, "uep-acme-gas_supplier", TODAY, 1)
    assert isinstance(old, ev.CaseStarted)
    assert (old.revision, old.rules_version) == (1, "guidance-2018")  # revision 1: always 2018
    assert old.mandate_source.startswith("User Entry Process Guidance v1.3 (June 2018), s.2.2")
    cme = c.StartCase(
        party=party(controlled_market_entry=True), role=UserRole.GAS_SUPPLIER, started_on=START
    )
    [derogated] = start_case(cme, "uep-acme-gas_supplier", TODAY, 2)
    assert isinstance(derogated, ev.CaseStarted) and derogated.mandate_derogated
    export = c.StartCase(party=party(), role=UserRole.EXPORT_SUPPLIER, started_on=START)
    [e1] = start_case(export, "uep-acme-export_supplier", TODAY, 1)
    [e2] = start_case(export, "uep-acme-export_supplier", TODAY, 2)
    assert isinstance(e1, ev.CaseStarted) and isinstance(e2, ev.CaseStarted)
    assert (e1.mandate_due_on, e2.mandate_due_on) == (date(2017, 11, 25), None)


def test_withdrawing_a_party_backed_case_releases_every_accepted_id_and_a_pending_one() -> None:
    second = "90b3d51f30010002"
    s = given(
        rev3(),
        ev.UserIdProposed(effective_on=START, user_id=UID),
        ev.UserIdAccepted(effective_on=START, user_id=UID),
        ev.UserIdProposed(effective_on=START, user_id=second),
    )
    withdrawn: list[ev.Event] = [ev.CaseWithdrawn(effective_on=START, reason="x")]
    assert user_id_claims(s, withdrawn) == [("release", UID), ("release", second)]
    rejected = given(s, ev.UserIdRejected(effective_on=START, user_id=second, reason="r"))
    assert user_id_claims(rejected, withdrawn) == [("release", UID)]
    both: list[ev.Event] = [
        ev.UserIdProposed(effective_on=START, user_id="90b3d51f30010003"),
        *withdrawn,
    ]
    assert user_id_claims(rejected, both) == [
        ("claim", "90b3d51f30010003"),
        ("release", UID),
    ]
