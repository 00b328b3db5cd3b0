"""Indicative durations of the User Entry Process, as data with their sources.

Used only to forecast a case's completion against its mandate (seed 001 timeline; domain.md
"Indicative durations"). The deadlines that bind the DCC are the Working-Day counts marked
"guidance s.5.3"; the rest are planning figures, and those marked ASSUMPTION are this
project's own estimates where the sources say only "depends on scale".
"""

from __future__ import annotations

UEPT_NOTICE_WD = 60
"""Working Days' notice of the date a Party wants to start UEPT (guidance s.5.2; seed 001)."""

DCC_RECEIPT_WD = 2
"""DCC confirms receipt of the Test Completion Report within 2 WD (guidance s.5.3; seed 001)."""

DCC_REVIEW_WD = 5
"""DCC reviews the report within 5 WD of receipt: concluded or further testing (s.5.3)."""

DCC_CERTIFICATE_WD = 2
"""DCC issues the Test Completion Certificate within 2 WD of a successful quality gate review
meeting (guidance s.5.3; seed 001 note 3c)."""

ASSESSMENT_BOOKING_NOTICE_WEEKS = 12
"""Twelve weeks' notice to book a Full Privacy Assessment (guidance s.7); the same for the
security assessment per the SECAS FAQ (domain.md "(c) Security assessment")."""

PRIVACY_TYPICAL_MONTHS = (5, 7)
"""The initial Full Privacy Assessment takes about five to seven months, including the booking
notice and pre and post assessment activity (guidance s.7)."""

UEPT_TYPICAL_TEST_WD = 20
"""ASSUMPTION: about four weeks (20 Working Days) of test execution between the UEPT start and
the Test Completion Report. The sources give none: completion "depends on individual Parties"
and on the DCC Gateway connection (seed 001 note 2)."""

SECURITY_TYPICAL_MONTHS = (4, 6)
"""ASSUMPTION: four to six months for the Initial Full User Security Assessment, booking notice
included. The sources say only that it depends on the scale of the User System and the Party's
preparedness (seed 001 note 4); this mirrors the privacy figure less its extra scope."""

CREDIT_REVIEW_MONTHS = 1
"""The DCC reviews the Credit Cover requirement each month (seed 001 note 1; domain.md)."""

PRIVACY_CYCLE_YEARS = 3
"""After the UEP: Privacy Self-Assessment in each of the next two years, then a Full Privacy
Assessment in the year after (guidance s.7)."""

SOURCES: dict[str, str] = {
    "UEPT_NOTICE_WD": "guidance v1.3 s.5.2; SEC Checklist for Small Suppliers (seed 001)",
    "DCC_RECEIPT_WD": "guidance v1.3 s.5.3; seed 001 note 3a",
    "DCC_REVIEW_WD": "guidance v1.3 s.5.3; seed 001 note 3b",
    "DCC_CERTIFICATE_WD": "guidance v1.3 s.5.3; seed 001 note 3c",
    "ASSESSMENT_BOOKING_NOTICE_WEEKS": "guidance v1.3 s.7; SECAS FAQ (domain.md)",
    "PRIVACY_TYPICAL_MONTHS": "guidance v1.3 s.7",
    "UEPT_TYPICAL_TEST_WD": "assumption (seed 001 note 2 gives no figure)",
    "SECURITY_TYPICAL_MONTHS": "assumption (seed 001 note 4 gives no figure)",
    "CREDIT_REVIEW_MONTHS": "seed 001 note 1",
    "PRIVACY_CYCLE_YEARS": "guidance v1.3 s.7; SEC I1.2",
}
"""Where each figure above comes from, for display beside a forecast."""
