"""`uep case ...`: the operator's commands (start, send, show, list) against the running stack.

Exit codes scripts can trust: 0 done, 1 refused by the workflow (its message is printed),
2 usage or bad JSON, 3 Temporal cannot be reached.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
import uuid
from collections.abc import Awaitable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.commands import MESSAGES, StartCase
from domain.errors import DomainError
from domain.principals import Principal, PrincipalKind, Sender
from domain.roles import UserRole, check_eligibility
from uep.cli.common import (
    OK,
    REFUSED,
    UNREACHABLE,
    USAGE,
    CliError,
    print_json,
    run_command,
)
from uep.cli.common import console as _out
from uep.connect import TemporalUnreachable, database_url, settings, temporal_client
from uep.principal import parse_principal, signing_as
from uep.settings import Settings, get_settings
from uep.updates import execute_update
from workflows import names
from workflows.messages import format_validation_error

T = TypeVar("T")

if TYPE_CHECKING:
    from uep.api.client import UepClient


async def connect(config: Settings | None = None) -> Client:
    """A client on the running stack (or ``UEP_TEMPORAL_ADDRESS``) that signs what it sends
    with the deployment's principal key (operators on the server hold it)."""
    return await temporal_client(config or settings(), signed=True)


def cli_principal(args: argparse.Namespace) -> Principal:
    """Who `uep case start|send` speaks as: ``--as`` (default SECAS, the operator at this
    terminal) and, for SECAS, ``--on-behalf-of``."""
    try:
        who = parse_principal(args.as_principal) if args.as_principal else None
        behalf = parse_principal(args.on_behalf_of) if args.on_behalf_of else None
    except ValueError as err:
        raise CliError(f"--as / --on-behalf-of: {err}", USAGE) from None
    if who is None:
        user = re.sub(r"[^A-Za-z0-9._-]", "_", getpass.getuser())[:50] or "operator"
        who = Sender(kind=PrincipalKind.SECAS, id=f"cli.{user}", name=f"SECAS ({user}, uep CLI)")
    return Principal(kind=who.kind, id=who.id, name=who.name, on_behalf_of=behalf)


def rpc_error(err: RPCError, case_id: str) -> CliError:
    if err.status == RPCStatusCode.NOT_FOUND:
        return CliError(f"no case {case_id!r} (check the id with `uep case list`)", REFUSED)
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return CliError(f"Temporal did not answer: {err.message}", UNREACHABLE)
    return CliError(f"Temporal refused: {err.message}", REFUSED)


# -- start -------------------------------------------------------------------------------------


def start_payload(args: argparse.Namespace) -> dict[str, Any]:
    """The workflow input from ``--file`` or the flags, validated like the workflow does."""
    if args.file:
        try:
            raw = json.loads(Path(args.file).read_text())
        except OSError as err:
            raise CliError(f"cannot read {args.file}: {err.strerror}", USAGE) from None
        except json.JSONDecodeError as err:
            raise CliError(f"{args.file} is not JSON: {err}", USAGE) from None
    else:
        missing = [
            f"--{n}"
            for n in ("party-id", "party-name", "category", "role")
            if getattr(args, n.replace("-", "_")) is None
        ]
        if missing:
            raise CliError(f"give --file, or {', '.join(missing)}", USAGE)
        party: dict[str, Any] = {
            "party_id": args.party_id,
            "party_name": args.party_name,
            "category": args.category,
            "licences": args.licence or [],
        }
        if args.mop_or_mam:
            party["mop_or_mam"] = True
        if args.non_domestic:
            party["supplies_domestic"] = False
        raw = {"party": party, "role": args.role}
        if args.rules_version:
            raw["rules_version"] = args.rules_version
        if args.started_on:
            raw["started_on"] = args.started_on
        if args.actor:
            raw["actor"] = args.actor
    if isinstance(raw, dict):  # the region a case runs under defaults to UEP_CALENDAR_REGION
        raw.setdefault("calendar_region", get_settings().calendar_region)
    try:
        model = StartCase.model_validate(raw)
    except ValidationError as err:
        raise CliError("start input: " + format_validation_error(err), USAGE) from None
    try:
        check_eligibility(model.party, model.role)  # the workflow's own rule, before it starts
    except DomainError as err:
        raise CliError(f"refused: {err}", REFUSED) from None
    return model.model_dump(mode="json", exclude_none=True)


async def start_case(client: Client, payload: dict[str, Any], task_queue: str) -> tuple[str, str]:
    """Start the case's workflow; (case id, run id). Refused while one is open for that id."""
    role = UserRole(payload["role"])
    case_id = names.workflow_id(payload["party"]["party_id"], str(role))
    try:
        handle = await client.start_workflow(
            names.WORKFLOW_TYPE,
            payload,
            id=case_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary=f"{payload['party']['party_name']} - {role.label}",
        )
    except WorkflowAlreadyStartedError:
        raise CliError(
            f"a case {case_id} is already open for this Party and role", REFUSED
        ) from None
    return case_id, handle.result_run_id or ""


async def _start(args: argparse.Namespace) -> int:
    payload = start_payload(args)
    config = settings()
    if config.api_url:
        async with _api_client(config, args) as api:
            answer = await _through_api(api.start_case(payload))
        if args.json:
            print_json(answer.model_dump())
        else:
            _out().print(f"started [bold]{answer.case_id}[/] through the API")
        return OK
    client = await connect(config)
    with signing_as(cli_principal(args)):
        case_id, run_id = await start_case(client, payload, config.task_queue)
    if args.json:
        print_json({"case_id": case_id, "run_id": run_id})
    else:
        _out().print(f"started [bold]{case_id}[/] (run {run_id})")
        _out().print(f"next: uep case show {case_id}")
    return OK


# -- send --------------------------------------------------------------------------------------


def parse_json_object(text: str) -> dict[str, Any]:
    """A JSON object from the command line, or a usage error."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise CliError(f"--json is not valid JSON: {err}", USAGE) from None
    if not isinstance(value, dict):
        raise CliError('--json must be a JSON object, e.g. \'{"user_id": "..."}\'', USAGE)
    return value


def refusal_message(err: WorkflowUpdateFailedError) -> str:
    """The workflow's own explanation of a refused update."""
    cause: BaseException | None = err.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(err.cause or err)


async def _send(args: argparse.Namespace) -> int:
    message = MESSAGES.get(args.message)
    if message is None:
        raise CliError(
            f"no message named {args.message!r}; known: {', '.join(sorted(MESSAGES))}", USAGE
        )
    if args.signal and not message.signal:
        raise CliError(f"{args.message} is an update only (it has no signal form)", USAGE)
    payload = parse_json_object(args.json_payload or "{}")
    config = settings()
    if config.api_url:
        return await _send_through_api(config, args, payload)
    client = await connect(config)
    with signing_as(cli_principal(args)):
        return await _deliver(client, args, payload)


async def _deliver(client: Client, args: argparse.Namespace, payload: dict[str, Any]) -> int:
    handle = client.get_workflow_handle(args.case_id)
    if args.signal:
        payload.setdefault("message_id", f"cli-{uuid.uuid4()}")
        try:
            await handle.signal(args.message, payload)
        except RPCError as err:
            raise rpc_error(err, args.case_id) from None
        if args.as_json:
            print_json({"signal": args.message, "message_id": payload["message_id"]})
        else:
            _out().print(
                f"signal {args.message} sent, message_id {payload['message_id']}; a refusal "
                f"shows under rejected messages in `uep case show {args.case_id}`"
            )
        return OK
    try:
        result = await execute_update(client, handle, args.message, payload, None)
    except WorkflowUpdateFailedError as err:
        print(f"refused: {refusal_message(err)}", file=sys.stderr)
        return REFUSED
    except RPCError as err:
        raise rpc_error(err, args.case_id) from None
    if args.as_json:
        print_json(result)
    else:
        events = ", ".join(result.get("events", [])) or "nothing new"
        note = f" ({result['message']})" if result.get("message") else ""
        _out().print(f"accepted: {events}; stage now [bold]{result.get('stage')}[/]{note}")
    return OK


async def _send_through_api(
    config: Settings, args: argparse.Namespace, payload: dict[str, Any]
) -> int:
    """The same send through the HTTP API (UEP_API_URL, UEP_API_TOKEN): one client path."""
    from uep.api.client import ApiError  # the API's models load only when it is used

    async with _api_client(config, args) as api:
        if args.signal:
            payload.setdefault("message_id", f"cli-{uuid.uuid4()}")
            sent = await _through_api(api.signal(args.case_id, args.message, payload))
            if args.as_json:
                print_json(sent.model_dump())
            else:
                _out().print(f"signal {args.message} sent, message_id {sent.message_id}")
            return OK
        try:
            result = await api.send(args.case_id, args.message, payload)
        except ApiError as err:
            if err.status == 503:
                raise CliError(f"the API: {err.problem.detail}", UNREACHABLE) from None
            print(f"refused: {err.problem.detail}", file=sys.stderr)
            return REFUSED
    if args.as_json:
        print_json(result.model_dump())
    else:
        events = ", ".join(result.events) or "nothing new"
        _out().print(f"accepted: {events}; stage now [bold]{result.stage}[/]")
    return OK


def _api_client(config: Settings, args: argparse.Namespace) -> UepClient:
    from uep.api.client import UepClient

    assert config.api_url is not None
    if not config.api_token:
        raise CliError("UEP_API_URL is set: set UEP_API_TOKEN too (uep token create)", USAGE)
    return UepClient(config.api_url, config.api_token, on_behalf_of=args.on_behalf_of)


async def _through_api(call: Awaitable[T]) -> T:
    from uep.api.client import ApiError

    try:
        return await call
    except ApiError as err:
        code = UNREACHABLE if err.status == 503 else REFUSED
        raise CliError(f"the API refused: {err.problem.detail}", code) from None


# -- show --------------------------------------------------------------------------------------


async def fetch_state(client: Client, case_id: str) -> dict[str, Any]:
    """The case's ``state`` query answer (its CaseView as JSON)."""
    try:
        state = await client.get_workflow_handle(case_id).query(names.STATE_QUERY)
    except RPCError as err:
        raise rpc_error(err, case_id) from None
    if not isinstance(state, dict):
        raise CliError(f"unexpected answer from the state query: {state!r}", REFUSED)
    return state


def _wd(value: Any) -> str:
    return "" if value is None else str(value)


def render_case(console: Console, view: dict[str, Any]) -> None:
    """The case as a person reads it: stage, requirements, who must act, deadlines."""
    if "stage" not in view:
        console.print(f"{view.get('status')}: {view.get('detail')}")
        return
    console.print(f"[bold]{view['summary']}[/]  ({view['case_id']})")
    console.print(
        f"status {view['status']}, stage [bold]{view['stage_label']}[/] ({view['stage']}), "
        f"rules {view['rules_version']}, started {view['started_on']}, "
        f"User ID {view.get('user_id') or '-'}"
    )
    extra = []
    if view.get("forecast_completion_on"):
        extra.append(f"forecast completion {view['forecast_completion_on']}")
    if view.get("mandate_due_on"):
        status = str(view.get("mandate_status", "")).replace("_", " ")
        extra.append(f"mandate {view['mandate_due_on']} ({status})")
    if view.get("completed_on"):
        extra.append(f"completed {view['completed_on']}")
    if extra:
        console.print(", ".join(extra))
    reqs = Table(title="Requirements", title_justify="left")
    for col in ("requirement", "status", "met", "verified on"):
        reqs.add_column(col)
    for r in view.get("requirements", []):
        reqs.add_row(
            r["requirement"], r["status"], "yes" if r["met"] else "no", _wd(r.get("verified_on"))
        )
    console.print(reqs)
    waiting = Table(title="Outstanding: who must act", title_justify="left")
    for col in ("who", "what", "requirement", "due on"):
        waiting.add_column(col)
    for item in view.get("outstanding", []):
        waiting.add_row(
            str(item["who"]), item["what"], item["requirement"], _wd(item.get("due_on"))
        )
    console.print(waiting)
    if view.get("deadlines"):
        table = Table(title="Deadlines", title_justify="left")
        for col in ("what", "who", "due on", "working days left"):
            table.add_column(col)
        for d in view["deadlines"]:
            table.add_row(
                d["what"], str(d["who"]), _wd(d["due_on"]), _wd(d.get("working_days_left"))
            )
        console.print(table)
    if view.get("dcc_steps"):
        table = Table(title="DCC completion steps", title_justify="left")
        for col in ("step", "cycle", "opened", "due", "done", "status", "WD late"):
            table.add_column(col)
        for s in view["dcc_steps"]:
            table.add_row(
                s["step"],
                str(s["cycle"]),
                _wd(s["opened_on"]),
                _wd(s["due_on"]),
                _wd(s.get("done_on")),
                s["status"],
                str(s.get("working_days_late", 0)),
            )
        console.print(table)
    for rejected in view.get("rejected_messages", []):
        console.print(
            f"[red]rejected[/] {rejected['name']} ({rejected.get('message_id')}): "
            f"{rejected['error']}"
        )


async def _show(args: argparse.Namespace) -> int:
    client = await connect()
    view = await fetch_state(client, args.case_id)
    if args.json:
        print_json(view)
    else:
        render_case(_out(), view)
    return OK


# -- list --------------------------------------------------------------------------------------


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def list_query(args: argparse.Namespace, now: datetime | None = None) -> str:
    """The visibility query for the filters given."""
    parts = [f"WorkflowType = {_quote(names.WORKFLOW_TYPE)}", 'ExecutionStatus != "ContinuedAsNew"']
    if args.stage:
        parts.append(f"{names.SA_STAGE.name} = {_quote(args.stage)}")
    if args.role:
        parts.append(f"{names.SA_ROLE.name} = {_quote(args.role)}")
    if args.party:
        parts.append(f"{names.SA_PARTY_ID.name} = {_quote(args.party)}")
    if args.overdue:
        moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts.append(f"{names.SA_NEXT_DEADLINE.name} < {_quote(moment)}")
        parts.append('ExecutionStatus = "Running"')
    return " AND ".join(parts)


def case_row(execution: WorkflowExecution) -> dict[str, Any]:
    """One case of the list, from its visibility record and search attributes."""
    attrs = execution.typed_search_attributes
    deadline = attrs.get(names.SA_NEXT_DEADLINE)
    mandate = attrs.get(names.SA_MANDATE_DATE)
    stage = attrs.get(names.SA_STAGE)
    running = execution.status == WorkflowExecutionStatus.RUNNING
    status = execution.status.name.lower() if execution.status else "unknown"
    return {
        "case_id": execution.id,
        "party_id": attrs.get(names.SA_PARTY_ID),
        "party_name": attrs.get(names.SA_PARTY_NAME),
        "category": attrs.get(names.SA_PARTY_CATEGORY),
        "role": attrs.get(names.SA_ROLE),
        "stage": stage,
        # The board's words: open, completed, withdrawn (the stage says which way it closed);
        # a case that failed before it had a stage was refused at start
        "status": "open"
        if running
        else (
            stage
            if stage in ("completed", "withdrawn")
            else ("refused at start" if stage is None and status == "failed" else status)
        ),
        "next_deadline": deadline.date().isoformat() if deadline else None,
        "mandate_date": mandate.date().isoformat() if mandate else None,
        "started_on": execution.start_time.date().isoformat(),
    }


async def list_cases(client: Client, query: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Cases matching the visibility query, newest first."""
    rows = []
    async for execution in client.list_workflows(query, limit=limit):
        rows.append(case_row(execution))
    return rows


_BOARD_SQL = """
SELECT case_id, party_id, party_name, party_category AS category, role, stage, status,
       next_deadline, mandate_due_on AS mandate_date, started_on
FROM case_board
WHERE ($1::text IS NULL OR stage = $1)
  AND ($2::text IS NULL OR role = $2)
  AND ($3::text IS NULL OR party_id = $3)
  AND (NOT $4 OR (status = 'open' AND next_deadline < $5))
ORDER BY updated_at DESC
"""


async def board_cases(
    config: Settings, args: argparse.Namespace, today: date | None = None
) -> list[dict[str, Any]] | None:
    """Cases from the case-board read model, or None when it cannot be read."""
    try:
        conn = await asyncpg.connect(database_url(config), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError):
        return None
    try:
        if await conn.fetchval("SELECT to_regclass('case_board')") is None:
            return None
        found = await conn.fetch(
            _BOARD_SQL, args.stage, args.role, args.party, args.overdue, today or date.today()
        )
    finally:
        await conn.close()
    return [
        {k: v.isoformat() if isinstance(v, date) else v for k, v in dict(r).items()} for r in found
    ]


async def _list(args: argparse.Namespace) -> int:
    config = settings()
    rows = None
    source = "the case board read model"
    if args.source in ("auto", "board"):
        rows = await board_cases(config, args)
        if rows is None and args.source == "board":
            raise CliError(
                f"cannot read the case board at {database_url(config)}; is the stack running?",
                UNREACHABLE,
            )
    if rows is None:
        source = "Temporal visibility"
        client = await connect(config)
        try:
            rows = await list_cases(client, list_query(args))
        except RPCError as err:
            raise CliError(f"Temporal refused the list query: {err.message}", REFUSED) from None
        if args.source == "auto":
            print(
                "uep case: the case board is not reachable; listed from Temporal visibility",
                file=sys.stderr,
            )
    elif not (args.stage or args.role or args.party or args.overdue):
        rows += await refused_starts(config, {r["case_id"] for r in rows})
    if args.json:
        print_json(rows)
        return OK
    _out().print(cases_table(rows, f"{len(rows)} case(s), from {source}"))
    return OK


REFUSED_QUERY = (
    f'WorkflowType = "{names.WORKFLOW_TYPE}" AND ExecutionStatus = "Failed" '
    f"AND {names.SA_STAGE.name} IS NULL"
)
"""Starts the workflow refused at once: they failed before the case had a stage, and wrote
nothing to the event store (so the board, which follows the store, cannot list them)."""


async def refused_starts(config: Settings, listed: set[str]) -> list[dict[str, Any]]:
    """Cases refused at start, from Temporal visibility (best effort beside the board)."""
    try:
        client = await connect(config)
        rows = await list_cases(client, REFUSED_QUERY, limit=200)
    except (TemporalUnreachable, RPCError):
        return []
    return [r for r in rows if r["case_id"] not in listed]


def cases_table(rows: list[dict[str, Any]], title: str) -> Table:
    """The case list as a table; a past next deadline of an open case in red."""
    today = date.today().isoformat()
    table = Table(title=title, title_justify="left")
    for col in ("case", "party", "category", "role", "stage", "next deadline", "status"):
        table.add_column(col)
    for r in rows:
        deadline = r["next_deadline"] or ""
        if deadline and deadline < today and r["status"] == "open":
            deadline = f"[red]{deadline}[/]"
        table.add_row(
            r["case_id"],
            r["party_name"] or "",
            r["category"] or "",
            r["role"] or "",
            r["stage"] or "",
            deadline,
            r["status"] or "",
        )
    return table


# -- wiring ------------------------------------------------------------------------------------


async def _dispatch(args: argparse.Namespace) -> int:
    code: int = await args.case_func(args)
    return code


def add_parser(sub: Any) -> None:
    """Register `uep case` and its subcommands."""
    case = sub.add_parser("case", help="start, message, show and list UEP cases")
    case.set_defaults(func=run_command("uep case", _dispatch))
    cs = case.add_subparsers(dest="case_command", required=True)

    p = cs.add_parser("start", help="start a case for a Party and User Role")
    p.add_argument("--file", help="JSON file with the workflow input (as in the Web UI)")
    p.add_argument("--party-id")
    p.add_argument("--party-name")
    p.add_argument("--category", help="large_supplier, small_supplier, ...")
    p.add_argument("--licence", action="append", help="repeatable: gas_supply, ...")
    p.add_argument("--role", help="gas_supplier, other_user, ...")
    p.add_argument("--mop-or-mam", action="store_true", help="Meter Operator / Asset Manager")
    p.add_argument("--non-domestic", action="store_true", help="supplies non-domestic only")
    p.add_argument("--rules-version", help="guidance-2018 or mp112")
    p.add_argument("--started-on", help="YYYY-MM-DD: the date SECAS was notified")
    p.add_argument("--actor")
    _principal_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(case_func=_start)

    p = cs.add_parser("send", help="send an update (default) or a signal to a case")
    p.add_argument("case_id")
    p.add_argument("message", help="update / signal name, e.g. propose_user_id")
    p.add_argument("--json", dest="json_payload", metavar="PAYLOAD", help="the payload object")
    p.add_argument("--signal", action="store_true", help="send as a signal (fire-and-forget)")
    p.add_argument("--print-json", dest="as_json", action="store_true", help="print JSON")
    _principal_options(p)
    p.set_defaults(case_func=_send)

    p = cs.add_parser("show", help="one case: stage, requirements, who must act, deadlines")
    p.add_argument("case_id")
    p.add_argument("--json", action="store_true", help="print the state query's JSON")
    p.set_defaults(case_func=_show)

    p = cs.add_parser("list", help="cases by stage, role, party; overdue ones")
    p.add_argument("--stage")
    p.add_argument("--role")
    p.add_argument("--party", help="party id")
    p.add_argument("--overdue", action="store_true", help="next deadline already past")
    p.add_argument(
        "--source",
        choices=("auto", "board", "temporal"),
        default="auto",
        help="the case board read model (auto: if reachable) or Temporal visibility",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(case_func=_list)


def _principal_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--as",
        dest="as_principal",
        metavar="KIND[:ID]",
        help="sign as this principal: dcc, panel, party:acme, ... (default: SECAS, you)",
    )
    p.add_argument(
        "--on-behalf-of",
        metavar="KIND[:ID]",
        help="SECAS records the message for this sender (default: the message's sender)",
    )
