"""Suite-wide hooks.

sdk-python issue #300: a process that used the Temporal SDK can abort at interpreter exit
(``PyGILState_Release``) after a green run. Once pytest knows the outcome we flush and leave with
``os._exit`` carrying pytest's own exit status, so the exit code stays honest.
"""

from __future__ import annotations

import os
import sys

import pytest

from tests.devstack import stack  # noqa: F401  (the fixture, for every folder that runs uep dev)

_exit_status: int | None = None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what tests reported (fuzz and chaos counts)."""
    from tests.summary import LINES

    for line in LINES:
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remember pytest's verdict for the hard exit below."""
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave with pytest's status before interpreter teardown can crash (sdk-python #300)."""
    if _exit_status is None or os.environ.get("UEP_NO_HARD_EXIT"):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)
