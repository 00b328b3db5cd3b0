"""One wiring point for configuration: environment variables with the ``UEP_`` prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflows.names import TASK_QUEUE


class Settings(BaseSettings):
    """Settings shared by the worker, the projector, the CLI and the dev stack."""

    model_config = SettingsConfigDict(env_prefix="UEP_", extra="ignore")

    state_dir: Path = Field(default=Path(".uep"), description="Where embedded data lives.")
    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset means the embedded server under state_dir."
    )
    pg_port: int = Field(
        default=55432, description="TCP port of the embedded PostgreSQL (other terminals find it)."
    )
    temporal_address: str = Field(default="localhost:7233", description="Temporal frontend.")
    namespace: str = Field(default="default", description="Temporal namespace.")
    task_queue: str = Field(default=TASK_QUEUE, description="Task queue of the worker.")
    ui_port: int = Field(default=8233, description="Temporal Web UI port of the dev server.")
    calendar_region: str = Field(
        default="england-and-wales", description="Working-Day calendar region."
    )
    log_format: str = Field(default="auto", description="auto | json | console")
    notice_dir: Path | None = Field(
        default=None,
        description="Where the file channel delivers completion notices; unset: no channel, "
        "notices wait in the outbox.",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PKCS#8 PEM) that signs tree heads and audit bundles; "
        "unset means the key `uep dev` keeps under state_dir/keys.",
    )
    principal_key_file: Path | None = Field(
        default=None,
        description="HMAC key (hex) that signs and verifies principal headers; unset means the "
        "key `uep dev` keeps under state_dir/keys.",
    )
    allow_ui_writes: bool = Field(
        default=False,
        description="Take a message with no principal header (the Temporal Web UI) as SECAS; "
        "`uep dev` turns it on, production decides.",
    )
    api_host: str = Field(default="127.0.0.1", description="Interface of `uep api`.")
    api_port: int = Field(default=8000, description="Port of `uep api`.")
    api_url: str | None = Field(
        default=None, description="Send `uep case start|send` through this API instead."
    )
    api_token: str | None = Field(default=None, description="The API token `uep case` uses.")
    api_token_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description="Seconds `uep api` remembers a token it found live (a revoked token is "
        "refused at most this long after); 0 asks PostgreSQL on every request.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Interface the services' metrics and health server listens on (0.0.0.0 in "
        "a container).",
    )
    metrics_port: int = Field(
        default=9464, description="Port of a service's /metrics, /healthz and /readyz."
    )
    temporal_metrics_port: int = Field(
        default=9465, description="Port of the worker's Temporal SDK metrics (/metrics)."
    )
    projector_max_lag: float = Field(
        default=300.0,
        description="Seconds an event may wait for the projector before /readyz says not ready.",
    )
    dev_max_deaths: int = Field(
        default=5,
        ge=2,
        le=1000,
        description="`uep dev` stops the stack when one child dies this often within a minute "
        "(a crash loop); below that it restarts the child.",
    )
    projector_coalesce: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="Seconds the projector lets a burst of appends gather before applying it "
        "(one transaction per read model for the lot); 0 applies each wake-up at once.",
    )


def get_settings() -> Settings:
    """Read settings from the environment."""
    return Settings()
