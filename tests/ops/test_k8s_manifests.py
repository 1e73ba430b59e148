"""deploy/k8s: the manifests parse, and every workload is replicated, probed, bounded and unprivileged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from duban_console.config import DEFAULT_PORT as CONSOLE_PORT
from duban_console.config import PlaceholderSecret, check_secret
from duban_kit.settings import DEFAULT_HTTP_PORTS

from .nats_auth import password_variables
from .tools import DEPLOY, REPO

K8S = DEPLOY / "k8s"
MANIFESTS = sorted(K8S.glob("*.yaml"))


def documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document]


def all_documents() -> list[dict[str, Any]]:
    return [document for path in MANIFESTS for document in documents(path)]


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in all_documents() if d["kind"] == kind}


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = workload["spec"]["template"]["spec"]["containers"]
    return found


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


DEPLOYMENTS = of_kind("Deployment")


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: str(path.relative_to(REPO)))
def test_manifest_parses_into_kubernetes_objects(path: Path) -> None:
    for document in documents(path):
        assert document.get("apiVersion"), path.name
        assert document.get("kind"), path.name


def test_kustomization_lists_existing_files_and_leaves_out_the_secret_template() -> None:
    [kustomization] = documents(K8S / "kustomization.yaml")
    files = [*kustomization["resources"], *(f for g in kustomization["configMapGenerator"] for f in g["files"])]
    assert [name for name in files if not (K8S / name).exists()] == []
    assert "secrets.template.yaml" not in kustomization["resources"]


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_deployment_is_replicated_probed_bounded_and_unprivileged(name: str) -> None:
    deployment = DEPLOYMENTS[name]
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] >= 2
    for container in containers(deployment):
        assert container["livenessProbe"]["httpGet"], container["name"]
        assert container["readinessProbe"]["httpGet"], container["name"]
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) >= {"cpu", "memory"}, (container["name"], bound)
        non_root = container.get("securityContext", {}).get("runAsNonRoot", pod["securityContext"].get("runAsNonRoot"))
        assert non_root is True, container["name"]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize(("service", "port"), DEFAULT_HTTP_PORTS.items())
def test_service_probes_health_and_readiness_on_its_http_port(service: str, port: int) -> None:
    [container] = containers(DEPLOYMENTS[service])
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    env = {item["name"]: item for item in container["env"]}
    assert env["DUBAN_NATS_USER"]["value"] == f"svc-{service}"
    assert env["DUBAN_NATS_INBOX_PREFIX"]["value"] == f"_INBOX_svc-{service}"
    assert env["DUBAN_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "duban-database"
    assert of_kind("Service")[service]["spec"]["ports"][0]["port"] == port


def test_the_console_is_deployed_like_the_services_with_its_own_nats_user_and_a_shared_session_key() -> None:
    [container] = containers(DEPLOYMENTS["console"])
    assert container["ports"] == [{"name": "http", "containerPort": CONSOLE_PORT}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    env = {item["name"]: item for item in container["env"]}
    assert env["DUBAN_NATS_USER"]["value"] == "svc-console"
    assert env["DUBAN_NATS_INBOX_PREFIX"]["value"] == "_INBOX_svc-console"
    assert env["DUBAN_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "DUBAN_NATS_SVC_CONSOLE_PASSWORD"
    # replicas must sign and read each other's session cookies
    assert env["DUBAN_CONSOLE_SESSION_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "duban-console-session"
    assert env["DUBAN_CONSOLE_INGEST_URL"]["value"] == f"http://ingest:{DEFAULT_HTTP_PORTS['ingest']}"
    assert of_kind("Service")["console"]["spec"]["ports"][0]["port"] == CONSOLE_PORT
    assert "console" in of_kind("PodDisruptionBudget")
    [kustomization] = documents(K8S / "kustomization.yaml")
    assert "console.yaml" in kustomization["resources"]
    assert "duban-console" in {image["name"] for image in kustomization["images"]}


def test_the_console_refuses_the_templates_session_key() -> None:
    [secret] = [d for d in documents(K8S / "secrets.template.yaml") if d["metadata"]["name"] == "duban-console-session"]
    with pytest.raises(PlaceholderSecret):
        check_secret(secret["stringData"]["DUBAN_CONSOLE_SESSION_SECRET"])


def test_nats_runs_three_nodes_behind_a_headless_service() -> None:
    statefulset = of_kind("StatefulSet")["nats"]
    headless = of_kind("Service")[statefulset["spec"]["serviceName"]]
    assert statefulset["spec"]["replicas"] == 3
    assert headless["spec"]["clusterIP"] == "None"
    [container] = containers(statefulset)
    assert container["livenessProbe"]["exec"]
    assert container["readinessProbe"]["exec"]
    assert set(container["resources"]["limits"]) >= {"cpu", "memory"}
    config = (K8S / "nats" / "nats-server.conf").read_text(encoding="utf-8")
    for node in range(3):
        assert f"nats-route://nats-{node}.nats-headless:6222" in config


def test_provisioning_job_runs_duban_provision_as_the_provisioner() -> None:
    [container] = containers(of_kind("Job")["duban-provision"])
    env = {item["name"]: item for item in container["env"]}
    assert container["command"] == ["duban", "provision"]
    assert env["DUBAN_NATS_USER"]["value"] == "provisioner"
    assert of_kind("ConfigMap")["duban-config"]["data"]["DUBAN_STREAM_REPLICAS"] == "3"


def test_every_secret_the_workloads_read_is_in_the_template() -> None:
    template = {d["metadata"]["name"]: set(d["stringData"]) for d in documents(K8S / "secrets.template.yaml")}
    workloads = [d for d in all_documents() if d["kind"] in {"Deployment", "StatefulSet", "Job"}]
    wanted = {(ref["name"], ref["key"]) for w in workloads for node in walk(w) if (ref := node.get("secretKeyRef"))}
    mounted = {node["secretName"] for w in workloads for node in walk(w) if "secretName" in node}
    env_from = {node["secretRef"]["name"] for w in workloads for node in walk(w) if "secretRef" in node}
    assert {(name, key) for name, key in wanted if key not in template.get(name, set())} == set()
    assert (mounted | env_from) - set(template) == set()
    assert template["duban-nats-passwords"] == set(password_variables())


# --- network exposure and the API's tokens ------------------------------------------------------


def test_no_service_exposes_the_nats_monitoring_port() -> None:
    for name, service in of_kind("Service").items():
        for port in service["spec"]["ports"]:
            assert 8222 not in {port["port"], port.get("targetPort")}, (name, port)
            assert port.get("targetPort") != "monitor" and port["name"] != "monitor", (name, port)


def test_nats_monitoring_is_asked_from_inside_the_pod_where_it_listens() -> None:
    [container] = containers(of_kind("StatefulSet")["nats"])
    assert {p["containerPort"] for p in container["ports"]} == {4222, 6222}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        command = container[probe]["exec"]["command"]
        assert command[0] == "wget", probe
        assert command[-1].startswith("http://127.0.0.1:8222/healthz"), probe
    config = (K8S / "nats" / "nats-server.conf").read_text(encoding="utf-8")
    assert re.search(r"^http: 127\.0\.0\.1:8222$", config, re.M)


def test_reads_and_metrics_need_a_token_from_the_tokens_secret() -> None:
    config = of_kind("ConfigMap")["duban-config"]["data"]
    assert config["DUBAN_READ_REQUIRES_TOKEN"] == "true"
    assert config["DUBAN_METRICS_REQUIRES_TOKEN"] == "true"
    tokens_file = Path(config["DUBAN_API_TOKENS_FILE"])
    for service in [*DEFAULT_HTTP_PORTS, "console"]:  # people sign in to the console with these tokens
        pod = DEPLOYMENTS[service]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == str(tokens_file.parent)]
        secret = volumes[mount["name"]]["secret"]
        assert mount["readOnly"] is True, service
        assert secret["secretName"] == "duban-api-tokens", service
        assert {"key": "api-tokens", "path": tokens_file.name} in secret["items"], service
        assert secret["defaultMode"] & 0o007 == 0, f"{service}: the tokens file is readable by others"
        assert "DUBAN_API_TOKENS" not in {e["name"] for e in container["env"]}, service


def test_ingest_reads_the_integrations_registry_from_its_config_map() -> None:
    pod = DEPLOYMENTS["ingest"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    registry = Path(env["DUBAN_INGEST_INTEGRATIONS_FILE"])
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == str(registry.parent)]
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    [kustomization] = documents(K8S / "kustomization.yaml")
    generated = {g["name"]: g["files"] for g in kustomization["configMapGenerator"]}
    assert volume["configMap"]["name"] == "duban-integrations"
    assert [Path(f).name for f in generated["duban-integrations"]] == [registry.name]


def test_secret_template_holds_only_placeholders() -> None:
    for secret in documents(K8S / "secrets.template.yaml"):
        for key, value in secret["stringData"].items():
            assert "CHANGE-ME" in value, (secret["metadata"]["name"], key)
