"""User IDs: EUI-64 parsing and the sharing rule (SEC H1.4, H1.6; User Entry Process Guidance
v1.3 (June 2018) s.4)."""

from __future__ import annotations

import string
from collections.abc import Iterable

from domain.errors import InvalidInputError
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

    Accepted forms (those DCC tooling accepts; User Entry Process Guidance v1.3, s.4): 16 hex
    digits with no separator (``90b3d51f30010000``), or 8 octets of two hex digits joined by
    one kind of separator, all hyphens or all single spaces (``90-B3-D5-1F-30-01-00-00``,
    ``90 B3 D5 1F 30 01 00 00``). Whitespace around the whole id (a copy-paste artefact) is
    ignored. The message names the fault: octet count, the non-hex character and its 1-based
    position, a leading or trailing separator, mixed or misplaced separators. The all-zero and
    all-FF ids are not usable ids (EUI-64 reserves them).
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


def is_group_address(normalised: str) -> bool:
    """Whether a normalised EUI-64 is a group (multicast) address: the I/G bit, the least
    significant bit of the first octet, is set (IEEE EUI-64 guidelines)."""
    return bool(int(normalised[:2], 16) & 1)


def in_ranges(normalised: str, ranges: Iterable[tuple[str, str]]) -> bool:
    """Whether a normalised EUI-64 lies inside one of the inclusive ``(first, last)`` ranges."""
    value = int(normalised, 16)
    return any(int(first, 16) <= value <= int(last, 16) for first, last in ranges)


def roles_may_share(a: UserRole, b: UserRole) -> bool:
    """Whether one User ID may serve both roles ``a`` and ``b`` for the same Party (H1.4).

    Guidance s.4 / H1.4: an id serves one role, save that Import Supplier, Export Supplier and
    Gas Supplier may share one. The same role twice is not a sharing: ``claim_refusal`` accepts
    it only as the very same claim made again (idempotent).
    """
    return a != b and a in SUPPLIER_ROLES and b in SUPPLIER_ROLES


def _role(value: str) -> UserRole | None:
    try:
        return UserRole(value)
    except ValueError:
        return None


def _shown(user_id: str) -> str:
    try:
        return format_user_id(user_id)
    except InvalidInputError:
        return user_id


def claim_refusal(
    user_id: str, party_id: str, role: str, holders: Iterable[tuple[str, str]]
) -> str | None:
    """Why ``party_id`` may not hold ``user_id`` for ``role`` beside ``holders``; None if it may.

    The one statement of the sharing rule (SEC H1.4, User Entry Process Guidance v1.3 s.4): an
    id belongs to one Party, and serves one User Role, save that Import Supplier, Export
    Supplier and Gas Supplier may share one. ``holders`` are the current ``(party_id, role)``
    pairs holding the id; claiming an id the same Party already holds for the same role is the
    same claim again and passes. The event store applies this in the append's transaction, so
    two Parties racing for one id cannot both win.
    """
    wanted = _role(role)
    for held_party, held_role in holders:
        if held_party == party_id and held_role == role:
            continue
        if held_party != party_id:
            return (
                f"User ID {_shown(user_id)} is held by Party {held_party!r} ({held_role}); it "
                f"cannot be claimed by Party {party_id!r}: a User ID belongs to one Party (H1.4)"
            )
        other = _role(held_role)
        if wanted is None or other is None or not roles_may_share(wanted, other):
            return (
                f"User ID {_shown(user_id)} is held by Party {party_id!r} as {held_role}; it "
                f"cannot also serve {role}: only import_supplier, export_supplier and "
                "gas_supplier may share one User ID (H1.4, User Entry Process Guidance v1.3 s.4)"
            )
    return None
