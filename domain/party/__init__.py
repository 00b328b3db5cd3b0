"""The Party record: what belongs to a SEC Party rather than to one User Role case.

Credit Support (H1.10(e), Section J3) is one requirement for the Party and one set of
instruments; the Initial Full User Security Assessment (H1.10(c), guidance s.6) is one
assessment whose scope is a set of roles; the User ID range (H1.4-H1.6) is allocated to the
Party. Role cases opened under revision 3 (domain.revision) take their credit and security
positions from here.
"""

from __future__ import annotations

RECORD_PREFIX = "uep-party-"
"""Workflow ids (and event stream ids) of Party records: ``uep-party-<party_id>``."""


def record_id(party_id: str) -> str:
    """The one workflow id, and event stream, of a Party's record."""
    return f"{RECORD_PREFIX}{party_id}"
