"""Assurance statuses as rules-version data (G8.34, guidance s.7, MP112)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.assurance import (
    RULE_SETS,
    AssuranceStatus,
    RuleSet,
    RulesVersion,
    check_privacy_status,
    check_security_status,
    default_rules_version,
    privacy_allows_completion,
    rules_for,
    security_allows_completion,
)
from domain.errors import InvalidInputError

S = AssuranceStatus
G2018 = rules_for(RulesVersion.GUIDANCE_2018)
MP112 = rules_for(RulesVersion.MP112)


def test_labels_and_values() -> None:
    assert S.APPROVED_SUBJECT_TO.value == "approved_subject_to"
    assert S.APPROVED_SUBJECT_TO.label == "Approved, subject to"
    assert S.PROVISIONALLY_APPROVED.label == "Provisionally approved"
    assert RulesVersion("mp112") is RulesVersion.MP112
    assert RulesVersion.GUIDANCE_2018.value == "guidance-2018"


def test_default_version() -> None:
    assert default_rules_version() is RulesVersion.GUIDANCE_2018


def test_every_version_has_a_rule_set() -> None:
    assert set(RULE_SETS) == set(RulesVersion)
    for version, rules in RULE_SETS.items():
        assert rules.version is version
        assert rules.source
        assert rules.security_completing <= rules.security_statuses
        assert rules.privacy_completing <= rules.privacy_statuses


def test_mp112_effective_date() -> None:
    assert MP112.effective_from == date(2020, 11, 29)
    assert "second Full Privacy Assessment" in MP112.source


@pytest.mark.parametrize("rules", [G2018, MP112])
def test_security_g8_34(rules: RuleSet) -> None:
    ruleset = rules
    assert ruleset.security_statuses == {S.APPROVED, S.APPROVED_SUBJECT_TO, S.DEFERRED, S.REJECTED}
    assert security_allows_completion(ruleset, S.APPROVED)
    assert security_allows_completion(ruleset, S.APPROVED_SUBJECT_TO)
    assert not security_allows_completion(ruleset, S.DEFERRED)
    assert not security_allows_completion(ruleset, S.REJECTED)


def test_privacy_2018_requires_approved() -> None:
    assert G2018.privacy_statuses == {
        S.APPROVED,
        S.APPROVED_SUBJECT_TO,
        S.PROVISIONALLY_APPROVED,
        S.DEFERRED,
    }
    assert privacy_allows_completion(G2018, S.APPROVED)
    for status in (S.APPROVED_SUBJECT_TO, S.PROVISIONALLY_APPROVED, S.DEFERRED):
        assert not privacy_allows_completion(G2018, status)


def test_privacy_mp112() -> None:
    assert MP112.privacy_statuses == {S.APPROVED, S.APPROVED_SUBJECT_TO, S.DEFERRED, S.REJECTED}
    assert privacy_allows_completion(MP112, S.APPROVED)
    assert privacy_allows_completion(MP112, S.APPROVED_SUBJECT_TO)
    assert not privacy_allows_completion(MP112, S.DEFERRED)
    assert not privacy_allows_completion(MP112, S.REJECTED)


def test_check_status_accepts_allowed() -> None:
    assert check_security_status(G2018, S.REJECTED) is S.REJECTED
    assert check_privacy_status(G2018, "provisionally_approved") is S.PROVISIONALLY_APPROVED
    assert check_privacy_status(MP112, S.REJECTED) is S.REJECTED


def test_security_refuses_provisional_and_lists_allowed() -> None:
    with pytest.raises(InvalidInputError) as info:
        check_security_status(G2018, S.PROVISIONALLY_APPROVED)
    message = info.value.message
    assert "Provisionally approved is not a security assurance status" in message
    assert "guidance-2018" in message
    assert "allowed: Approved, Approved, subject to, Deferred, Rejected" in message
    assert info.value.field == "security_status"


def test_privacy_rejected_before_mp112() -> None:
    with pytest.raises(InvalidInputError) as info:
        check_privacy_status(G2018, S.REJECTED)
    assert "Rejected is not a privacy assurance status" in info.value.message
    assert "allowed: Approved, Approved, subject to, Provisionally approved, Deferred" in (
        info.value.message
    )


def test_privacy_provisional_after_mp112() -> None:
    with pytest.raises(InvalidInputError, match=r"mp112.*allowed: Approved, Approved, subject"):
        check_privacy_status(MP112, S.PROVISIONALLY_APPROVED)


def test_unknown_status_text() -> None:
    with pytest.raises(InvalidInputError, match="'great' is not a security assurance status"):
        check_security_status(MP112, "great")


def test_unknown_rules_version() -> None:
    with pytest.raises(InvalidInputError, match="known versions: guidance-2018, mp112"):
        rules_for("sec-2030")
    assert rules_for("mp112") is MP112
