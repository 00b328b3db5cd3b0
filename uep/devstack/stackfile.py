"""Where a running `uep dev` stack listens: ``stack.json`` in its state directory.

``uep dev`` writes it once the stack is up and removes it when it stops; every other process
(``uep case ...`` in another terminal) reads it to find the same Temporal and PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from uep.settings import Settings

STACK_FILE = "stack.json"


class StackInfo(BaseModel):
    """Where a running `uep dev` stack listens, recorded for other terminals."""

    pid: int
    temporal_address: str
    namespace: str
    ui_url: str
    database_url: str
    """As the application role: what the services and the commands use."""
    owner_database_url: str = ""
    """As the owner: for `uep migrate` and `uep projections rebuild`."""
    auditor_database_url: str = ""
    metrics: dict[str, str] = {}
    """Service name -> its metrics URL (``/healthz`` and ``/readyz`` beside it, not the SDK's)."""
    state_dir: str
    api_url: str = ""
    """The HTTP API of the stack (empty: not started)."""


# -- the stack file, read by other terminals ---------------------------------------------------


def stack_path(state_dir: Path) -> Path:
    """Path of the stack file inside ``state_dir``."""
    return state_dir / STACK_FILE


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_stack(state_dir: Path) -> StackInfo | None:
    """The running stack recorded in ``state_dir``, or None when there is none (or it died)."""
    try:
        info = StackInfo.model_validate_json(stack_path(state_dir).read_text())
    except (OSError, ValueError):
        return None
    return info if _alive(info.pid) else None


def resolve_settings(settings: Settings, *, owner: bool = False) -> Settings:
    """Fill what the environment did not set from the running stack's file (if any); the
    database as the owner with ``owner``."""
    info = read_stack(settings.state_dir)
    if info is None:
        return settings
    given = settings.model_fields_set
    update: dict[str, str] = {}
    if "temporal_address" not in given:
        update["temporal_address"] = info.temporal_address
    if "namespace" not in given:
        update["namespace"] = info.namespace
    if "database_url" not in given:
        update["database_url"] = (owner and info.owner_database_url) or info.database_url
    return settings.model_copy(update=update)


def redact(url: str) -> str:
    """A database URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
