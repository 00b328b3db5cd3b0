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
    privacy_allows_completion,
    rules_for,
    rules_in_force,
    rules_summary,
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


@pytest.mark.parametrize(
    ("on", "version"),
    [
        (date(2018, 6, 19), RulesVersion.GUIDANCE_2018),
        (date(2020, 11, 28), RulesVersion.GUIDANCE_2018),
        (date(2020, 11, 29), RulesVersion.MP112),  # MP112 implemented 29 November 2020
        (date(2026, 11, 30), RulesVersion.MP112),
        (date(2016, 1, 4), RulesVersion.GUIDANCE_2018),  # before any: the earliest
    ],
)
def test_the_version_in_force_on_a_day(on: date, version: RulesVersion) -> None:
    assert rules_in_force(on) is version


def test_the_summary_lists_every_version_and_what_differs() -> None:
    summary = {row["version"]: row for row in rules_summary()}
    assert set(summary) == {"guidance-2018", "mp112"}
    assert summary["mp112"]["effective_from"] == "2020-11-29"
    assert "Provisionally approved" in str(summary["guidance-2018"]["privacy_statuses"])
    assert "Rejected" in str(summary["mp112"]["privacy_statuses"])
    assert summary["mp112"]["privacy_completing"] == "Approved, Approved, subject to"
    assert summary["guidance-2018"]["privacy_completing_alternative"] == "Approved"


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


def test_privacy_2018_completes_on_approved_and_approved_subject_to() -> None:
    assert G2018.privacy_statuses == {
        S.APPROVED,
        S.APPROVED_SUBJECT_TO,
        S.PROVISIONALLY_APPROVED,
        S.DEFERRED,
    }
    assert privacy_allows_completion(G2018, S.APPROVED)
    assert privacy_allows_completion(G2018, S.APPROVED_SUBJECT_TO)
    for status in (S.PROVISIONALLY_APPROVED, S.DEFERRED):
        assert not privacy_allows_completion(G2018, status)
    assert G2018.privacy_completing_strict == {S.APPROVED}  # the documented alternative


def test_cases_opened_before_revision_2_keep_the_strict_2018_reading() -> None:
    assert privacy_allows_completion(G2018, S.APPROVED, revision=1)
    assert not privacy_allows_completion(G2018, S.APPROVED_SUBJECT_TO, revision=1)
    assert privacy_allows_completion(MP112, S.APPROVED_SUBJECT_TO, revision=1)


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
