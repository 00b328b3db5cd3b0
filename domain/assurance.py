"""Security and privacy assurance statuses, as rules-version data (SEC G8.34, I2; MP112).

Which statuses the Panel may set, and which of them let the UEP complete, changed by
modification; so each case records the rules version it runs under and reads the sets here.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

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


ReviewAnchor = Literal["report_received", "receipt_confirmed"]
"""What the DCC's 5 Working-Day review of the Test Completion Report counts from."""


class RuleSet(BaseModel):
    """One version of the rules: when it took effect, the assurance statuses the Panel may set
    and those that let the step complete, and what the DCC's review deadline counts from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: RulesVersion
    title: str
    effective_from: date
    security_statuses: frozenset[AssuranceStatus]
    security_completing: frozenset[AssuranceStatus]
    privacy_statuses: frozenset[AssuranceStatus]
    privacy_completing: frozenset[AssuranceStatus]
    privacy_completing_strict: frozenset[AssuranceStatus]
    """The stricter reading, documented as the alternative (not applied)."""
    review_anchor: ReviewAnchor = "report_received"
    source: str


_A = AssuranceStatus
_SECURITY_STATUSES = frozenset({_A.APPROVED, _A.APPROVED_SUBJECT_TO, _A.DEFERRED, _A.REJECTED})
_SECURITY_COMPLETING = frozenset({_A.APPROVED, _A.APPROVED_SUBJECT_TO})
_SECURITY_SOURCE = (
    "Security: SEC G8.34: the Panel sets Approved, Approved subject to, Deferred or "
    "Rejected after the Initial Full User Security Assessment; the first two allow the UEP to "
    "complete, the last two block it until a follow-up assessment."
)

_PRIVACY_COMPLETING = frozenset({_A.APPROVED, _A.APPROVED_SUBJECT_TO})
_REVIEW_SOURCE = (
    "UEPT review: the DCC reviews the Test Completion Report within 5 Working Days of its "
    "receipt of the report (SEC Checklist for Small Suppliers v1.3: 'within 5WDs of receipt "
    "of the notification')."
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
        privacy_completing=_PRIVACY_COMPLETING,
        privacy_completing_strict=frozenset({_A.APPROVED}),
        source=(
            _SECURITY_SOURCE
            + " Privacy: before modification MP112 the SEC I2 statuses were Approved, Approved "
            "subject to, Provisionally approved and Deferred; SECAS's privacy assessment page "
            "says 'Approved' or 'Approved Subject to' completes the step. The stricter "
            "reading of the User Entry Process Guidance v1.3 (June 2018), s.7 ('Approved' only) "
            "is kept as the documented alternative. " + _REVIEW_SOURCE
        ),
    ),
    RulesVersion.MP112: RuleSet(
        version=RulesVersion.MP112,
        title="SEC modification MP112 (privacy assurance statuses), 29 Nov 2020",
        effective_from=date(2020, 11, 29),
        security_statuses=_SECURITY_STATUSES,
        security_completing=_SECURITY_COMPLETING,
        privacy_statuses=frozenset({_A.APPROVED, _A.APPROVED_SUBJECT_TO, _A.DEFERRED, _A.REJECTED}),
        privacy_completing=_PRIVACY_COMPLETING,
        privacy_completing_strict=frozenset({_A.APPROVED}),
        source=(
            _SECURITY_SOURCE
            + " Privacy: modification MP112 (implemented 29 November 2020) renamed statuses 3 "
            "and 4: Approved, Approved subject to, Deferred (formerly Provisionally approved), "
            "Rejected (formerly Deferred); the first two allow completion; a Rejected Party has "
            "a second Full Privacy Assessment. " + _REVIEW_SOURCE
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


def rules_in_force(on: date) -> RulesVersion:
    """The version in force on ``on``: the latest that took effect on or before it."""
    in_force = [r for r in RULE_SETS.values() if r.effective_from <= on]
    if not in_force:
        return RulesVersion.GUIDANCE_2018
    return max(in_force, key=lambda r: r.effective_from).version


LEGACY_PRIVACY_COMPLETING = frozenset({_A.APPROVED})
"""How cases opened before the December 2026 revision read guidance-2018 privacy (kept for
them: their recorded decisions were made so)."""


def rules_summary() -> list[dict[str, object]]:
    """Every version, when it took effect and what it allows, for `uep schema` and the guide."""
    return [
        {
            "version": r.version.value,
            "title": r.title,
            "effective_from": r.effective_from.isoformat(),
            "security_statuses": _ordered(r.security_statuses),
            "security_completing": _ordered(r.security_completing),
            "privacy_statuses": _ordered(r.privacy_statuses),
            "privacy_completing": _ordered(r.privacy_completing),
            "privacy_completing_alternative": _ordered(r.privacy_completing_strict),
            "uept_review_counts_from": r.review_anchor.replace("_", " "),
            "source": r.source,
        }
        for r in RULE_SETS.values()
    ]


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


def privacy_allows_completion(rules: RuleSet, status: AssuranceStatus, revision: int = 2) -> bool:
    """Whether the privacy status satisfies H1.10(d) (Other User only) under ``rules``."""
    if revision < 2 and rules.version is RulesVersion.GUIDANCE_2018:
        return status in LEGACY_PRIVACY_COMPLETING
    return status in rules.privacy_completing
