"""Subject names, in one place.

Every subject lives under a namespace (default `duban`) so that a test run, or a second tenant on
the same NATS, gets its own subject space and streams:

- `<ns>.in.submission`              what integrations publish (stream IN); the shared subject, for
                                    trusted publishers that may speak for every unit
- `<ns>.in.submission.<integration>` what one registered integration publishes: ingest holds it to the
                                    units it may speak for, NATS lets only that integration publish it
- `<ns>.v1.<entity>.<past-verb>`    canonical events (stream EVENTS)
- `<ns>.v1.<service>.<verb>`        request/reply queries and commands (core NATS, no stream)
- `<ns>.dlq.<service>`              dead letters (stream DLQ)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .events import EVENT_TYPES

DEFAULT_NAMESPACE = "duban"
_NAMESPACE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
#: An integration's id: one subject token (no dots or wildcards), also its NATS user's and token's name.
INTEGRATION_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

SERVICES = ("ingest", "tasks", "alerts", "reports")

#: Request/reply endpoints per service (`<ns>.v1.<service>.<verb>`); never captured by a stream.
#: Every service answers `status` (its outbox and relay, from `duban_kit`), beside its own verbs.
RPC_VERBS: dict[str, tuple[str, ...]] = {
    "ingest": ("status", "query", "replay", "console"),
    "tasks": ("status", "query", "console"),
    "alerts": ("status", "query", "command", "console", "cases"),
    "reports": ("status", "query", "generate", "console", "file"),
}


@dataclass(frozen=True)
class Subjects:
    namespace: str = DEFAULT_NAMESPACE

    def __post_init__(self) -> None:
        if not _NAMESPACE_RE.match(self.namespace):
            raise ValueError(
                f"namespace {self.namespace!r} must be lowercase letters, digits, '-' or '_', starting with a letter"
            )

    @property
    def inbound_submission(self) -> str:
        return f"{self.namespace}.in.submission"

    @property
    def inbound_all(self) -> str:
        return f"{self.namespace}.in.>"

    def integration_submission(self, integration: str) -> str:
        """`bz-ez-campus` -> `duban.in.submission.bz-ez-campus`: the subject only that integration publishes."""
        return f"{self.inbound_submission}.{check_integration_id(integration)}"

    @property
    def integration_submissions(self) -> str:
        """Every integration's own subject (`<ns>.in.submission.*`), not the shared one."""
        return f"{self.inbound_submission}.*"

    def integration_of(self, subject: str) -> str | None:
        """Who a submission speaks as, from its subject: None on the shared subject, else the integration
        named by the subject (anything else under `<ns>.in.` is returned whole, and so matches no
        registered integration)."""
        if subject == self.inbound_submission:
            return None
        prefix = f"{self.inbound_submission}."
        return subject[len(prefix) :] if subject.startswith(prefix) else subject

    def event(self, event_type: str) -> str:
        """`progress.recorded` -> `duban.v1.progress.recorded`."""
        if event_type not in EVENT_TYPES:
            raise KeyError(f"unknown event type {event_type!r}")
        return f"{self.namespace}.v1.{event_type}"

    def all_events(self) -> list[str]:
        return [self.event(t) for t in EVENT_TYPES]

    def rpc(self, service: str, verb: str) -> str:
        if verb not in RPC_VERBS.get(service, ()):
            raise KeyError(f"service {service!r} has no request endpoint {verb!r}")
        return f"{self.namespace}.v1.{service}.{verb}"

    def dead_letter(self, service: str) -> str:
        return f"{self.namespace}.dlq.{service}"

    @property
    def dead_letter_all(self) -> str:
        return f"{self.namespace}.dlq.>"

    def event_type_of(self, subject: str) -> str | None:
        prefix = f"{self.namespace}.v1."
        if subject.startswith(prefix) and subject[len(prefix) :] in EVENT_TYPES:
            return subject[len(prefix) :]
        return None

    def stream_name(self, suffix: str) -> str:
        return f"{self.namespace.upper().replace('-', '_')}_{suffix}"


def check_integration_id(integration: str) -> str:
    if not INTEGRATION_ID_RE.match(integration):
        raise ValueError(
            f"integration id {integration!r} must be lowercase letters, digits, '-' or '_' (at most 63), "
            "starting with a letter or digit: it is a NATS subject token"
        )
    return integration
