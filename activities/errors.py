"""The error types the activities raise, defined once for the activities and the workflow.

An ``ApplicationError`` crosses from activity to workflow as its ``type`` string; the workflow
matches on these constants, never on a literal. The values are part of recorded histories:
changing one would change how a replayed workflow reads an old failure.
"""

from __future__ import annotations

from enum import StrEnum


class StoreRefusal(StrEnum):
    """Why the event store refused an append; non-retryable, nothing was written."""

    EXPECTED_VERSION = "ExpectedVersionError"
    """Another writer appended to the stream first."""

    USER_ID_CONFLICT = "UserIdConflict"
    """A User ID claim breaks the sharing rule (H1.4)."""

    UNSTORABLE = "Unstorable"
    """The database will never accept the events as they are."""


class RequestRefusal(StrEnum):
    """Why an activity refused its request outright (retrying cannot help)."""

    INVALID_REQUEST = "InvalidActivityRequest"
    """The request itself is wrong (an unknown calendar region, an impossible span)."""
