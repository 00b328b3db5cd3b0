"""Who may say what: principals, the sender matrix, and the signed principal header.

A *principal* is an authenticated sender: its kind (the Party, the DCC, SECAS, the SEC Panel,
the User CIO, Ofgem, an auditor, an administrator, or the engine itself), its id (for a Party,
the party id) and a display name. SECAS, the Code Administrator, often records a fact another
sender told it ("the DCC emailed its acceptance"): then the principal is SECAS and
``on_behalf_of`` names the sender whose fact it is. The event's metadata keeps both.

The matrix says, for every message a role case or a Party record takes, which kinds may send
it in their own name, and whether SECAS may record it on their behalf. A Party may send only to
its own cases and its own record. The check is a pure function: the workflow runs it in an
update validator (not replayed) or, for a signal, in a local activity whose answer is recorded.

The header is HMAC-SHA256 over the principal, the workflow id and the message name, with a key
the deployment holds: a header captured from one message cannot be replayed onto another.
Only the standard library (``hmac``) is used: the codec is pure given the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.commands import MESSAGES
from domain.limits import Name
from domain.party.commands import PARTY_MESSAGES

HEADER = "uep-principal"
"""The Temporal header (and the name inside the payload) that carries a signed principal."""
HEADER_VERSION = 1
START = "start"
"""The message name a start of a role case is signed and checked under."""


class PrincipalKind(StrEnum):
    """The kinds of sender the SEC knows, plus the engine's own internal messages."""

    PARTY = "party"
    DCC = "dcc"
    SECAS = "secas"
    PANEL = "panel"
    USER_CIO = "user_cio"
    OFGEM = "ofgem"
    AUDITOR = "auditor"
    ADMIN = "admin"
    ENGINE = "engine"

    @property
    def label(self) -> str:
        """How people write it."""
        return _LABELS[self]


_LABELS = {
    PrincipalKind.PARTY: "Party",
    PrincipalKind.DCC: "DCC",
    PrincipalKind.SECAS: "SECAS",
    PrincipalKind.PANEL: "SEC Panel",
    PrincipalKind.USER_CIO: "User CIO",
    PrincipalKind.OFGEM: "Ofgem",
    PrincipalKind.AUDITOR: "Auditor",
    PrincipalKind.ADMIN: "Admin",
    PrincipalKind.ENGINE: "uep engine",
}

PUBLIC_KINDS: tuple[PrincipalKind, ...] = tuple(k for k in PrincipalKind if k != "engine")
"""The kinds a token or a signed header may name; ``engine`` is the workflows' own."""

PrincipalId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:@-]+$")]


class Sender(BaseModel):
    """Whose fact a message is: a kind, an id and a display name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PrincipalKind
    id: PrincipalId
    name: Name

    def describe(self) -> str:
        """``DCC (dcc)`` / ``Party acme``: for refusals and timelines."""
        return f"{self.kind.label} {self.id}" if self.kind == "party" else self.kind.label


class Principal(Sender):
    """An authenticated sender; SECAS may name the sender it records for."""

    on_behalf_of: Sender | None = None

    def display(self) -> str:
        """One line for the timeline: ``SECAS operator for DCC``."""
        if self.on_behalf_of is None:
            return self.name
        return f"{self.name} for {self.on_behalf_of.name}"

    def acting_kind(self) -> PrincipalKind:
        """The kind whose fact the message is."""
        return self.kind if self.on_behalf_of is None else self.on_behalf_of.kind


class Target(StrEnum):
    """Which workflow a message goes to."""

    CASE = "case"
    PARTY_RECORD = "party_record"


class MatrixRow(BaseModel):
    """One message: who may send it in their own name, and whether SECAS may record it."""

    model_config = ConfigDict(frozen=True)

    message: str
    target: Target
    senders: tuple[PrincipalKind, ...]
    secas_records: bool = True
    internal: bool = False
    why: str = ""


P, D, S, PN, CIO, OF, A = (
    PrincipalKind.PARTY,
    PrincipalKind.DCC,
    PrincipalKind.SECAS,
    PrincipalKind.PANEL,
    PrincipalKind.USER_CIO,
    PrincipalKind.OFGEM,
    PrincipalKind.ADMIN,
)

_CASE: dict[str, tuple[PrincipalKind, ...]] = {
    START: (P, S),
    "propose_user_id": (P,),
    "accept_user_id": (D,),
    "reject_user_id": (D,),
    "record_srept_completed": (D,),
    "give_uept_notice": (P,),
    "confirm_entry_criteria": (D,),
    "start_uept": (D,),
    "submit_test_completion_report": (P,),
    "confirm_report_receipt": (D,),
    "conclude_uept_review": (D,),
    "record_quality_gate_meeting": (D,),
    "issue_test_certificate": (D,),
    "book_security_assessment": (P,),
    "complete_security_assessment": (CIO,),
    "set_security_status": (PN,),
    "book_privacy_assessment": (P,),
    "complete_privacy_assessment": (CIO,),
    "set_privacy_status": (PN,),
    "notify_credit_cover": (D,),
    "lodge_credit_support": (P,),
    "assess_credit_support": (D,),
    "verify_evidence": (S,),
    "raise_dispute": (P,),
    "record_panel_determination": (PN,),
    "refer_dispute_to_ofgem": (P,),
    "record_ofgem_determination": (OF,),
    "withdraw": (P,),
    "correct_calendar": (S, A),
    "change_rules_version": (S,),
    "record_panel_information_paper": (S,),
}
_PARTY: dict[str, tuple[PrincipalKind, ...]] = {
    "change_profile": (S,),
    "allocate_user_id_range": (S,),
    "notify_party_credit_cover": (D,),
    "lodge_instrument": (P,),
    "withdraw_instrument": (P,),
    "replace_instrument": (P,),
    "report_instrument": (D,),
    "assess_party_credit": (D,),
    "book_party_security_assessment": (P,),
    "complete_party_security_assessment": (CIO,),
    "set_party_security_status": (PN,),
}
_INTERNAL_WHY = "a poke between workflows; its payload is never trusted, the receiver reads"


def _rows() -> dict[str, MatrixRow]:
    rows = [MatrixRow(message=n, target=Target.CASE, senders=k) for n, k in _CASE.items()]
    rows += [MatrixRow(message=n, target=Target.PARTY_RECORD, senders=k) for n, k in _PARTY.items()]
    rows += [
        MatrixRow(
            message="party_changed",
            target=Target.CASE,
            senders=(PrincipalKind.ENGINE,),
            secas_records=False,
            internal=True,
            why=_INTERNAL_WHY + " the position from the Party record's event stream",
        ),
        MatrixRow(
            message="role_case",
            target=Target.PARTY_RECORD,
            senders=(PrincipalKind.ENGINE,),
            secas_records=False,
            internal=True,
            why=_INTERNAL_WHY + " the case's facts from the case's event stream",
        ),
    ]
    return {r.message: r for r in rows}


SENDER_MATRIX: dict[str, MatrixRow] = _rows()
"""Every message by name (role-case and Party-record names do not clash)."""

EXEMPT_QUERIES: tuple[str, ...] = ("state", "party_facts", "position")
"""Queries read and change nothing: no sender check (production restricts who reaches
Temporal at all; docs/security.md)."""

MESSAGE_NAMES: frozenset[str] = frozenset({START, *MESSAGES, *PARTY_MESSAGES})
"""Every message a principal may send; each must have a row (tests/unit/test_principals.py)."""


class SenderRefused(Exception):
    """The matrix refuses this principal for this message; ``not_found`` hides another
    Party's case (the API answers 404, so a Party cannot learn which cases exist)."""

    def __init__(self, reason: str, *, not_found: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_found = not_found


def authorise(principal: Principal, message: str, party_id: str | None) -> Principal:
    """The principal as recorded if it may send ``message`` to the workflow of ``party_id``
    (SECAS recording another's fact gets ``on_behalf_of`` filled in); else SenderRefused."""
    row = SENDER_MATRIX.get(message)
    if row is None:
        raise SenderRefused(f"{message!r} has no row in the sender matrix")
    if row.internal:
        raise SenderRefused(f"{message} is internal to the engine")
    kind = principal.kind
    if kind == PrincipalKind.SECAS:
        return _secas(principal, row, party_id)
    if principal.on_behalf_of is not None:
        raise SenderRefused(f"only SECAS records on another's behalf, not the {kind.label}")
    if kind not in row.senders:
        raise SenderRefused(
            f"{message}: the {kind.label} may not send this; sent by {_who(row)}",
        )
    if kind == PrincipalKind.PARTY and principal.id != party_id:
        raise SenderRefused(f"{message}: not a case of Party {principal.id}", not_found=True)
    return principal


def _secas(principal: Principal, row: MatrixRow, party_id: str | None) -> Principal:
    behalf = principal.on_behalf_of
    if behalf is None:
        if PrincipalKind.SECAS in row.senders:
            return principal
        if not row.secas_records:
            raise SenderRefused(f"{row.message}: SECAS may not record this; sent by {_who(row)}")
        return principal.model_copy(update={"on_behalf_of": default_sender(row, party_id)})
    if not row.secas_records or behalf.kind not in row.senders:
        raise SenderRefused(
            f"{row.message}: SECAS may not record it for the {behalf.kind.label}; "
            f"sent by {_who(row)}"
        )
    if behalf.kind == PrincipalKind.PARTY and behalf.id != party_id:
        raise SenderRefused(f"{row.message}: Party {behalf.id} is not this case's Party")
    return principal


def default_sender(row: MatrixRow, party_id: str | None) -> Sender:
    """The sender SECAS records for when it names none: the message's first sender."""
    kind = row.senders[0]
    if kind == PrincipalKind.PARTY:
        pid = party_id or "unknown"
        return Sender(kind=kind, id=pid, name=f"Party {pid}")
    return Sender(kind=kind, id=str(kind), name=kind.label)


def _who(row: MatrixRow) -> str:
    who = " or ".join(k.label for k in row.senders)
    return f"{who} (or SECAS on their behalf)" if row.secas_records else who


def matrix_table() -> list[dict[str, Any]]:
    """The matrix as rows for `uep schema`, the operator guide and the API."""
    return [
        {
            "message": r.message,
            "target": str(r.target),
            "senders": [str(k) for k in r.senders],
            "secas_records_on_behalf": r.secas_records,
            "internal": r.internal,
            "note": r.why or ("a Party: its own only" if PrincipalKind.PARTY in r.senders else ""),
        }
        for r in SENDER_MATRIX.values()
    ]


def matrix_markdown() -> str:
    """The matrix as a Markdown table (the operator guide holds this text, tested)."""
    kinds = [k for k in PUBLIC_KINDS if k not in (PrincipalKind.AUDITOR,)]
    head = "| message | to | " + " | ".join(k.label for k in kinds) + " | SECAS for them |"
    rule = "|---|---|" + "---|" * len(kinds) + "---|"
    lines = [head, rule]
    for r in SENDER_MATRIX.values():
        if r.internal:
            continue
        marks = ["yes" if k in r.senders else "" for k in kinds]
        to = "case" if r.target == Target.CASE else "Party record"
        secas = "yes" if r.secas_records and PrincipalKind.SECAS not in r.senders else ""
        lines.append(f"| `{r.message}` | {to} | " + " | ".join(marks) + f" | {secas} |")
    return "\n".join(lines)


# -- the signed header ------------------------------------------------------------------


class SignedPrincipal(BaseModel):
    """The header's content: who, for which workflow and message, and the request id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: int = HEADER_VERSION
    principal: Principal
    workflow_id: str = Field(max_length=300)
    message: str = Field(max_length=100)
    request_id: str | None = Field(default=None, max_length=128)
    mac: str = Field(default="", max_length=128)


class HeaderRefused(Exception):
    """A header that is malformed or whose MAC does not verify."""


def _mac(key: bytes, body: SignedPrincipal) -> str:
    content = body.model_dump(mode="json", exclude={"mac"})
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def sign(
    key: bytes,
    principal: Principal,
    workflow_id: str,
    message: str,
    request_id: str | None = None,
) -> bytes:
    """The header's bytes (JSON) for one message to one workflow."""
    body = SignedPrincipal(
        principal=principal, workflow_id=workflow_id, message=message, request_id=request_id
    )
    signed = body.model_copy(update={"mac": _mac(key, body)})
    return signed.model_dump_json().encode()


def read_header(data: bytes) -> SignedPrincipal:
    """The header's content, unverified (replay: it was verified when it was accepted)."""
    try:
        return SignedPrincipal.model_validate_json(data)
    except ValidationError as err:
        raise HeaderRefused(f"malformed principal header ({err.error_count()} problems)") from None


def verify(key: bytes | None, data: bytes, workflow_id: str, message: str) -> SignedPrincipal:
    """The header's content if its MAC verifies for this workflow and message."""
    body = read_header(data)
    if key is None:
        raise HeaderRefused("this worker holds no principal key: signed headers cannot verify")
    if not hmac.compare_digest(body.mac, _mac(key, body)):
        raise HeaderRefused("the principal header is not validly signed")
    if body.workflow_id != workflow_id or body.message != message:
        raise HeaderRefused("the principal header was signed for another message")
    return body


CONSOLE_ID = "temporal-ui"
"""The principal id of a message with no header (the Temporal Web UI)."""


def console_principal() -> Principal:
    """A message with no header, from the Temporal Web UI (the operators' console)."""
    return Principal(kind=PrincipalKind.SECAS, id=CONSOLE_ID, name="SECAS (Temporal Web UI)")


def is_console(principal: Principal) -> bool:
    """Whether a principal is the console's: a message that came with no header."""
    return principal.kind == PrincipalKind.SECAS and principal.id == CONSOLE_ID


class Verdict(BaseModel):
    """The answer of a sender check: the principal as recorded, or why it was refused."""

    allowed: bool
    principal: Principal | None = None
    request_id: str | None = None
    refusal: str | None = None
    """``unauthenticated``, ``forbidden`` or ``not_found`` (another Party's case)."""
    reason: str = ""


def judge(
    key: bytes | None,
    allow_ui_writes: bool,
    header: bytes | None,
    workflow_id: str,
    message: str,
    party_id: str | None,
) -> Verdict:
    """Check one message: its header (or its absence) and the matrix for this Party's
    workflow. Pure given the key: the workflow calls it only where it is not replayed."""
    if header is None:
        if not allow_ui_writes:
            return Verdict(
                allowed=False,
                refusal="unauthenticated",
                reason=f"{message}: no principal header; this deployment takes no unsigned "
                "messages (the Web UI is read-only here): send it through the API or the uep "
                "tools",
            )
        principal, request_id = console_principal(), None
    else:
        try:
            body = verify(key, header, workflow_id, message)
        except HeaderRefused as err:
            return Verdict(allowed=False, refusal="unauthenticated", reason=f"{message}: {err}")
        principal, request_id = body.principal, body.request_id
    try:
        recorded = authorise(principal, message, party_id)
    except SenderRefused as err:
        code = "not_found" if err.not_found else "forbidden"
        return Verdict(allowed=False, refusal=code, reason=err.reason)
    return Verdict(allowed=True, principal=recorded, request_id=request_id)
