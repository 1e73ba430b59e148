"""deploy/nats: the server configurations load, keep every write on disk, and form an R3 cluster.

Each configuration is checked by nats-server itself (`-t`), laid out as it is installed: next to
accounts.conf, with TLS files (made here with openssl) where the file expects them under /etc/nats/tls.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from duban.isolated import free_port
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_kit.provision import provision

from .nats_auth import ACCOUNTS, NatsNode, password_of, random_passwords, session, wait_healthy, write_with_store
from .tools import DEPLOY, REPO, assert_succeeds, require_tool, run_tool

NATS = DEPLOY / "nats"
GENERATOR = NATS / "generate_auth.py"
SERVER_CONFIGS = [
    NATS / "nats-server.conf",
    NATS / "compose.conf",
    NATS / "cluster" / "node-1.conf",
    NATS / "cluster" / "node-2.conf",
    NATS / "cluster" / "node-3.conf",
    DEPLOY / "k8s" / "nats" / "nats-server.conf",
]
LOOPBACK_TEMPLATE = NATS / "cluster" / "loopback.conf.template"
TLS_FILES = {
    # name the configurations use -> which generated file it is
    "ca.pem": "ca.pem",
    "ca.crt": "ca.pem",
    "server.pem": "server.pem",
    "server-key.pem": "server-key.pem",
    "route.pem": "server.pem",
    "route-key.pem": "server-key.pem",
    "tls.crt": "server.pem",
    "tls.key": "server-key.pem",
}


def relative(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away CA and a server certificate signed by it, under every name the configs use."""
    openssl = require_tool("openssl")
    made = tmp_path_factory.mktemp("tls-made")
    steps = [
        "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=duban-test-CA -keyout ca-key.pem -out ca.pem",
        "req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server-key.pem -out server.csr",
        "x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -out server.pem",
    ]
    for step in steps:
        assert_succeeds(run_tool([openssl, *step.split()], cwd=made))
    tls = tmp_path_factory.mktemp("tls")
    for name, source in TLS_FILES.items():
        shutil.copy(made / source, tls / name)
    return tls


def installed(config: Path, root: Path, tls: Path) -> Path:
    """`config` as it is installed, with its TLS paths and store pointed into `root`."""
    target = root / "nats-server.conf"
    write_with_store(config, target, root / "store")
    text = target.read_text(encoding="utf-8").replace("/etc/nats/tls/", f"{tls.as_posix()}/")
    target.write_text(text, encoding="utf-8")
    shutil.copy(ACCOUNTS, root / "accounts.conf")
    return target


def check_config(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_tool([require_tool("nats-server"), "-t", "-c", str(config)], cwd=config.parent, env=env)


def test_checked_in_accounts_are_what_the_topology_generates() -> None:
    result = run_tool([sys.executable, str(GENERATOR), "--stdout"])
    assert_succeeds(result)
    for copy in (ACCOUNTS, DEPLOY / "k8s" / "nats" / "accounts.conf"):
        assert copy.read_text(encoding="utf-8") == result.stdout, (
            f"{relative(copy)} is out of date: run `.venv/bin/python {relative(GENERATOR)}`"
        )


def test_the_kubernetes_copy_of_the_integrations_registry_is_current() -> None:
    original = (DEPLOY / "integrations.yaml").read_text(encoding="utf-8")
    copy = (DEPLOY / "k8s" / "ingest" / "integrations.yaml").read_text(encoding="utf-8")
    assert copy.endswith(original), f"deploy/k8s/ingest/integrations.yaml is out of date: run {relative(GENERATOR)}"
    assert copy.startswith("# GENERATED copy of deploy/integrations.yaml")


def test_generator_follows_the_namespace() -> None:
    result = run_tool([sys.executable, str(GENERATOR), "--namespace", "tenant2", "--stdout"])
    assert_succeeds(result)
    assert '"tenant2.in.submission.bz-ez-campus"' in result.stdout
    assert '"$JS.API.CONSUMER.MSG.NEXT.TENANT2_EVENTS.tasks-progress-recorded"' in result.stdout
    assert "duban." not in result.stdout


def test_without_a_registry_one_shared_integration_user_publishes_on_the_shared_subject_only() -> None:
    result = run_tool([sys.executable, str(GENERATOR), "--integrations", "none", "--stdout"])
    assert_succeeds(result)
    shared = re.search(r'user: "integration"\n.*?allow: \[\n(.*?)\]', result.stdout, re.S)
    assert shared, result.stdout
    assert shared.group(1).split() == ['"duban.in.submission"']
    assert "integration-" not in result.stdout


def test_no_password_is_written_in_the_accounts() -> None:
    passwords = re.findall(r"password:\s*(\S+)", ACCOUNTS.read_text(encoding="utf-8"))
    assert passwords
    assert all(re.fullmatch(r"\$DUBAN_NATS_[A-Z_]+_PASSWORD", value) for value in passwords), passwords


@pytest.mark.parametrize("config", SERVER_CONFIGS, ids=relative)
def test_server_configuration_is_valid(config: Path, tls_dir: Path, tmp_path: Path) -> None:
    env = {**random_passwords(), "POD_NAME": "nats-0"}
    assert_succeeds(check_config(installed(config, tmp_path, tls_dir), env))


@pytest.mark.parametrize("config", [*SERVER_CONFIGS, LOOPBACK_TEMPLATE], ids=relative)
def test_every_configuration_syncs_each_write_to_disk(config: Path) -> None:
    jetstream = re.search(r"^jetstream\s*\{(.*?)^\}", config.read_text(encoding="utf-8"), re.S | re.M)
    assert jetstream, f"{relative(config)} has no jetstream block"
    assert re.search(r"^\s*sync_interval:\s*always\s*$", jetstream.group(1), re.M)


@pytest.mark.parametrize("config", [*SERVER_CONFIGS, LOOPBACK_TEMPLATE], ids=relative)
def test_monitoring_listens_on_loopback_only(config: Path) -> None:
    """The monitoring endpoint (/varz, /connz, /jsz …) answers without authentication."""
    text = config.read_text(encoding="utf-8")
    settings = re.findall(r"^\s*(https?|http_port|https_port|monitor_port|http_host)\s*[:=]\s*(\S+)", text, re.M)
    assert settings, f"{relative(config)} sets no monitoring address (say 127.0.0.1 explicitly)"
    for key, value in settings:
        where = relative(config)
        assert key in {"http", "https"}, f"{where}: {key} binds without naming the host; use `http: 127.0.0.1:…`"
        assert value.startswith("127.0.0.1:"), f"{where}: {key}: {value} is reachable from outside the host"


def test_server_refuses_to_start_while_a_password_is_unset(tls_dir: Path, tmp_path: Path) -> None:
    env = {**random_passwords(), "POD_NAME": "nats-0"}
    del env["DUBAN_NATS_SVC_TASKS_PASSWORD"]
    result = check_config(installed(NATS / "nats-server.conf", tmp_path, tls_dir), env)
    assert result.returncode != 0
    assert "DUBAN_NATS_SVC_TASKS_PASSWORD" in result.stdout + result.stderr


# --- a three-node cluster on loopback --------------------------------------------------------------


def loopback_nodes(root: Path, passwords: dict[str, str]) -> list[NatsNode]:
    template = string.Template(LOOPBACK_TEMPLATE.read_text(encoding="utf-8"))
    cluster_ports = [free_port() for _ in range(3)]
    routes = "\n    ".join(f'"nats-route://127.0.0.1:{port}"' for port in cluster_ports)
    nodes = []
    for number, cluster_port in enumerate(cluster_ports, start=1):
        directory = root / f"node-{number}"
        directory.mkdir()
        shutil.copy(ACCOUNTS, directory / "accounts.conf")
        node = NatsNode(config=directory / "nats-server.conf", env=passwords, client_port=free_port(), http_port=0)
        node.http_port = free_port()
        node.config.write_text(
            template.substitute(
                server_name=f"duban-loopback-{number}",
                client_port=node.client_port,
                http_port=node.http_port,
                cluster_port=cluster_port,
                routes=routes,
                store_dir=(directory / "store").as_posix(),
            ),
            encoding="utf-8",
        )
        nodes.append(node)
    return nodes


@pytest.fixture
def loopback_cluster(tmp_path: Path) -> Iterator[tuple[list[NatsNode], dict[str, str]]]:
    passwords = random_passwords()
    nodes = loopback_nodes(tmp_path, passwords)
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            wait_healthy(node.http_port, timeout=30)
        yield nodes, passwords
    finally:
        for node in nodes:
            node.stop(kill=True)


@pytest.mark.slow
async def test_r3_streams_keep_accepting_submissions_with_one_node_down(
    loopback_cluster: tuple[list[NatsNode], dict[str, str]],
) -> None:
    nodes, passwords = loopback_cluster
    topology = Topology(Subjects("duban"), replicas=3)
    inbound = topology.streams["inbound"].name
    async with session(
        [node.url for node in nodes], "provisioner", password_of("provisioner", passwords)
    ) as provisioner:
        await provision(provisioner.nc, topology)
        info = await provisioner.nc.jetstream().stream_info(inbound)
        assert info.cluster is not None
        assert len(info.cluster.replicas or []) == 2  # a leader and two followers
        leader = info.cluster.leader
    survivors = [node for node in nodes if f"duban-loopback-{nodes.index(node) + 1}" != leader]
    [stopped] = [node for node in nodes if node not in survivors]
    stopped.stop()
    publisher = "integration-district-platform"  # registered for every unit: it may use the shared subject
    async with session([node.url for node in survivors], publisher, password_of(publisher, passwords)) as integration:
        js = integration.nc.jetstream(timeout=2)
        ack = None
        for _ in range(30):  # until the two survivors have elected a new stream leader
            try:
                ack = await js.publish("duban.in.submission", b'{"kind": "progress"}', headers={"Nats-Msg-Id": "s1"})
                break
            except Exception:
                await asyncio.sleep(0.5)
        await integration.no_violation()
    assert ack is not None, "no acknowledgement from the two remaining nodes"
    assert (ack.stream, ack.seq) == (inbound, 1)
