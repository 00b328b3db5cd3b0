"""After completion: SECAS's notices (H1.11, H1.12), each recorded once, the Panel's paper, and
credit re-checked on the day a Party-backed case would verify it. Literal dates."""

from __future__ import annotations

from datetime import date

import pytest

from domain import commands as c
from domain import events as ev
from domain.errors import InvalidInputError, OutOfStageError
from domain.party.position import CreditPosition, SecurityPosition
from domain.state import CaseState, PartyTerms
from tests.unit.test_decider import START, TODAY, given, started, when
from tests.unit.test_refusals import completed


def test_a_notice_is_recorded_once_per_recipient_before_revision_2() -> None:
    s = completed()
    [notified] = when(s, c.RecordCompletionNotice(recipient="party"))
    assert notified == ev.CompletionNotified(effective_on=TODAY, recipient="party")
    s = given(s, notified)
    assert when(s, c.RecordCompletionNotice(recipient="party")) == []
    assert "party" in s.notified


def test_a_queued_notice_is_queued_once_and_delivered_once() -> None:
    s = completed()
    [queued] = when(s, c.RecordNoticeQueued(recipient="party", notice_id="n1"))
    assert queued == ev.CompletionNoticeQueued(
        effective_on=TODAY, recipient="party", notice_id="n1"
    )
    s = given(s, queued)
    assert when(s, c.RecordNoticeQueued(recipient="party", notice_id="n2")) == []
    deliver = c.RecordNoticeDelivered(
        recipient="party", notice_id="n1", channel="file", reference="r"
    )
    [delivered] = when(s, deliver)
    assert delivered == ev.CompletionNoticeDelivered(
        effective_on=TODAY, recipient="party", notice_id="n1", channel="file", reference="r"
    )
    s = given(s, delivered)
    assert when(s, deliver) == []
    with pytest.raises(OutOfStageError, match="no notice n2 to the party is queued"):
        when(s, c.RecordNoticeDelivered(recipient="party", notice_id="n2", channel="file"))
    with pytest.raises(OutOfStageError, match="no notice n1 to the dcc is queued"):
        when(s, c.RecordNoticeDelivered(recipient="dcc", notice_id="n1", channel="file"))


def test_the_panel_is_informed_by_a_paper_dated_at_its_meeting() -> None:
    paper = c.RecordPanelInformationPaper(reference="SECP/9", effective_on=date(2026, 7, 1))
    [informed] = when(completed(), paper)
    assert informed == ev.PanelInformedByPaper(effective_on=date(2026, 7, 1), reference="SECP/9")
    s = given(completed(), informed)
    assert (s.panel_paper_on, s.panel_paper_reference) == (date(2026, 7, 1), "SECP/9")
    with pytest.raises(InvalidInputError, match="before the UEP completed on 2026-06-01"):
        when(completed(), c.RecordPanelInformationPaper(effective_on=date(2026, 5, 29)))


def party_backed(credit: CreditPosition) -> CaseState:
    terms = PartyTerms(
        record="uep-party-acme",
        version=2,
        credit=credit,
        security=SecurityPosition(met=True, reason="s"),
        recorded_on=START,
    )
    return given(started(revision=3)).model_copy(update={"from_party": terms})


def test_a_party_backed_case_verifies_credit_only_while_it_still_counts() -> None:
    guarantee = CreditPosition(met=True, reason="r", valid_until=date(2026, 9, 1))
    s = party_backed(guarantee)
    ok = when(s, c.VerifyEvidence(requirement="credit", effective_on=date(2026, 8, 31)))
    assert [e.type for e in ok] == ["EvidenceVerified"]
    with pytest.raises(OutOfStageError) as refused:
        when(s, c.VerifyEvidence(requirement="credit", effective_on=date(2026, 9, 1)))
    assert refused.value.message == (
        "the Party's Credit Support no longer covers its requirement on 2026-09-01 (it held "
        "until 2026-09-01: a Bank Guarantee needs a month to run)"
    )
    open_ended = party_backed(CreditPosition(met=True, reason="r"))
    assert when(open_ended, c.VerifyEvidence(requirement="credit"))[0].type == "EvidenceVerified"
