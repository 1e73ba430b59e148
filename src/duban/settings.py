"""Settings of the runtime (`duban up` and the admin commands), from the environment (DUBAN_*)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from duban_contracts.subjects import DEFAULT_NAMESPACE, Subjects
from duban_contracts.topology import Topology

SERVICES = ("ingest", "tasks", "alerts", "reports")
#: The web console (督办台): run by `duban up` beside the services, but no part of the pipeline (it
#: consumes nothing, so "the pipeline is quiet" never waits for it).
CONSOLE = "console"
#: Every process `duban up` supervises: the four services and the console.
PROCESSES = (*SERVICES, CONSOLE)
DEFAULT_PORTS = {"ingest": 8101, "tasks": 8102, "alerts": 8103, "reports": 8104, CONSOLE: 8105}


class RuntimeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUBAN_", extra="ignore")

    nats_url: str | None = Field(default=None, description="External NATS; when unset `duban up` starts its own.")
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_creds_file: Path | None = None
    nats_inbox_prefix: str | None = Field(default=None, description="This user's own inbox prefix (least privilege).")
    nats_port: int = Field(default=4222, description="Port of the embedded NATS server.")
    namespace: str = DEFAULT_NAMESPACE
    stream_replicas: int = 1
    ack_wait_seconds: float = Field(default=30.0, description="JetStream ack wait of the durable consumers.")
    home: Path = Path(".")
    runtime_port: int = Field(default=8100, description="The supervisor's /metrics and /healthz.")
    runtime_host: str = Field(default="127.0.0.1", description="Address the supervisor's HTTP binds to.")
    clock_interval_seconds: float = Field(default=60.0, description="How often the live clock ticks.")
    request_timeout_seconds: float = 30.0

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
