"""docker-compose.yml and the Dockerfiles: valid, linted, non-root, healthy, and wired to the right NATS users."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from duban_console.config import DEFAULT_PORT as CONSOLE_PORT
from duban_kit.settings import DEFAULT_HTTP_PORTS

from .nats_auth import password_variables
from .tools import DEPLOY, REPO, assert_succeeds, require_tool, run_tool

COMPOSE = REPO / "docker-compose.yml"
#: The four services and the console (督办台, its own process and image like them).
HTTP_PORTS = {**DEFAULT_HTTP_PORTS, "console": CONSOLE_PORT}
SERVICE_DOCKERFILES = {service: REPO / "services" / service / "Dockerfile" for service in HTTP_PORTS}
DOCKERFILES = [*SERVICE_DOCKERFILES.values(), DEPLOY / "docker" / "runtime.Dockerfile"]
DEV_DEFAULT = re.compile(r"\$\{[A-Z_]+:-dev-[a-z0-9:-]+\}")
SECRET_KEY = re.compile(r"PASSWORD|TOKEN|SECRET")


def relative(path: Path) -> str:
    return str(path.relative_to(REPO))


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return document


def environment(service: str) -> dict[str, str]:
    env: dict[str, str] = compose()["services"][service]["environment"]
    return env


def test_compose_file_is_valid() -> None:
    result = run_tool([require_tool("docker-compose"), "-f", str(COMPOSE), "config", "-q"])
    assert_succeeds(result)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=relative)
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    result = run_tool([require_tool("hadolint"), "--config", str(REPO / ".hadolint.yaml"), str(dockerfile)])
    assert_succeeds(result)


@pytest.mark.parametrize(("service", "dockerfile"), SERVICE_DOCKERFILES.items())
def test_service_image_runs_unprivileged_and_checks_its_health(service: str, dockerfile: Path) -> None:
    text = dockerfile.read_text(encoding="utf-8")
    final_stage = text.rsplit("\nFROM ", 1)[1]
    port = HTTP_PORTS[service]
    assert final_stage.startswith("python:3.11-slim")
    [user] = re.findall(r"^USER (\S+)", final_stage, re.M)
    assert user.split(":")[0] not in {"root", "0"}
    assert re.search(rf"^EXPOSE {port}$", final_stage, re.M)
    assert re.search(rf"^HEALTHCHECK .*\n?.*http://127\.0\.0\.1:{port}/healthz", final_stage, re.M)
    assert re.search(rf'^CMD \["duban-{service}"\]$', final_stage, re.M)
    assert f"uv sync --frozen --no-dev --package duban-{service}" in text


def test_reports_image_has_chinese_fonts_and_weasyprint_libraries() -> None:
    text = SERVICE_DOCKERFILES["reports"].read_text(encoding="utf-8")
    for package in ("fonts-noto-cjk", "libpango-1.0-0", "libpangoft2-1.0-0"):
        assert package in text


def test_dockerignore_sends_what_the_dockerfiles_copy() -> None:
    allowed = [line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines() if line[:1] == "!"]
    for dockerfile in DOCKERFILES:
        for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile.read_text(encoding="utf-8"), re.M):
            for source in sources.split():
                assert any(source.rstrip("/") == a or source.startswith(f"{a}/") for a in allowed), (
                    f"{relative(dockerfile)} copies {source}, which .dockerignore leaves out"
                )


def test_every_nats_password_variable_reaches_the_nats_container() -> None:
    assert set(environment("nats")) == set(password_variables())


@pytest.mark.parametrize(
    ("service", "user"),
    [
        ("ingest", "svc-ingest"),
        ("tasks", "svc-tasks"),
        ("alerts", "svc-alerts"),
        ("reports", "svc-reports"),
        ("console", "svc-console"),
        ("provision", "provisioner"),
        ("runtime", "runtime"),
    ],
)
def test_each_container_logs_in_as_its_own_nats_user_with_its_own_inbox(service: str, user: str) -> None:
    env = environment(service)
    variable = f"DUBAN_NATS_{user.upper().replace('-', '_')}_PASSWORD"
    assert env["DUBAN_NATS_USER"] == user
    assert env["DUBAN_NATS_INBOX_PREFIX"] == f"_INBOX_{user}"
    assert env["DUBAN_NATS_PASSWORD"].startswith(f"${{{variable}:-")


def test_compose_holds_no_secret_but_development_defaults() -> None:
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if key.endswith("_REQUIRES_TOKEN"):
                assert value in {"true", "false"}, f"{name}: {key} is a switch"
            elif SECRET_KEY.search(key) and key.endswith("_FILE"):
                assert str(value).startswith("/run/"), f"{name}: {key}={value!r} should be a mounted secret"
            elif SECRET_KEY.search(key):
                assert DEV_DEFAULT.fullmatch(str(value)), f"{name}: {key}={value!r} is not a ${{VAR:-dev-…}} default"
            if key == "DUBAN_DATABASE_URL":
                assert DEV_DEFAULT.search(value), f"{name}: the database password must be a variable"


# --- network exposure and the API's tokens ------------------------------------------------------


def published_ports() -> dict[str, list[str]]:
    return {name: [str(p) for p in service.get("ports", [])] for name, service in compose()["services"].items()}


def test_every_published_port_is_bound_to_loopback_only() -> None:
    exposed = {name: ports for name, ports in published_ports().items() if ports}
    assert set(exposed) >= {"nats", *DEFAULT_HTTP_PORTS, "prometheus", "grafana"}
    for name, ports in exposed.items():
        for port in ports:
            assert re.fullmatch(r"127\.0\.0\.1:\d+:\d+", port), f"{name} publishes {port!r} beyond 127.0.0.1"


def test_nats_publishes_its_client_port_and_not_its_monitoring_port() -> None:
    assert published_ports()["nats"] == ["127.0.0.1:4222:4222"]
    healthcheck = " ".join(compose()["services"]["nats"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8222/healthz" in healthcheck  # asked inside the container, where it listens


def test_the_services_need_a_token_for_reads_and_metrics_from_a_generated_tokens_file() -> None:
    services = compose()["services"]
    init = services["api-tokens"]
    assert init["command"][:4] == ["duban", "tokens", "init", "/run/duban-tokens/api-tokens"]
    assert "api-tokens:/run/duban-tokens" in init["volumes"]
    for name in HTTP_PORTS:
        env = environment(name)
        assert env["DUBAN_API_TOKENS_FILE"] == "/run/duban-tokens/api-tokens", name
        assert (env["DUBAN_READ_REQUIRES_TOKEN"], env["DUBAN_METRICS_REQUIRES_TOKEN"]) == ("true", "true"), name
        assert "DUBAN_API_TOKENS" not in env, name
        assert "api-tokens:/run/duban-tokens:ro" in services[name]["volumes"], name
        assert services[name]["depends_on"]["api-tokens"]["condition"] == "service_completed_successfully", name


def test_prometheus_scrapes_with_its_own_reader_token_from_the_tokens_volume() -> None:
    prometheus = compose()["services"]["prometheus"]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "duban"]
    assert job["authorization"] == {"type": "Bearer", "credentials_file": "/run/duban-tokens/prometheus.token"}
    assert "api-tokens:/run/duban-tokens:ro" in prometheus["volumes"]
    init = compose()["services"]["api-tokens"]["command"]
    assert "--reader-token-file=/run/duban-tokens/prometheus.token" in init


def test_ingest_holds_integrations_to_the_registry_beside_the_nats_users() -> None:
    env = environment("ingest")
    mounted = f"./deploy/integrations.yaml:{env['DUBAN_INGEST_INTEGRATIONS_FILE']}:ro"
    assert mounted in compose()["services"]["ingest"]["volumes"]


def test_services_start_after_the_database_and_the_streams() -> None:
    services = compose()["services"]
    for name in DEFAULT_HTTP_PORTS:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["provision"]["condition"] == "service_completed_successfully", name
    assert services["provision"]["depends_on"]["nats"]["condition"] == "service_healthy"
    assert "healthcheck" in services["nats"]
    assert "healthcheck" in services["postgres"]


def test_compose_nats_uses_the_checked_in_configuration() -> None:
    volumes = compose()["services"]["nats"]["volumes"]
    assert "./deploy/nats/compose.conf:/etc/nats/nats-server.conf:ro" in volumes
    assert "./deploy/nats/accounts.conf:/etc/nats/accounts.conf:ro" in volumes


def test_every_image_sees_every_workspace_member_when_it_installs_the_locked_dependencies() -> None:
    members = sorted(path.parent.name for path in (REPO / "services").glob("*/pyproject.toml"))
    for dockerfile in DOCKERFILES:
        text = dockerfile.read_text(encoding="utf-8")
        for member in members:
            assert f"COPY services/{member}/pyproject.toml services/{member}/" in text, (relative(dockerfile), member)


def test_the_console_is_deployed_beside_the_services_it_asks() -> None:
    console = compose()["services"]["console"]
    assert console["ports"] == [f"127.0.0.1:{CONSOLE_PORT}:{CONSOLE_PORT}"]
    for service in DEFAULT_HTTP_PORTS:
        assert console["depends_on"][service]["condition"] == "service_healthy", service
    assert environment("console")["DUBAN_CONSOLE_INGEST_URL"] == f"http://ingest:{DEFAULT_HTTP_PORTS['ingest']}"
    assert "console-home:/var/lib/duban" in console["volumes"]  # the session-signing key it makes once
