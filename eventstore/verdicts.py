"""What a verification says: checks that passed, failed or could not run, and where it failed.

Shared by the log verification here, the case audit and the bundle verifier in ``uep.audit``,
so every command reports findings the same way and derives its exit status by one rule: any
failure is 1, else any skipped check the auditor did not accept is 2, else 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, Field

FINDINGS_SHOWN = 50
"""Findings kept per check: the first ones locate the damage; the count says how much more."""


class Status(StrEnum):
    """How a check ended."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Finding(BaseModel):
    """One thing wrong, located as precisely as the evidence allows."""

    detail: str
    position: int | None = None
    stream_id: str | None = None
    version: int | None = None
    run_id: str | None = None
    history_event_id: int | None = None
    file: str | None = None


class Check(BaseModel):
    """One check: its name, how it ended, a one-line summary and its findings."""

    name: str
    status: Status
    detail: str
    findings: list[Finding] = Field(default_factory=list)
    more_findings: int = 0
    accepted: bool = Field(
        default=False, description="a skipped check the auditor chose to accept (--skip)"
    )

    @classmethod
    def passed(cls, name: str, detail: str) -> Check:
        """A check that ran and found nothing wrong."""
        return cls(name=name, status=Status.PASSED, detail=detail)

    @classmethod
    def skipped(cls, name: str, why: str, *, accepted: bool = False) -> Check:
        """A check that could not run (never a pass): ``why`` says what was missing."""
        return cls(name=name, status=Status.SKIPPED, detail=why, accepted=accepted)

    @classmethod
    def failed(cls, name: str, detail: str, findings: Iterable[Finding] = ()) -> Check:
        """A check that found something wrong; the first findings are kept."""
        found = list(findings)
        return cls(
            name=name,
            status=Status.FAILED,
            detail=detail,
            findings=found[:FINDINGS_SHOWN],
            more_findings=max(0, len(found) - FINDINGS_SHOWN),
        )

    @classmethod
    def of(cls, name: str, findings: Iterable[Finding], ok: str, bad: str) -> Check:
        """Passed with ``ok`` when there are no findings, else failed with ``bad``."""
        found = list(findings)
        if not found:
            return cls.passed(name, ok)
        return cls.failed(name, bad.format(n=len(found)), found)


EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 2


def exit_status(checks: Iterable[Check]) -> int:
    """0 all clean; 1 any check failed; 2 a check could not run and was not accepted."""
    checks = list(checks)
    if any(c.status is Status.FAILED for c in checks):
        return EXIT_FINDINGS
    if any(c.status is Status.SKIPPED and not c.accepted for c in checks):
        return EXIT_INCOMPLETE
    return EXIT_CLEAN


def accept_skips(checks: Iterable[Check], accepted: Iterable[str]) -> list[Check]:
    """Mark the skipped checks the auditor named as accepted."""
    names = set(accepted)
    return [
        c.model_copy(update={"accepted": True})
        if c.status is Status.SKIPPED and c.name in names
        else c
        for c in checks
    ]
