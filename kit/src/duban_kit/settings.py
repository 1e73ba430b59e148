"""Settings every service shares, read from the environment.

`DUBAN_<FIELD>` sets a field for all services; `DUBAN_<SERVICE>_<FIELD>` overrides it for one
service (e.g. `DUBAN_TASKS_HTTP_PORT=8102`). Services subclass `ServiceSettings` to add their own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from duban_contracts.subjects import DEFAULT_NAMESPACE, Subjects
from duban_contracts.topology import Topology

from .tokens import load_tokens

DEFAULT_HTTP_PORTS = {"ingest": 8101, "tasks": 8102, "alerts": 8103, "reports": 8104}


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUBAN_", extra="ignore", env_nested_delimiter="__")

    service_name: ClassVar[str] = "service"

    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server(s), comma-separated.")
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_creds_file: Path | None = Field(default=None, description="A NATS .creds file (JWT + nkey).")
    nats_inbox_prefix: str | None = Field(
        default=None, description="This user's own inbox prefix, so replies are not readable by others."
    )
    namespace: str = Field(default=DEFAULT_NAMESPACE, description="Subject and stream namespace.")
    stream_replicas: int = Field(default=1, ge=1, le=5)

    home: Path = Field(default=Path("."), description="Where var/ and out/ live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: a SQLite file per service under var/. PostgreSQL URLs work "
        "unchanged; each service then uses its own schema.",
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema; default <namespace>_<service>, e.g. duban_tasks."
    )

    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=None, description="Port for /metrics, /healthz, /readyz and the API.")
    api_tokens_file: Path | None = Field(
        default=None,
        description="File of `token role name` lines: the HTTP API's bearer tokens, each with its role and "
        "its holder's name (duban_kit.tokens). Placeholder tokens are refused at start.",
    )
    api_tokens: str | None = Field(
        default=None, description="`token:role:name,…` (alternative to the file; `token:role` still works)."
    )
    read_requires_token: bool = Field(
        default=True, description="Whether the API's read-only endpoints need a token (/healthz, /readyz never do)."
    )
    metrics_requires_token: bool = Field(default=False, description="Whether /metrics needs a reader's token.")

    log_level: str = "INFO"
    fetch_batch: int = Field(default=256, ge=1, le=10_000, description="Messages fetched per pull request.")
    fetch_timeout_seconds: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, description="Attempts before a failing message is dead-lettered.")
    ack_wait_seconds: float = Field(default=30.0, gt=0, description="JetStream ack wait of the durable consumers.")
    retry_base_seconds: float = Field(default=0.5, gt=0)
    retry_max_seconds: float = Field(default=30.0, gt=0)
    consumer_info_interval_seconds: float = 10.0

    @field_validator("namespace")
    @classmethod
    def _valid_namespace(cls, value: str) -> str:
        Subjects(value)  # raises with a clear message
        return value

    @model_validator(mode="after")
    def _usable_tokens(self) -> Self:
        """Refuse unreadable, malformed or placeholder tokens now, naming the setting."""
        load_tokens(self.api_tokens_file, self.api_tokens)
        return self

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Settings from the environment, with DUBAN_<SERVICE>_* taking precedence over DUBAN_*."""
        prefix = f"DUBAN_{cls.service_name.upper()}_"
        specific = {key[len(prefix) :].lower(): value for key, value in os.environ.items() if key.startswith(prefix)}
        return cls(**{**specific, **overrides})

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.namespace)

    @property
    def topology(self) -> Topology:
        return Topology(self.subjects, replicas=self.stream_replicas, ack_wait_seconds=self.ack_wait_seconds)

    @property
    def var_dir(self) -> Path:
        return self.home / "var"

    @property
    def out_dir(self) -> Path:
        return self.home / "out"

    @property
    def effective_http_port(self) -> int:
        if self.http_port is not None:
            return self.http_port
        return DEFAULT_HTTP_PORTS.get(self.service_name, 8100)

    @property
    def effective_database_url(self) -> str:
        return resolve_database_url(self.database_url, self.service_name, self.var_dir)

    @property
    def effective_database_schema(self) -> str:
        return self.database_schema or f"{self.namespace}_{self.service_name}".replace("-", "_")


def resolve_database_url(url: str | None, service: str, var_dir: Path) -> str:
    """The URL a service uses: its own SQLite file, or the shared PostgreSQL database.

    A SQLite URL may hold `{service}`; without it, the service's name is appended to the file name,
    so that no two services ever share tables.
    """
    if not url:
        return f"sqlite:///{(var_dir / f'{service}.db').as_posix()}"
    if url.startswith("sqlite"):
        if "{service}" in url:
            return url.replace("{service}", service)
        if url.endswith(".db"):
            return f"{url[:-3]}-{service}.db"
        return f"{url}-{service}"
    return url
