"""The sender matrix, message by message, and the signed principal header."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.commands import MESSAGES
from domain.party.commands import PARTY_MESSAGES
from domain.principals import (
    MESSAGE_NAMES,
    PUBLIC_KINDS,
    SENDER_MATRIX,
    START,
    HeaderRefused,
    Principal,
    PrincipalKind,
    Sender,
    SenderRefused,
    authorise,
    console_principal,
    matrix_markdown,
    read_header,
    sign,
    verify,
)

GUIDE = Path(__file__).parents[2] / "docs" / "operator-guide.md"
KEY = b"k" * 32
PARTY = "acme"

# The rule the matrix must say, written out once more by hand: message -> senders.
EXPECTED: dict[str, set[str]] = {
    START: {"party", "secas"},
    "propose_user_id": {"party"},
    "accept_user_id": {"dcc"},
    "reject_user_id": {"dcc"},
    "record_srept_completed": {"dcc"},
    "give_uept_notice": {"party"},
    "confirm_entry_criteria": {"dcc"},
    "start_uept": {"dcc"},
    "submit_test_completion_report": {"party"},
    "confirm_report_receipt": {"dcc"},
    "conclude_uept_review": {"dcc"},
    "record_quality_gate_meeting": {"dcc"},
    "issue_test_certificate": {"dcc"},
    "book_security_assessment": {"party"},
    "complete_security_assessment": {"user_cio"},
    "set_security_status": {"panel"},
    "book_privacy_assessment": {"party"},
    "complete_privacy_assessment": {"user_cio"},
    "set_privacy_status": {"panel"},
    "notify_credit_cover": {"dcc"},
    "lodge_credit_support": {"party"},
    "assess_credit_support": {"dcc"},
    "verify_evidence": {"secas"},
    "raise_dispute": {"party"},
    "record_panel_determination": {"panel"},
    "refer_dispute_to_ofgem": {"party"},
    "record_ofgem_determination": {"ofgem"},
    "withdraw": {"party"},
    "correct_calendar": {"secas", "admin"},
    "change_rules_version": {"secas"},
    "record_panel_information_paper": {"secas"},
    "change_profile": {"secas"},
    "allocate_user_id_range": {"secas"},
    "notify_party_credit_cover": {"dcc"},
    "lodge_instrument": {"party"},
    "withdraw_instrument": {"party"},
    "replace_instrument": {"party"},
    "report_instrument": {"dcc"},
    "assess_party_credit": {"dcc"},
    "book_party_security_assessment": {"party"},
    "complete_party_security_assessment": {"user_cio"},
    "set_party_security_status": {"panel"},
}


def principal(kind: PrincipalKind, pid: str | None = None) -> Principal:
    ident = pid or (PARTY if kind == PrincipalKind.PARTY else str(kind))
    return Principal(kind=kind, id=ident, name=f"{kind.label} {ident}")


def test_every_message_has_a_row() -> None:
    missing = sorted(MESSAGE_NAMES - set(SENDER_MATRIX))
    assert not missing, f"messages with no row in the sender matrix: {missing}"
    assert set(MESSAGES) | set(PARTY_MESSAGES) | {START} == MESSAGE_NAMES


def test_the_hand_written_rule_covers_every_message() -> None:
    assert set(EXPECTED) == MESSAGE_NAMES


def test_internal_messages_are_the_engines_only() -> None:
    internal = {n for n, r in SENDER_MATRIX.items() if r.internal}
    assert internal == {"party_changed", "role_case"}
    for name in internal:
        for kind in PrincipalKind:
            with pytest.raises(SenderRefused):
                authorise(principal(kind), name, PARTY)


@pytest.mark.parametrize("message", sorted(EXPECTED))
@pytest.mark.parametrize("kind", PUBLIC_KINDS, ids=str)
def test_matrix_message_by_message(message: str, kind: PrincipalKind) -> None:
    allowed = str(kind) in EXPECTED[message]
    if allowed:
        assert authorise(principal(kind), message, PARTY).kind == kind
    elif kind == PrincipalKind.SECAS:
        # SECAS records another sender's fact: the event names both
        recorded = authorise(principal(kind), message, PARTY)
        assert recorded.on_behalf_of is not None
        assert str(recorded.on_behalf_of.kind) in EXPECTED[message]
    else:
        with pytest.raises(SenderRefused):
            authorise(principal(kind), message, PARTY)


def test_a_party_only_its_own_cases() -> None:
    with pytest.raises(SenderRefused) as refused:
        authorise(principal(PrincipalKind.PARTY, "other"), "propose_user_id", PARTY)
    assert refused.value.not_found


def test_a_party_cannot_accept_its_own_user_id_or_set_its_own_status() -> None:
    for message in ("accept_user_id", "set_security_status", "record_ofgem_determination"):
        with pytest.raises(SenderRefused):
            authorise(principal(PrincipalKind.PARTY), message, PARTY)


def test_secas_on_behalf_of_names_an_allowed_sender() -> None:
    dcc = Sender(kind=PrincipalKind.DCC, id="dcc", name="DCC")
    panel = Sender(kind=PrincipalKind.PANEL, id="panel", name="SEC Panel")
    secas = principal(PrincipalKind.SECAS)
    ok = authorise(secas.model_copy(update={"on_behalf_of": dcc}), "accept_user_id", PARTY)
    assert ok.display() == "SECAS secas for DCC"
    with pytest.raises(SenderRefused):
        authorise(secas.model_copy(update={"on_behalf_of": panel}), "accept_user_id", PARTY)
    other = Sender(kind=PrincipalKind.PARTY, id="other", name="Other")
    with pytest.raises(SenderRefused):
        authorise(secas.model_copy(update={"on_behalf_of": other}), "withdraw", PARTY)


def test_only_secas_records_on_behalf() -> None:
    dcc = Sender(kind=PrincipalKind.DCC, id="dcc", name="DCC")
    with pytest.raises(SenderRefused):
        authorise(
            principal(PrincipalKind.PANEL).model_copy(update={"on_behalf_of": dcc}),
            "accept_user_id",
            PARTY,
        )


def test_auditor_sends_nothing() -> None:
    for message in MESSAGE_NAMES:
        with pytest.raises(SenderRefused):
            authorise(principal(PrincipalKind.AUDITOR), message, PARTY)


def test_header_round_trip_and_forgeries() -> None:
    p = principal(PrincipalKind.DCC)
    data = sign(KEY, p, "uep-acme-gas_supplier", "accept_user_id", "req-1")
    body = verify(KEY, data, "uep-acme-gas_supplier", "accept_user_id")
    assert body.principal == p
    assert body.request_id == "req-1"
    with pytest.raises(HeaderRefused):
        verify(b"x" * 32, data, "uep-acme-gas_supplier", "accept_user_id")
    with pytest.raises(HeaderRefused):
        verify(KEY, data, "uep-acme-gas_supplier", "reject_user_id")
    with pytest.raises(HeaderRefused):
        verify(KEY, data, "uep-other-gas_supplier", "accept_user_id")
    with pytest.raises(HeaderRefused):
        verify(None, data, "uep-acme-gas_supplier", "accept_user_id")
    forged = read_header(data).model_copy(update={"principal": principal(PrincipalKind.PANEL)})
    with pytest.raises(HeaderRefused):
        verify(KEY, forged.model_dump_json().encode(), "uep-acme-gas_supplier", "accept_user_id")
    with pytest.raises(HeaderRefused):
        read_header(b"not json")


def test_console_is_secas() -> None:
    assert console_principal().kind == PrincipalKind.SECAS


def test_the_operator_guide_prints_the_matrix() -> None:
    assert matrix_markdown() in GUIDE.read_text()
