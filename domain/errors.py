"""Domain errors: each says what is wrong and, where it helps, what the case is waiting for."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the User Entry Process refuses a command or an input.

    ``field`` names the offending input field when there is one; ``waiting_for`` lists what the
    case is waiting for instead, so an operator knows what would be accepted.
    """

    code = "domain_error"

    def __init__(
        self, message: str, *, field: str | None = None, waiting_for: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.waiting_for = list(waiting_for or [])

    def __str__(self) -> str:
        text = f"{self.field}: {self.message}" if self.field else self.message
        if self.waiting_for:
            text += " The case is waiting for: " + "; ".join(self.waiting_for) + "."
        return text


class InvalidInputError(DomainError):
    """An input value is malformed (a bad EUI-64, a negative amount, an unknown status)."""

    code = "invalid_input"


class IneligibleError(DomainError):
    """The Party lacks the licence or registration a User Role needs (guidance s.3)."""

    code = "ineligible"


class OutOfStageError(DomainError):
    """The command does not fit the case's current stage."""

    code = "out_of_stage"


class UserIdConflictError(DomainError):
    """A User ID claim breaks the sharing rule (H1.4, guidance s.4)."""

    code = "user_id_conflict"


class CalendarRangeError(DomainError):
    """A date falls outside the years a Working-Day calendar snapshot covers."""

    code = "calendar_range"
