"""Indicative durations of the User Entry Process, used only to forecast a case's completion.

None of these binds anyone: the binding Working-Day counts are in :mod:`domain.deadlines`.
Figures marked ASSUMPTION are this project's own estimates where the sources say only "depends
on scale"; each figure's source is in :data:`SOURCES`.
"""

from __future__ import annotations

GUIDANCE = "User Entry Process Guidance v1.3 (June 2018)"
CHECKLIST = "SEC Checklist for Small Suppliers v1.3 (Dec 2017), indicative timeline"

PRIVACY_TYPICAL_MONTHS = (5, 7)
"""The initial Full Privacy Assessment takes about five to seven months, including the booking
notice and pre and post assessment activity."""

UEPT_TYPICAL_TEST_WD = 20
"""ASSUMPTION: about four weeks (20 Working Days) of test execution between the UEPT start and
the Test Completion Report. The sources give none: completion "depends on individual Parties"
and on the DCC Gateway connection."""

SECURITY_TYPICAL_MONTHS = (4, 6)
"""ASSUMPTION: four to six months for the Initial Full User Security Assessment, booking notice
included. The sources say only that it depends on the scale of the User System and the Party's
preparedness; this mirrors the privacy figure less its extra scope."""

CREDIT_REVIEW_MONTHS = 1
"""The DCC reviews the Credit Cover Requirement each month."""

PRIVACY_CYCLE_YEARS = 3
"""After the UEP: Privacy Self-Assessment in each of the next two years, then a Full Privacy
Assessment in the year after."""

PANEL_STATUS_WEEKS = 4
"""ASSUMPTION: weeks from an assessment's completion to the Panel setting the status."""

SECAS_VERIFICATION_WD = 5
"""ASSUMPTION: Working Days SECAS takes to verify the last evidence (H1.11)."""

SOURCES: dict[str, str] = {
    "PRIVACY_TYPICAL_MONTHS": f"{GUIDANCE}, s.7",
    "UEPT_TYPICAL_TEST_WD": f"assumption ({CHECKLIST}, note 2 gives no figure)",
    "SECURITY_TYPICAL_MONTHS": f"assumption ({CHECKLIST}, note 4 gives no figure)",
    "CREDIT_REVIEW_MONTHS": f"{CHECKLIST}, note 1",
    "PRIVACY_CYCLE_YEARS": f"{GUIDANCE}, s.7; SEC I1.2",
    "PANEL_STATUS_WEEKS": "assumption (no source gives the Panel's turnaround)",
    "SECAS_VERIFICATION_WD": "assumption (H1.11 gives no period)",
}
"""Where each figure above comes from, for display beside a forecast."""
