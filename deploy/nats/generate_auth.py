"""Writes `accounts.conf`: duban's NATS users, each allowed only what its role needs, from the topology.

    .venv/bin/python deploy/nats/generate_auth.py            # rewrite deploy/nats/accounts.conf (+ k8s copy)
    .venv/bin/python deploy/nats/generate_auth.py --stdout   # print it
    .venv/bin/python deploy/nats/generate_auth.py --namespace tenant2 --stdout

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from duban_contracts.subjects import DEFAULT_NAMESPACE, RPC_VERBS, SERVICES, Subjects
from duban_contracts.topology import RUNTIME_PUBLISHES, TOPOLOGY, Topology

HERE = Path(__file__).resolve().parent
OUTPUTS = (HERE / "accounts.conf", HERE.parent / "k8s" / "nats" / "accounts.conf")

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
        # The HTTP upload endpoint turns file rows into submissions; replay reads raw ones back.
        publish.append(s.inbound_submission)
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


def users(topology: Topology) -> list[NatsUser]:
    s = topology.subjects
    return [
        NatsUser(
            name="integration",
            purpose="school systems and other bureaus' systems: submit, and receive JetStream acks",
            publish=(s.inbound_all,),
            subscribe=(_own_inbox("integration"),),
        ),
        *(service_user(topology, service) for service in SERVICES),
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


def render(topology: Topology) -> str:
    namespace = topology.subjects.namespace
    lines = [
        "# GENERATED by deploy/nats/generate_auth.py from duban_contracts.topology; do not edit by hand.",
        f"# Namespace {namespace!r}. Each password is read from the environment of nats-server",
        "# ($DUBAN_NATS_<USER>_PASSWORD); the server refuses to start while one is unset.",
        "# Each user reads replies only on its own inbox prefix _INBOX_<user> (clients: DUBAN_NATS_INBOX_PREFIX).",
        "",
        "accounts {",
        f"  {ACCOUNT}: {{",
        "    jetstream: enabled",
        "    users: [",
    ]
    for user in users(topology):
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


def password_variables(topology: Topology) -> list[str]:
    """Every environment variable nats-server needs for this file."""
    return [password_variable(user.name) for user in users(topology)] + [password_variable("sys")]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE)
    parser.add_argument("--stdout", action="store_true", help="print instead of writing the files")
    args = parser.parse_args(argv)
    text = render(Topology(Subjects(args.namespace)))
    if args.stdout:
        sys.stdout.write(text)
        return 0
    for path in OUTPUTS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
