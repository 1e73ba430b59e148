"""Writes `accounts.conf`: duban's NATS users, each allowed only what its role needs, from the topology
and the integrations registry.

    .venv/bin/python deploy/nats/generate_auth.py            # rewrite deploy/nats/accounts.conf (+ k8s copies)
    .venv/bin/python deploy/nats/generate_auth.py --stdout   # print it
    .venv/bin/python deploy/nats/generate_auth.py --namespace tenant2 --stdout
    .venv/bin/python deploy/nats/generate_auth.py --integrations none --stdout   # no registry: one shared user

Integrations (deploy/integrations.yaml, the file ingest reads as DUBAN_INGEST_INTEGRATIONS_FILE): each
registered integration gets its own user `integration-<id>`, which may publish only to its own
subject `<ns>.in.submission.<id>` — and to the shared `<ns>.in.submission` only when it is registered
for every unit (`"*"`). So no integration can publish as another, and ingest, reading the integration
from the subject, holds each to the units it may speak for. Without a registry there is one shared
`integration` user on the shared subject, open to every unit (development). The Kubernetes copy of
the registry (k8s/ingest/integrations.yaml, for its ConfigMap) is written beside the accounts.

Permissions follow `duban_contracts.topology`: a service publishes its own events and dead letters,
answers its own request subjects (in its queue group), and pulls from its own durable consumers;
only the provisioner manages streams and consumers. Passwords are never written here: every user's
password is a NATS variable (`$DUBAN_NATS_<USER>_PASSWORD`) that nats-server resolves from its
environment at start-up, and it refuses to start when one is missing. Each user reads replies only
on its own inbox prefix (`_INBOX_<user>`), which clients set with `DUBAN_NATS_INBOX_PREFIX`.
A test fails while the checked-in files differ from this script's output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from duban_contracts.subjects import DEFAULT_NAMESPACE, RPC_VERBS, SERVICES, Subjects, check_integration_id
from duban_contracts.topology import RUNTIME_PUBLISHES, TOPOLOGY, Topology

HERE = Path(__file__).resolve().parent
OUTPUTS = (HERE / "accounts.conf", HERE.parent / "k8s" / "nats" / "accounts.conf")
INTEGRATIONS = HERE.parent / "integrations.yaml"
INTEGRATIONS_K8S_COPY = HERE.parent / "k8s" / "ingest" / "integrations.yaml"
K8S_COPY_HEADER = (
    "# GENERATED copy of deploy/integrations.yaml for the duban-integrations ConfigMap (kustomize reads\n"
    "# only files under deploy/k8s). Edit deploy/integrations.yaml, then run deploy/nats/generate_auth.py.\n"
)
EVERY_UNIT = "*"

ACCOUNT = "DUBAN"
SYSTEM_ACCOUNT = "SYS"
JS_API = "$JS.API"


@dataclass(frozen=True)
class NatsUser:
    name: str
    purpose: str
    publish: tuple[str, ...] = ()
    subscribe: tuple[str, ...] = ()
    #: May answer requests it received (reply subjects are other users' inboxes).
    allow_responses: bool = False
    #: Unrestricted (the admin user).
    unrestricted: bool = False


def password_variable(user: str) -> str:
    return f"DUBAN_NATS_{user.upper().replace('-', '_')}_PASSWORD"


def inbox_prefix(user: str) -> str:
    """The inbox prefix a user's client must set (DUBAN_NATS_INBOX_PREFIX / nats-py `inbox_prefix`)."""
    return f"_INBOX_{user}"


def service_user_name(service: str) -> str:
    return f"svc-{service}"


def _own_inbox(user: str) -> str:
    return f"{inbox_prefix(user)}.>"


def service_user(topology: Topology, service: str) -> NatsUser:
    s = topology.subjects
    name = service_user_name(service)
    own = TOPOLOGY[service]
    publish = [s.event(event_type) for event_type in own.publishes]
    if own.consumes_inbound:
        # The HTTP upload endpoint turns file rows into submissions — staff's on the shared subject, an
        # integration's on its own (the token names it); replay reads raw ones back.
        publish.append(s.inbound_submission)
        publish.append(s.integration_submissions)
        publish.append(f"{JS_API}.STREAM.MSG.GET.{topology.streams['inbound'].name}")
    publish.append(s.dead_letter(service))
    for consumer in topology.consumers_of(service):
        publish += [
            f"{JS_API}.CONSUMER.INFO.{consumer.stream}.{consumer.durable}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{consumer.stream}.{consumer.durable}",
            f"$JS.ACK.{consumer.stream}.{consumer.durable}.>",
        ]
    rpc = [f"{s.rpc(service, verb)} {service}-rpc" for verb in RPC_VERBS[service]]
    return NatsUser(
        name=name,
        purpose=f"the {service} service: its own events, dead letters, request subjects and durable consumers",
        publish=tuple(publish),
        subscribe=(_own_inbox(name), *rpc),
        allow_responses=True,
    )


def provisioner_user(topology: Topology) -> NatsUser:
    publish = [f"{JS_API}.INFO"]
    for stream in topology.streams.values():
        name = stream.name
        publish += [
            f"{JS_API}.STREAM.CREATE.{name}",
            f"{JS_API}.STREAM.UPDATE.{name}",
            f"{JS_API}.STREAM.INFO.{name}",
            f"{JS_API}.CONSUMER.CREATE.{name}.>",
            f"{JS_API}.CONSUMER.DURABLE.CREATE.{name}.>",
            f"{JS_API}.CONSUMER.INFO.{name}.>",
            f"{JS_API}.CONSUMER.DELETE.{name}.>",
            f"{JS_API}.CONSUMER.LIST.{name}",
            f"{JS_API}.CONSUMER.NAMES.{name}",
        ]
    return NatsUser(
        name="provisioner",
        purpose="`duban provision`: creates and updates the namespace's streams and consumers; deletes none",
        publish=tuple(publish),
        subscribe=(_own_inbox("provisioner"),),
    )


def operator_user(topology: Topology) -> NatsUser:
    s = topology.subjects
    publish = [f"{JS_API}.INFO", f"{JS_API}.STREAM.NAMES", f"{JS_API}.STREAM.LIST"]
    for stream in topology.streams.values():
        publish += [
            f"{JS_API}.STREAM.INFO.{stream.name}",
            f"{JS_API}.CONSUMER.INFO.{stream.name}.>",
            f"{JS_API}.CONSUMER.LIST.{stream.name}",
            f"{JS_API}.CONSUMER.NAMES.{stream.name}",
        ]
    # Dead letters, for `duban dlq list`; the inbound stream (personal data) stays closed.
    publish.append(f"{JS_API}.STREAM.MSG.GET.{topology.streams['dlq'].name}")
    publish += [s.rpc(service, verb) for service in SERVICES for verb in ("status", "query")]
    return NatsUser(
        name="operator",
        purpose="read-only: stream and consumer state, dead letters, the services' status and queries",
        publish=tuple(publish),
        subscribe=(_own_inbox("operator"),),
    )


def console_user(topology: Topology) -> NatsUser:
    """The web console (督办台): it holds no data, so it asks the services and listens to their events.

    It checks each person's role itself (the API token they signed in with) before it sends a command;
    replaying raw submissions stays with operators and admins.
    """
    s = topology.subjects
    publish = [s.rpc(service, verb) for service in SERVICES for verb in RPC_VERBS[service] if verb != "replay"]
    return NatsUser(
        name="svc-console",
        purpose="the web console: the services' request verbs (not replay) and their events, live (no inbound data)",
        publish=tuple(publish),
        subscribe=(_own_inbox("svc-console"), *s.all_events()),
    )


def integration_user_name(integration: str) -> str:
    return f"integration-{integration}"


def load_integrations(path: Path) -> dict[str, bool]:
    """The registry's integration ids, each with whether it may speak for every unit (`"*"`).

    Only the ids matter here; ingest checks the units each names against the units' registry.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping) or not isinstance(data.get("integrations"), Mapping):
        raise SystemExit(f"{path}: an integrations registry is a mapping with an `integrations` mapping")
    found: dict[str, bool] = {}
    for integration, allowed in data["integrations"].items():
        check_integration_id(str(integration))
        every = allowed == EVERY_UNIT or (isinstance(allowed, list) and EVERY_UNIT in allowed)
        found[str(integration)] = every
    return found


def integration_users(topology: Topology, integrations: Mapping[str, bool] | None) -> list[NatsUser]:
    s = topology.subjects
    if integrations is None:
        return [
            NatsUser(
                name="integration",
                purpose="integrations, all sharing one user (no registry): submit on the shared subject, for any unit",
                publish=(s.inbound_submission,),
                subscribe=(_own_inbox("integration"),),
            )
        ]
    found = []
    for integration, every_unit in integrations.items():
        name = integration_user_name(integration)
        publish = [s.integration_submission(integration)]
        if every_unit:
            publish.append(s.inbound_submission)
        scope = "every unit, also on the shared subject" if every_unit else "its registered units only"
        found.append(
            NatsUser(
                name=name,
                purpose=f"integration {integration}: submit on its own subject ({scope}), receive JetStream acks",
                publish=tuple(publish),
                subscribe=(_own_inbox(name),),
            )
        )
    return found


def users(topology: Topology, integrations: Mapping[str, bool] | None = None) -> list[NatsUser]:
    s = topology.subjects
    return [
        *integration_users(topology, integrations),
        *(service_user(topology, service) for service in SERVICES),
        console_user(topology),
        NatsUser(
            name="runtime",
            purpose="the event-time clock",
            publish=tuple(s.event(event_type) for event_type in RUNTIME_PUBLISHES),
            subscribe=(_own_inbox("runtime"),),
        ),
        provisioner_user(topology),
        operator_user(topology),
        NatsUser(
            name="admin",
            purpose="break-glass: everything, including deleting streams and replaying dead letters",
            unrestricted=True,
        ),
    ]


def _quoted(items: Sequence[str]) -> str:
    return ", ".join(json.dumps(item) for item in items)


def _render_user(user: NatsUser) -> list[str]:
    lines = [
        f"      # {user.purpose}",
        "      {",
        f"        user: {json.dumps(user.name)}",
        f"        password: ${password_variable(user.name)}",
    ]
    if not user.unrestricted:
        lines += [
            "        permissions: {",
            "          publish: {",
            "            allow: [",
            *(f"              {json.dumps(subject)}" for subject in user.publish),
            "            ]",
            "          }",
            f"          subscribe: {{ allow: [{_quoted(user.subscribe)}] }}",
        ]
        if user.allow_responses:
            # One reply per request received, however long the request takes (report generation).
            lines.append("          allow_responses: true")
        lines.append("        }")
    lines.append("      }")
    return lines


def render(topology: Topology, integrations: Mapping[str, bool] | None = None) -> str:
    namespace = topology.subjects.namespace
    source = "and deploy/integrations.yaml" if integrations is not None else "(no integrations registry)"
    lines = [
        f"# GENERATED by deploy/nats/generate_auth.py from duban_contracts.topology {source};",
        "# do not edit by hand.",
        f"# Namespace {namespace!r}. Each password is read from the environment of nats-server",
        "# ($DUBAN_NATS_<USER>_PASSWORD); the server refuses to start while one is unset.",
        "# Each user reads replies only on its own inbox prefix _INBOX_<user> (clients: DUBAN_NATS_INBOX_PREFIX).",
        "",
        "accounts {",
        f"  {ACCOUNT}: {{",
        "    jetstream: enabled",
        "    users: [",
    ]
    for user in users(topology, integrations):
        lines += _render_user(user)
    lines += [
        "    ]",
        "  }",
        "  # The system account: server events, `nats server report ...`, cluster monitoring.",
        f"  {SYSTEM_ACCOUNT}: {{",
        f'    users: [{{ user: "sys", password: ${password_variable("sys")} }}]',
        "  }",
        "}",
        f"system_account: {SYSTEM_ACCOUNT}",
        "",
    ]
    return "\n".join(lines)


def password_variables(topology: Topology, integrations: Mapping[str, bool] | None = None) -> list[str]:
    """Every environment variable nats-server needs for this file."""
    return [password_variable(user.name) for user in users(topology, integrations)] + [password_variable("sys")]


def k8s_copy(registry: Path = INTEGRATIONS) -> str:
    """The text of the registry's Kubernetes copy."""
    return K8S_COPY_HEADER + registry.read_text(encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE)
    parser.add_argument(
        "--integrations",
        default=str(INTEGRATIONS),
        help="the integrations registry (default deploy/integrations.yaml); `none` for one shared integration user",
    )
    parser.add_argument("--stdout", action="store_true", help="print instead of writing the files")
    args = parser.parse_args(argv)
    registry = None if args.integrations == "none" else Path(args.integrations)
    integrations = load_integrations(registry) if registry is not None else None
    text = render(Topology(Subjects(args.namespace)), integrations)
    if args.stdout:
        sys.stdout.write(text)
        return 0
    for path in OUTPUTS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if registry is not None:
        INTEGRATIONS_K8S_COPY.parent.mkdir(parents=True, exist_ok=True)
        INTEGRATIONS_K8S_COPY.write_text(k8s_copy(registry), encoding="utf-8")
        print(f"wrote {INTEGRATIONS_K8S_COPY}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
