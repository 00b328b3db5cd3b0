"""Lines a test wants printed at the end of the run (counts of a fuzz or chaos run)."""

from __future__ import annotations

LINES: list[str] = []


def report(line: str) -> None:
    """Print ``line`` in the run's summary (pytest's own output would hide a plain print)."""
    LINES.append(line)
