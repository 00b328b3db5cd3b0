"""User IDs: EUI-64 parsing and the sharing rule (SEC H1.4, H1.6; guidance s.4)."""

from __future__ import annotations

import string
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, field_validator

from domain.errors import InvalidInputError, UserIdConflictError
from domain.roles import SUPPLIER_ROLES, UserRole

_HEX = frozenset(string.hexdigits)
_SEPARATORS = {"-": "hyphen", " ": "space"}
_OCTETS = 8


def _fault(message: str) -> InvalidInputError:
    return InvalidInputError(message, field="user_id")


def _octet_count_fault(text: str, digits: int) -> InvalidInputError:
    if digits % 2:
        return _fault(f"{text!r} has {digits} hex digits; an EUI-64 has 16 (8 octets)")
    octets = digits // 2
    noun = "octet" if octets == 1 else "octets"
    return _fault(f"{text!r} has {octets} {noun}, an EUI-64 has 8")


def parse_user_id(text: str) -> str:
    """Normalise an EUI-64 User ID to 16 lower-case hex digits, or raise InvalidInputError.

    Accepted forms (domain.md "User IDs", the forms DCC tooling accepts): 16 hex digits with no
    separator (``90b3d51f30010000``), or 8 octets of two hex digits joined by one kind of
    separator, all hyphens or all single spaces (``90-B3-D5-1F-30-01-00-00``,
    ``90 B3 D5 1F 30 01 00 00``). Whitespace around the whole id (a copy-paste artefact) is
    ignored. The message names the fault: octet count, the non-hex character and its 1-based
    position, a leading or trailing separator, mixed or misplaced separators. The all-zero and
    all-FF ids are not usable ids (EUI-64 reserves them; domain.md).
    """
    if not isinstance(text, str):
        raise _fault(f"a User ID must be text, not {type(text).__name__}")
    offset = len(text) - len(text.lstrip())
    body = text.strip()
    if not body:
        raise _fault("the User ID is empty; an EUI-64 has 16 hex digits (8 octets)")
    if body[0] in _SEPARATORS:
        raise _fault(f"{body!r} starts with a separator ({_SEPARATORS[body[0]]})")
    if body[-1] in _SEPARATORS:
        raise _fault(f"{body!r} ends with a trailing separator ({_SEPARATORS[body[-1]]})")
    for index, char in enumerate(body):
        if char not in _HEX and char not in _SEPARATORS:
            raise _fault(
                f"{body!r} has a non-hex character {char!r} at position {index + offset + 1}; "
                "an EUI-64 uses only 0-9 and A-F, optionally separated by hyphens or spaces"
            )
    used = {char for char in body if char in _SEPARATORS}
    if not used:
        if len(body) != 2 * _OCTETS:
            raise _octet_count_fault(body, len(body))
        return _check_reserved(body.lower())
    if len(used) > 1:
        raise _fault(f"{body!r} mixes hyphens and spaces; use one kind of separator")
    (separator,) = used
    groups = body.split(separator)
    for number, group in enumerate(groups, start=1):
        if len(group) != 2:
            what = "an empty group (two separators in a row)" if not group else repr(group)
            raise _fault(
                f"{body!r} has misplaced separators: octet {number} is {what}; separators must "
                "split the id into octets of two hex digits"
            )
    if len(groups) != _OCTETS:
        raise _octet_count_fault(body, 2 * len(groups))
    return _check_reserved("".join(groups).lower())


def _check_reserved(normalised: str) -> str:
    if normalised == "0" * 16:
        raise _fault("the all-zero EUI-64 (00-00-00-00-00-00-00-00) is not a usable User ID")
    if normalised == "f" * 16:
        raise _fault("the all-FF EUI-64 (FF-FF-FF-FF-FF-FF-FF-FF) is not a usable User ID")
    return normalised


def format_user_id(normalised: str) -> str:
    """Display form of a User ID: upper-case octets joined by hyphens (90-B3-D5-1F-30-01-00-00).

    Accepts any form ``parse_user_id`` accepts, so a caller cannot format an invalid id.
    """
    value = parse_user_id(normalised).upper()
    return "-".join(value[i : i + 2] for i in range(0, len(value), 2))


class UserIdClaim(BaseModel):
    """One use of a User ID: the Party and the User Role it is proposed or accepted for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str
    party_id: str
    role: UserRole

    @field_validator("user_id")
    @classmethod
    def _normalise(cls, value: str) -> str:
        try:
            return parse_user_id(value)
        except InvalidInputError as exc:
            raise ValueError(exc.message) from exc


def roles_may_share(a: UserRole, b: UserRole) -> bool:
    """Whether one User ID may serve both roles ``a`` and ``b`` for the same Party.

    Guidance s.4 / H1.4: an id serves one role, save that Import Supplier, Export Supplier and
    Gas Supplier may share one. For the same role twice this returns False: a Party has one case
    (and one User ID) per role, so a second use of an id for the same role is not a sharing;
    ``check_user_id_claim`` accepts it only as the very same claim made again (idempotent).
    """
    return a != b and a in SUPPLIER_ROLES and b in SUPPLIER_ROLES


def check_user_id_claim(
    user_id: str, party_id: str, role: UserRole, existing: Iterable[UserIdClaim]
) -> None:
    """Raise UserIdConflictError if ``party_id`` may not use ``user_id`` for ``role``.

    An id belongs to one Party, and serves one role save for the supplier-role sharing
    (H1.4, guidance s.4; domain.md). Re-claiming the same id for the same Party and role is
    the same claim and passes. ``user_id`` may be in any accepted form (``parse_user_id``).
    """
    normalised = parse_user_id(user_id)
    shown = format_user_id(normalised)
    for claim in existing:
        if claim.user_id != normalised:
            continue
        if claim.party_id != party_id:
            raise UserIdConflictError(
                f"User ID {shown} already belongs to Party {claim.party_id} "
                f"({claim.role.label}); a User ID belongs to one Party (H1.4)",
                field="user_id",
            )
        if claim.role == role or roles_may_share(role, claim.role):
            continue
        raise UserIdConflictError(
            f"User ID {shown} is already used by Party {party_id} for {claim.role.label}; it "
            f"cannot also serve {role.label}: only Import Supplier, Export Supplier and Gas "
            "Supplier may share one User ID (H1.4, guidance s.4)",
            field="user_id",
        )
