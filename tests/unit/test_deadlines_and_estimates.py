"""Binding Working-Day counts and forecast estimates are data, each with its source."""

from __future__ import annotations

from domain import deadlines, estimates


def test_binding_figures_of_the_guidance() -> None:
    assert deadlines.UEPT_NOTICE_WD == 60
    assert (deadlines.DCC_RECEIPT_WD, deadlines.DCC_REVIEW_WD, deadlines.DCC_CERTIFICATE_WD) == (
        2,
        5,
        2,
    )
    assert deadlines.STEP_WORKING_DAYS == {
        "report_receipt": 2,
        "report_review": 5,
        "certificate": 2,
    }
    assert deadlines.ASSESSMENT_BOOKING_NOTICE_WEEKS == 12


def test_estimate_ranges_are_ordered() -> None:
    assert estimates.PRIVACY_TYPICAL_MONTHS == (5, 7)
    for low, high in (estimates.PRIVACY_TYPICAL_MONTHS, estimates.SECURITY_TYPICAL_MONTHS):
        assert 0 < low <= high
    assert estimates.UEPT_TYPICAL_TEST_WD > 0


def test_every_figure_has_a_source_by_name() -> None:
    for module in (deadlines, estimates):
        figures = {
            name
            for name, value in vars(module).items()
            if name.isupper()
            and name not in ("SOURCES", "GUIDANCE", "CHECKLIST")
            and isinstance(value, int | tuple)
        }
        assert figures == set(module.SOURCES), module.__name__
        assert not any("seed" in source for source in module.SOURCES.values())
    for name in ("UEPT_TYPICAL_TEST_WD", "SECURITY_TYPICAL_MONTHS", "PANEL_STATUS_WEEKS"):
        assert estimates.SOURCES[name].startswith("assumption")
