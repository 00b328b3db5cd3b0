"""The User ID sharing rule as the event store enforces it on claims."""

from __future__ import annotations

from collections.abc import Iterable

from eventstore.models import UserIdClaimChange, UserIdClaimError

# Mirrors domain.roles.SUPPLIER_ROLES; kept here so the store does not depend on domain/ being
# importable mid-refactor, and a test pins the two together.
SHAREABLE_ROLES = frozenset({"import_supplier", "export_supplier", "gas_supplier"})


def check_claim(user_id: str, party_id: str, role: str, holders: Iterable[tuple[str, str]]) -> None:
    """Raise UserIdClaimError when ``(party_id, role)`` may not hold ``user_id`` beside holders.

    ``holders`` are the current ``(party_id, role)`` pairs holding the id. An id belongs to one
    Party; within it only the three supplier roles may share one id. Re-claiming an id already
    held by the same party and role is allowed (idempotent).
    """
    for held_party, held_role in holders:
        if held_party == party_id and held_role == role:
            continue
        if held_party != party_id:
            raise UserIdClaimError(
                f"User ID {user_id} is held by party {held_party!r} ({held_role}); "
                f"it cannot be claimed by party {party_id!r}: an id belongs to one Party"
            )
        if role not in SHAREABLE_ROLES or held_role not in SHAREABLE_ROLES:
            raise UserIdClaimError(
                f"User ID {user_id} is held by party {party_id!r} as {held_role}; "
                f"it cannot also be used as {role}: only import_supplier, export_supplier "
                "and gas_supplier may share one id"
            )


def apply_claims_in_memory(
    registry: dict[str, set[tuple[str, str]]], claims: Iterable[UserIdClaimChange]
) -> dict[str, set[tuple[str, str]]]:
    """Return a new registry with the claims applied, raising before any change on a breach."""
    staged = {uid: set(holders) for uid, holders in registry.items()}
    for change in claims:
        holders = staged.setdefault(change.user_id, set())
        if change.action == "claim":
            check_claim(change.user_id, change.party_id, change.role, holders)
            holders.add((change.party_id, change.role))
        else:
            holders.discard((change.party_id, change.role))
    return {uid: holders for uid, holders in staged.items() if holders}
