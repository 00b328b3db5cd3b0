"""User ID claims as the stores hold them: the domain's sharing rule applied to a registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from domain.userid import claim_refusal
from eventstore.models import UserIdClaimChange, UserIdClaimError

ClaimPolicy = Callable[[str, str, str, Iterable[tuple[str, str]]], str | None]
"""``(user_id, party_id, role, holders) -> refusal or None``: the rule a claim must pass."""

SHARING_RULE: ClaimPolicy = claim_refusal
"""The policy both stores apply: SEC H1.4, stated once in :mod:`domain.userid`."""

Registry = dict[str, set[tuple[str, str]]]
"""User ID -> its current ``(party_id, role)`` holders."""


def apply_claims(
    registry: Registry, claims: Iterable[UserIdClaimChange], policy: ClaimPolicy = SHARING_RULE
) -> Registry:
    """Return a new registry with the claims applied, raising before any change on a breach."""
    staged = {uid: set(holders) for uid, holders in registry.items()}
    for change in claims:
        holders = staged.setdefault(change.user_id, set())
        if change.action == "claim":
            refusal = policy(change.user_id, change.party_id, change.role, holders)
            if refusal is not None:
                raise UserIdClaimError(refusal)
            holders.add((change.party_id, change.role))
        else:
            holders.discard((change.party_id, change.role))
    return {uid: holders for uid, holders in staged.items() if holders}
