"""The client side of signed principals: the key, and the interceptor the `uep` tools and the
HTTP API use to attach a principal to every start, update and signal.

The principal a call is signed as is taken from a context variable, so one Temporal client
serves many principals (the API sets it per request; a CLI command once). No principal set:
the message goes unsigned, which the worker takes as the Web UI (allowed or refused by the
deployment's setting).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
)

from domain.principals import HEADER, START, Principal, PrincipalKind, Sender, sign
from uep.settings import Settings

DEV_PRINCIPAL_KEY = Path("keys") / "principal-hmac.key"
KEY_BYTES = 32


class PrincipalKeyUnavailable(RuntimeError):
    """No principal key where the settings say; the message says where and how to fix it."""


def principal_key_path(config: Settings) -> Path:
    """``UEP_PRINCIPAL_KEY_FILE``, else the dev stack's key under the state directory."""
    return config.principal_key_file or config.state_dir / DEV_PRINCIPAL_KEY


def load_principal_key(config: Settings) -> bytes:
    """The deployment's HMAC key (hex text in its file)."""
    path = principal_key_path(config)
    try:
        key = bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        raise PrincipalKeyUnavailable(
            f"no principal key at {path}: set UEP_PRINCIPAL_KEY_FILE, or start `uep dev` once "
            "to create the development key"
        ) from None
    except (OSError, ValueError) as err:
        raise PrincipalKeyUnavailable(f"cannot read the principal key {path}: {err}") from None
    if len(key) < 16:
        raise PrincipalKeyUnavailable(f"the principal key {path} is shorter than 16 bytes")
    return key


def principal_key_or_none(config: Settings) -> bytes | None:
    """The key if there is one (a process without it sends unsigned, verifies nothing)."""
    try:
        return load_principal_key(config)
    except PrincipalKeyUnavailable:
        return None


def ensure_dev_principal_key(state_dir: Path) -> Path:
    """The dev stack's principal key under ``state_dir``, created (mode 0600) when missing."""
    path = state_dir / DEV_PRINCIPAL_KEY
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(KEY_BYTES) + "\n")
    return path


@dataclass(frozen=True)
class Signing:
    """Who the calls in this context are signed as, and the request they serve."""

    principal: Principal
    request_id: str | None = None


SIGNING: ContextVar[Signing | None] = ContextVar("uep_signing", default=None)


@contextmanager
def signing_as(principal: Principal, request_id: str | None = None) -> Iterator[None]:
    """Sign every start, update and signal in this context as ``principal``."""
    token = SIGNING.set(Signing(principal, request_id))
    try:
        yield
    finally:
        SIGNING.reset(token)


def parse_principal(text: str, name: str | None = None) -> Sender:
    """``dcc``, ``party:acme`` or ``secas:alice`` as a sender (for ``--as``)."""
    kind_text, _, ident = text.partition(":")
    kind = PrincipalKind(kind_text)
    ident = ident or (str(kind) if kind != PrincipalKind.PARTY else "")
    if not ident:
        raise ValueError("a Party principal needs its id: party:<party_id>")
    label = name or (f"Party {ident}" if kind == PrincipalKind.PARTY else kind.label)
    return Sender(kind=kind, id=ident, name=label)


class PrincipalHeaders(Interceptor):
    """Client interceptor: a signed principal header on every start, update and signal."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        """Wrap the client's outbound calls."""
        return _Outbound(next, self.key)


class _Outbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, key: bytes | None) -> None:
        super().__init__(next)
        self._key = key

    def _headers(self, headers: Any, workflow_id: str, message: str) -> Any:
        signing = SIGNING.get()
        if signing is None or self._key is None:
            return headers
        data = sign(self._key, signing.principal, workflow_id, message, signing.request_id)
        payload = Payload(metadata={"encoding": b"json/plain"}, data=data)
        return {**headers, HEADER: payload}

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.headers = self._headers(input.headers, input.id, START)
        return await super().start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        input.headers = self._headers(input.headers, input.id, input.signal)
        await super().signal_workflow(input)

    async def start_workflow_update(
        self, input: StartWorkflowUpdateInput
    ) -> WorkflowUpdateHandle[Any]:
        input.headers = self._headers(input.headers, input.id, input.update)
        return await super().start_workflow_update(input)
