"""A payload that did not decode, kept as a value so the workflow can refuse it visibly.

Temporal decodes a message's arguments before any handler runs; a payload that is not JSON (or
has an encoding nobody knows) would otherwise make the SDK drop a signal with only a log line,
or refuse an update with "Failed decoding arguments" and a stack trace. The project's data
converter (``uep.converter``) turns such a payload into an :class:`UndecodablePayload` wherever
no type was asked for, and the handlers refuse it by name like any other bad input.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UndecodablePayload:
    """Stands for an argument that could not be decoded: its encoding, size and why."""

    encoding: str
    size: int
    reason: str

    def describe(self) -> str:
        """One short line for a refusal."""
        return f"a {self.encoding or 'unlabelled'} payload of {self.size} bytes that is not JSON"
