"""How the workflow refuses: the ``ApplicationError`` types a sender sees, defined once.

A refusal is an answer, not a crash: the data converter sends these without a stack trace.
Domain refusals carry the domain error's own code (``invalid_input``, ``out_of_stage``, ...);
the workflow adds the few that come from outside the domain.
"""

from __future__ import annotations

from enum import StrEnum

from temporalio.exceptions import ApplicationError

from domain.errors import DomainError


class Refusal(StrEnum):
    """Refusals the workflow itself raises (the domain's have their own codes)."""

    INVALID_INPUT = "invalid_input"
    """The payload does not fit its message, or the case could not open."""

    USER_ID_CONFLICT = "user_id_conflict"
    """The event store refused a User ID claim (H1.4): another Party or role holds it."""

    STORE_REFUSED = "store_refused"
    """The event store refused the append (another writer moved the stream on)."""

    NOT_READY = "not_ready"
    """The case is not ready for messages yet."""

    DUPLICATE_CONFLICT = "duplicate_conflict"
    """A message id already used for a different message."""

    UNSTORABLE = "unstorable"
    """The event store can never accept what the message would record."""

    UNAUTHENTICATED = "unauthenticated"
    """No principal header where one is required, or one that does not verify."""

    FORBIDDEN = "forbidden"
    """The sender matrix does not allow this principal to send this message."""

    NOT_FOUND = "not_found"
    """Another Party's case or record: a Party cannot learn which cases exist."""

    INTERNAL = "internal_error"
    """Something unforeseen; the message changed nothing and the case carries on."""


def _codes(cls: type[DomainError]) -> set[str]:
    return {cls.code}.union(*(_codes(sub) for sub in cls.__subclasses__()))


REFUSAL_TYPES: frozenset[str] = frozenset({*Refusal, *_codes(DomainError)})
"""Every ApplicationError type that means "the input was refused", not "something broke"."""


REFUSAL_MAX = 2000
"""Characters in a refusal: it travels back through Temporal and must stay small."""


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked when cut (never echo a huge value back)."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "\u2026"


def refusal(message: str, kind: Refusal, details: object | None = None) -> ApplicationError:
    """A non-retryable refusal of the given kind, its message bounded."""
    args = () if details is None else (details,)
    return ApplicationError(shorten(message, REFUSAL_MAX), *args, type=kind, non_retryable=True)


def domain_refusal(err: DomainError) -> ApplicationError:
    """A domain refusal as the error a sender sees: its code, the field and what the case
    waits for (all bounded)."""
    details = {
        "field": err.field,
        "waiting_for": [shorten(w, 300) for w in err.waiting_for[:20]],
    }
    return ApplicationError(
        shorten(str(err), REFUSAL_MAX), details, type=err.code, non_retryable=True
    )
