"""`uep dev`: the whole stack in the foreground (see :mod:`uep.devstack.supervisor`)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from uep.devstack.supervisor import DevOptions, run_dev
from uep.settings import get_settings


def _dev(args: argparse.Namespace) -> int:
    config = get_settings()
    if args.state_dir:
        config = config.model_copy(update={"state_dir": Path(args.state_dir)})
    opts = DevOptions(
        settings=config,
        temporal_port=args.temporal_port or urlsplit(f"//{config.temporal_address}").port or 7233,
        ui_port=args.ui_port or config.ui_port,
        pg_port=args.pg_port or config.pg_port,
        projector=not args.no_projector,
        archiver=not args.no_archiver,
        metrics_port=args.metrics_port or config.metrics_port,
        api=not args.no_api,
        api_port=args.api_port or config.api_port,
    )
    return asyncio.run(run_dev(opts))


def add_parser(sub: Any) -> None:
    """Register `uep dev`."""
    p = sub.add_parser("dev", help="run the whole stack in the foreground (Ctrl-C stops it)")
    p.add_argument("--temporal-port", type=int, help="Temporal frontend port (default 7233)")
    p.add_argument("--ui-port", type=int, help="Temporal Web UI port (default 8233)")
    p.add_argument("--pg-port", type=int, help="embedded PostgreSQL port (default 55432)")
    p.add_argument(
        "--metrics-port",
        type=int,
        help="the worker's metrics and health port (default 9464); its Temporal SDK metrics "
        "take the next port, the projector's the one after",
    )
    p.add_argument("--state-dir", help="where data lives (default .uep, or UEP_STATE_DIR)")
    p.add_argument("--no-projector", action="store_true", help="do not run the projector")
    p.add_argument("--no-archiver", action="store_true", help="do not run the history archiver")
    p.add_argument("--api-port", type=int, help="HTTP API port (default 8000, UEP_API_PORT)")
    p.add_argument("--no-api", action="store_true", help="do not run the HTTP API")
    p.set_defaults(func=_dev)
