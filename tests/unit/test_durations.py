"""Indicative durations are data with a source each (guidance s.5, s.7; seed 001)."""

from __future__ import annotations

from domain import durations


def test_guidance_figures() -> None:
    assert durations.UEPT_NOTICE_WD == 60
    assert (durations.DCC_RECEIPT_WD, durations.DCC_REVIEW_WD, durations.DCC_CERTIFICATE_WD) == (
        2,
        5,
        2,
    )
    assert durations.ASSESSMENT_BOOKING_NOTICE_WEEKS == 12
    assert durations.PRIVACY_TYPICAL_MONTHS == (5, 7)


def test_ranges_are_ordered() -> None:
    for low, high in (durations.PRIVACY_TYPICAL_MONTHS, durations.SECURITY_TYPICAL_MONTHS):
        assert 0 < low <= high
    assert durations.UEPT_TYPICAL_TEST_WD > 0


def test_every_figure_has_a_source() -> None:
    figures = {
        name
        for name, value in vars(durations).items()
        if name.isupper() and name != "SOURCES" and isinstance(value, int | tuple)
    }
    assert figures == set(durations.SOURCES)
    assert all("assumption" in durations.SOURCES[n] for n in ("UEPT_TYPICAL_TEST_WD",))
