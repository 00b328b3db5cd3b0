"""User ID claims as both stores apply them (eventstore.claims; SEC H1.4): the registry a
batch of claims and releases leaves, all or nothing, and the claims the decider writes."""

from __future__ import annotations

from datetime import date

import pytest

from domain import commands as c
from domain import events as ev
from domain.decider import user_id_claims
from domain.userid import claim_refusal
from eventstore.claims import SHARING_RULE, Registry, apply_claims
from eventstore.models import UserIdClaimChange, UserIdClaimError
from tests.unit.test_decider import START, UID, given, started, when, with_id_accepted

OTHER = "90b3d51f30010001"
DAY = date(2025, 6, 4)


def claim(user_id: str, party: str, role: str) -> UserIdClaimChange:
    return UserIdClaimChange(action="claim", user_id=user_id, party_id=party, role=role)


def release(user_id: str, party: str, role: str) -> UserIdClaimChange:
    return UserIdClaimChange(action="release", user_id=user_id, party_id=party, role=role)


def test_the_stores_apply_the_domain_sharing_rule() -> None:
    assert SHARING_RULE is claim_refusal


def test_a_free_id_is_claimed() -> None:
    assert apply_claims({}, [claim(UID, "acme", "gas_supplier")]) == {
        UID: {("acme", "gas_supplier")}
    }


def test_an_id_held_by_another_party_is_refused_and_nothing_changes() -> None:
    registry: Registry = {UID: {("rival", "gas_supplier")}}
    with pytest.raises(UserIdClaimError, match="held by Party 'rival'"):
        apply_claims(registry, [claim(OTHER, "acme", "gas_supplier"), claim(UID, "acme", "x")])
    assert registry == {UID: {("rival", "gas_supplier")}}


def test_a_refused_claim_late_in_a_batch_leaves_the_registry_as_it_was() -> None:
    registry: Registry = {UID: {("rival", "other_user")}}
    batch = [release(UID, "rival", "other_user"), claim(UID, "acme", "other_user")]
    # the release first frees the id, so this batch passes ...
    assert apply_claims(registry, batch) == {UID: {("acme", "other_user")}}
    # ... and the input registry is never changed in place
    assert registry == {UID: {("rival", "other_user")}}
    refused = [claim(OTHER, "acme", "other_user"), claim(UID, "acme", "other_user")]
    with pytest.raises(UserIdClaimError):
        apply_claims(registry, refused)
    assert registry == {UID: {("rival", "other_user")}}


def test_the_three_supplier_roles_of_one_party_share_an_id() -> None:
    batch = [
        claim(UID, "acme", "import_supplier"),
        claim(UID, "acme", "export_supplier"),
        claim(UID, "acme", "gas_supplier"),
    ]
    assert apply_claims({}, batch) == {
        UID: {("acme", "import_supplier"), ("acme", "export_supplier"), ("acme", "gas_supplier")}
    }


def test_a_supplier_id_cannot_also_serve_a_non_supplier_role() -> None:
    registry = apply_claims({}, [claim(UID, "acme", "gas_supplier")])
    with pytest.raises(UserIdClaimError, match="cannot also serve other_user"):
        apply_claims(registry, [claim(UID, "acme", "other_user")])


def test_the_same_claim_again_is_one_holder() -> None:
    registry = apply_claims({}, [claim(UID, "acme", "other_user")])
    assert apply_claims(registry, [claim(UID, "acme", "other_user")]) == registry


def test_a_release_frees_the_id_for_another_party() -> None:
    registry = apply_claims({}, [claim(UID, "acme", "gas_supplier")])
    freed = apply_claims(registry, [release(UID, "acme", "gas_supplier")])
    assert freed == {}
    assert apply_claims(freed, [claim(UID, "rival", "gas_supplier")]) == {
        UID: {("rival", "gas_supplier")}
    }


def test_a_release_keeps_the_other_holders_and_other_ids() -> None:
    registry: Registry = {
        UID: {("acme", "import_supplier"), ("acme", "gas_supplier")},
        OTHER: {("acme", "other_user")},
    }
    assert apply_claims(registry, [release(UID, "acme", "gas_supplier")]) == {
        UID: {("acme", "import_supplier")},
        OTHER: {("acme", "other_user")},
    }


def test_releasing_what_is_not_held_changes_nothing() -> None:
    registry: Registry = {UID: {("acme", "gas_supplier")}}
    assert apply_claims(registry, [release(UID, "rival", "gas_supplier")]) == registry
    assert apply_claims(registry, [release(OTHER, "acme", "gas_supplier")]) == registry


def test_a_custom_policy_is_the_one_applied() -> None:
    def refuse_all(user_id: str, party: str, role: str, holders: object) -> str:
        return f"no {user_id} for {party} as {role}"

    with pytest.raises(UserIdClaimError, match=f"no {UID} for acme as gas_supplier"):
        apply_claims({}, [claim(UID, "acme", "gas_supplier")], refuse_all)
    assert apply_claims({}, [release(UID, "acme", "gas_supplier")], refuse_all) == {}


# -- the claims a case's events make (domain.decider.user_id_claims) -------------------------


def test_a_proposal_claims_its_id() -> None:
    proposed = ev.UserIdProposed(effective_on=START, user_id=UID)
    assert user_id_claims(given(started()), [proposed]) == [("claim", UID)]
    assert user_id_claims(None, [proposed]) == [("claim", UID)]


def test_a_rejected_id_is_released() -> None:
    s = given(started(), ev.UserIdProposed(effective_on=START, user_id=UID))
    rejected = ev.UserIdRejected(effective_on=START, user_id=UID, reason="not in the range")
    assert user_id_claims(s, [rejected]) == [("release", UID)]


def test_an_accepted_id_stays_claimed() -> None:
    s = given(started(), ev.UserIdProposed(effective_on=START, user_id=UID))
    assert user_id_claims(s, [ev.UserIdAccepted(effective_on=START, user_id=UID)]) == []


def test_withdrawing_releases_the_held_id_whether_proposed_or_accepted() -> None:
    withdrawn = ev.CaseWithdrawn(effective_on=START, reason="left the market")
    assert user_id_claims(with_id_accepted(), [withdrawn]) == [("release", UID)]
    proposed = given(started(), ev.UserIdProposed(effective_on=START, user_id=UID))
    assert user_id_claims(proposed, [withdrawn]) == [("release", UID)]


def test_withdrawing_releases_nothing_when_no_id_is_held() -> None:
    withdrawn = ev.CaseWithdrawn(effective_on=START, reason="left the market")
    assert user_id_claims(given(started()), [withdrawn]) == []
    assert user_id_claims(None, [withdrawn]) == []
    rejected = given(
        started(),
        ev.UserIdProposed(effective_on=START, user_id=UID),
        ev.UserIdRejected(effective_on=START, user_id=UID, reason="format"),
    )
    # the rejection released the id already; the withdrawal must not release it again
    assert user_id_claims(rejected, [withdrawn]) == []


def test_other_events_make_no_claims() -> None:
    assert (
        user_id_claims(given(started()), [ev.SreptCompleted(effective_on=date(2025, 6, 3))]) == []
    )


def test_the_dcc_rejects_the_proposed_id_giving_its_reason_and_the_rejection_releases_it() -> None:
    s = given(started(), ev.UserIdProposed(effective_on=START, user_id=UID))
    [rejected] = when(s, c.RejectUserId(user_id=UID, reason="outside the range", effective_on=DAY))
    assert rejected == ev.UserIdRejected(effective_on=DAY, user_id=UID, reason="outside the range")
    assert user_id_claims(s, [rejected]) == [("release", UID)]
    s = given(s, rejected)
    assert (s.user_id.status, s.user_id.rejected) == ("rejected", [UID])


def test_the_dcc_accepts_the_proposed_id() -> None:
    s = given(started(), ev.UserIdProposed(effective_on=START, user_id=UID))
    [accepted] = when(s, c.AcceptUserId(user_id=UID, effective_on=DAY))
    assert accepted == ev.UserIdAccepted(effective_on=DAY, user_id=UID)
