"""The projector's metrics (prometheus-client; docs/operations.md lists them).

Labels are read-model names only: a handful, fixed by the code, never a case or a User ID.
The metrics belong to no registry until the service that counts them registers
:data:`COLLECTORS` (uep.metrics.prepare_process), so each process exposes only its own.
"""

from __future__ import annotations

from prometheus_client import Counter, Enum, Gauge
from prometheus_client.registry import Collector

STATES = ("starting", "connecting", "following", "reconnecting", "waiting", "stopped")

STATE = Enum(
    "uep_projector_state",
    "What the projector is doing: following the log, reconnecting to PostgreSQL, or waiting "
    "for migrations or read models only the owner can prepare.",
    states=list(STATES),
    registry=None,
)
RECONNECTS = Counter(
    "uep_projector_reconnects_total",
    "Times the projector lost PostgreSQL (or its notification connection) and reconnected.",
    registry=None,
)
HEAD = Gauge(
    "uep_projector_head_position",
    "Global position of the newest event in the store when the projector last looked.",
    registry=None,
)
POSITION = Gauge(
    "uep_projector_position",
    "Global position up to which a read model has applied the log.",
    ["projection"],
    registry=None,
)
LAG_EVENTS = Gauge(
    "uep_projector_lag_events",
    "Events in the store that a read model has not applied yet.",
    ["projection"],
    registry=None,
)
LAG_SECONDS = Gauge(
    "uep_projector_lag_seconds",
    "Age of the oldest event a read model has not applied yet; 0 when it is caught up.",
    ["projection"],
    registry=None,
)
APPLIED = Counter(
    "uep_projector_events_applied_total",
    "Events applied to a read model by this process.",
    ["projection"],
    registry=None,
)

COLLECTORS: tuple[Collector, ...] = (
    STATE,
    RECONNECTS,
    HEAD,
    POSITION,
    LAG_EVENTS,
    LAG_SECONDS,
    APPLIED,
)
