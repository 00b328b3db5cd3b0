"""The append activity's metrics (prometheus-client; docs/operations.md lists them).

Counted where the worker does the I/O, never in workflow code, so replays count nothing.
The metrics belong to no registry until the service that counts them registers
:data:`COLLECTORS` (uep.metrics.prepare_process), so each process exposes only its own.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from prometheus_client.registry import Collector

APPEND_OUTCOMES = ("appended", "duplicate", "version_conflict", "user_id_conflict", "error")

EVENTS_APPENDED = Counter(
    "uep_events_appended_total",
    "Events this worker wrote to the event store (an append already stored counts nothing).",
    registry=None,
)
APPENDS = Counter(
    "uep_appends_total",
    "Append activities by outcome: appended, duplicate (a retry found its events stored), "
    "version_conflict, user_id_conflict, or error (the store failed; Temporal retries it).",
    ["outcome"],
    registry=None,
)
APPEND_DURATION = Histogram(
    "uep_event_append_duration_seconds",
    "Time an append activity waited for the store, group commit included, whatever the outcome.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None,
)
USER_ID_CLAIM_CONFLICTS = Counter(
    "uep_user_id_claim_conflicts_total",
    "User ID claims the store refused under the sharing rule (SEC H1.4); nothing was written.",
    registry=None,
)
for _outcome in APPEND_OUTCOMES:  # every series exists from the start, so rates work at once
    APPENDS.labels(_outcome)

COLLECTORS: tuple[Collector, ...] = (
    EVENTS_APPENDED,
    APPENDS,
    APPEND_DURATION,
    USER_ID_CLAIM_CONFLICTS,
)
