"""`uep api` (the HTTP API on uvicorn) and `uep token create|list|revoke`."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from domain.principals import PUBLIC_KINDS, PrincipalKind
from eventstore.tokens import TokenStore
from uep.cli.common import OK, REFUSED, USAGE, CliError, print_json, print_table, run_command
from uep.connect import settings, store_pool
from uep.logging import configure_logging

TOKEN_COLUMNS = [
    "token_id",
    "kind",
    "principal_id",
    "name",
    "created_at",
    "last_used_at",
    "revoked_at",
]


def _api(args: argparse.Namespace) -> int:
    from uep.api.app import create_app

    config = settings()
    configure_logging(config.log_format)
    host = args.host or config.api_host
    port = args.port or config.api_port
    # uvicorn's own access log is off: the API logs one structured line per request
    uvicorn.run(create_app(config), host=host, port=port, access_log=False, log_level="warning")
    return OK


async def create_token(kind: str, name: str, party: str | None) -> tuple[str, dict[str, Any]]:
    """A new token for a principal; (the token, printed once, and its record)."""
    principal_kind = PrincipalKind(kind)
    if principal_kind == PrincipalKind.PARTY and not party:
        raise CliError("a party token needs --party PARTY_ID", USAGE)
    if principal_kind != PrincipalKind.PARTY and party:
        raise CliError("--party is for party tokens only", USAGE)
    ident = party or str(principal_kind)
    async with store_pool(settings()) as pool:
        token, record = await TokenStore(pool).create(kind, ident, name)
    return token, record.model_dump(mode="json")


async def _token(args: argparse.Namespace) -> int:
    match args.token_command:
        case "create":
            token, record = await create_token(args.kind, args.name, args.party)
            if args.json:
                print_json({"token": token, **record})
            else:
                print(token)
                print(
                    f"(token {record['token_id']} for {args.kind} {record['principal_id']}: "
                    "shown once, only its hash is stored)"
                )
            return OK
        case "list":
            async with store_pool(settings()) as pool:
                rows = [r.model_dump(mode="json") for r in await TokenStore(pool).list()]
            if args.json:
                print_json(rows)
            else:
                print_table(
                    "API tokens",
                    rows,
                    TOKEN_COLUMNS,
                )
            return OK
        case _:
            config = settings()
            async with store_pool(config) as pool:
                done = await TokenStore(pool).revoke(args.token_id)
            if not done:
                print(f"uep token revoke: no live token {args.token_id!r}")
                return REFUSED
            print(
                f"revoked {args.token_id} (an API process that remembers it refuses it within "
                f"UEP_API_TOKEN_CACHE_SECONDS, {config.api_token_cache_seconds:g} s)"
            )
            return OK


def add_parsers(sub: Any) -> None:
    """Register `uep api` and `uep token`."""
    p = sub.add_parser("api", help="serve the HTTP API (uvicorn; UEP_API_PORT, default 8000)")
    p.add_argument("--host", help="interface (default 127.0.0.1, UEP_API_HOST)")
    p.add_argument("--port", type=int, help="port (default 8000, UEP_API_PORT)")
    p.set_defaults(func=_api)

    t = sub.add_parser("token", help="API tokens: create, list, revoke")
    t.set_defaults(func=run_command("uep token", _token))
    ts = t.add_subparsers(dest="token_command", required=True)
    c = ts.add_parser("create", help="create a token; it is printed once")
    c.add_argument("--kind", required=True, choices=[str(k) for k in PUBLIC_KINDS])
    c.add_argument("--name", required=True, help='display name, e.g. "DCC onboarding"')
    c.add_argument("--party", help="the party id (party tokens only)")
    c.add_argument("--json", action="store_true")
    ls = ts.add_parser("list", help="every token (never the token itself)")
    ls.add_argument("--json", action="store_true")
    r = ts.add_parser("revoke", help="revoke a token by its id")
    r.add_argument("token_id")
