"""Security and privacy assurance statuses, as rules-version data (SEC G8.34, I2; MP112).

Which statuses the Panel may set, and which of them let the UEP complete, changed by
modification; so each case records the rules version it runs under and reads the sets here.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.errors import InvalidInputError


class AssuranceStatus(StrEnum):
    """An assurance status the SEC Panel sets after a security or privacy assessment."""

    APPROVED = "approved"
    APPROVED_SUBJECT_TO = "approved_subject_to"
    PROVISIONALLY_APPROVED = "provisionally_approved"
    DEFERRED = "deferred"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        """The status as the SEC writes it ("Approved, subject to")."""
        return _STATUS_LABELS[self]


_STATUS_LABELS: dict[AssuranceStatus, str] = {
    AssuranceStatus.APPROVED: "Approved",
    AssuranceStatus.APPROVED_SUBJECT_TO: "Approved, subject to",
    AssuranceStatus.PROVISIONALLY_APPROVED: "Provisionally approved",
    AssuranceStatus.DEFERRED: "Deferred",
    AssuranceStatus.REJECTED: "Rejected",
}


class RulesVersion(StrEnum):
    """A version of the UEP rules a case runs under."""

    GUIDANCE_2018 = "guidance-2018"
    MP112 = "mp112"


class RuleSet(BaseModel):
    """The assurance statuses allowed, and those that complete the step, under one version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: RulesVersion
    title: str
    effective_from: date
    security_statuses: frozenset[AssuranceStatus]
    security_completing: frozenset[AssuranceStatus]
    privacy_statuses: frozenset[AssuranceStatus]
    privacy_completing: frozenset[AssuranceStatus]
    source: str


_A = AssuranceStatus
_SECURITY_STATUSES = frozenset({_A.APPROVED, _A.APPROVED_SUBJECT_TO, _A.DEFERRED, _A.REJECTED})
_SECURITY_COMPLETING = frozenset({_A.APPROVED, _A.APPROVED_SUBJECT_TO})
_SECURITY_SOURCE = (
    "Security: SEC G8.34: the Panel sets Approved, Approved subject to, Deferred or "
    "Rejected after the Initial Full User Security Assessment; the first two allow the UEP to "
    "complete, the last two block it until a follow-up assessment."
)

RULE_SETS: dict[RulesVersion, RuleSet] = {
    RulesVersion.GUIDANCE_2018: RuleSet(
        version=RulesVersion.GUIDANCE_2018,
        title="User Entry Process Guidance v1.3 (June 2018)",
        effective_from=date(2018, 6, 19),
        security_statuses=_SECURITY_STATUSES,
        security_completing=_SECURITY_COMPLETING,
        privacy_statuses=frozenset(
            {_A.APPROVED, _A.APPROVED_SUBJECT_TO, _A.PROVISIONALLY_APPROVED, _A.DEFERRED}
        ),
        privacy_completing=frozenset({_A.APPROVED}),
        source=(
            _SECURITY_SOURCE
            + " Privacy: User Entry Process Guidance v1.3 (June 2018), s.7: to complete the UEP "
            "the assurance status must be Approved; before modification MP112 the SEC I2 "
            "statuses were Approved, Approved subject to, Provisionally approved and Deferred."
        ),
    ),
    RulesVersion.MP112: RuleSet(
        version=RulesVersion.MP112,
        title="SEC modification MP112 (privacy assurance statuses), 29 Nov 2020",
        effective_from=date(2020, 11, 29),
        security_statuses=_SECURITY_STATUSES,
        security_completing=_SECURITY_COMPLETING,
        privacy_statuses=frozenset({_A.APPROVED, _A.APPROVED_SUBJECT_TO, _A.DEFERRED, _A.REJECTED}),
        privacy_completing=frozenset({_A.APPROVED, _A.APPROVED_SUBJECT_TO}),
        source=(
            _SECURITY_SOURCE
            + " Privacy: modification MP112 (implemented 29 November 2020) aligned the I2 "
            "statuses with security: Approved, Approved subject to, Deferred, Rejected; the first "
            "two allow "
            "completion; a Rejected Party has a second Full Privacy Assessment."
        ),
    ),
}


def rules_for(version: RulesVersion | str) -> RuleSet:
    """The RuleSet of ``version``; an unknown version raises InvalidInputError."""
    try:
        return RULE_SETS[RulesVersion(version)]
    except ValueError:
        known = ", ".join(v.value for v in RulesVersion)
        raise InvalidInputError(
            f"unknown rules version {version!r}; known versions: {known}",
            field="rules_version",
        ) from None


def default_rules_version() -> RulesVersion:
    """The version a new case runs under unless told otherwise (the June 2018 guidance)."""
    return RulesVersion.GUIDANCE_2018


def _ordered(statuses: frozenset[AssuranceStatus]) -> str:
    return ", ".join(s.label for s in AssuranceStatus if s in statuses)


def _check(
    rules: RuleSet, status: AssuranceStatus | str, allowed: frozenset[AssuranceStatus], kind: str
) -> AssuranceStatus:
    try:
        parsed = AssuranceStatus(status)
    except ValueError:
        parsed = None
    if parsed is None or parsed not in allowed:
        shown = parsed.label if parsed is not None else repr(status)
        raise InvalidInputError(
            f"{shown} is not a {kind} assurance status under {rules.title} "
            f"({rules.version.value}); allowed: {_ordered(allowed)}",
            field=f"{kind}_status",
        )
    return parsed


def check_security_status(rules: RuleSet, status: AssuranceStatus | str) -> AssuranceStatus:
    """Return ``status`` if the Panel may set it after a security assessment under ``rules``."""
    return _check(rules, status, rules.security_statuses, "security")


def check_privacy_status(rules: RuleSet, status: AssuranceStatus | str) -> AssuranceStatus:
    """Return ``status`` if the Panel may set it after a Full Privacy Assessment under ``rules``."""
    return _check(rules, status, rules.privacy_statuses, "privacy")


def security_allows_completion(rules: RuleSet, status: AssuranceStatus) -> bool:
    """Whether the security status satisfies H1.10(c) under ``rules``."""
    return status in rules.security_completing


def privacy_allows_completion(rules: RuleSet, status: AssuranceStatus) -> bool:
    """Whether the privacy status satisfies H1.10(d) (Other User only) under ``rules``."""
    return status in rules.privacy_completing
