# syntax=docker/dockerfile:1
# duban runtime image: the `duban` command (provision, dlq, plan …) and the live clock
# (deploy/docker/clock.py). Build from the repository root:
#
#     docker build -f deploy/docker/runtime.Dockerfile -t duban-runtime .
#
#     docker run --rm -e DUBAN_NATS_URL=… -e DUBAN_NATS_USER=provisioner … duban-runtime        # provision
#     docker run -e DUBAN_NATS_URL=… -e DUBAN_NATS_USER=runtime … duban-runtime python /opt/duban-deploy/clock.py

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM python:3.11-slim-bookworm AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/duban
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY contracts/pyproject.toml contracts/
COPY kit/pyproject.toml kit/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/tasks/pyproject.toml services/tasks/
COPY services/alerts/pyproject.toml services/alerts/
COPY services/reports/pyproject.toml services/reports/
COPY services/console/pyproject.toml services/console/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace
COPY contracts/ contracts/
COPY kit/ kit/
COPY services/ services/
COPY src/ src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim-bookworm
RUN useradd --system --no-log-init --uid 10001 --user-group --home-dir /var/lib/duban --create-home duban
COPY --from=build /opt/duban /opt/duban
COPY deploy/docker/clock.py /opt/duban-deploy/clock.py
ENV PATH=/opt/duban/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DUBAN_HOME=/var/lib/duban
USER 10001:10001
WORKDIR /var/lib/duban
# The clock's /metrics (the runtime's port); `duban provision` listens on nothing.
EXPOSE 8100
CMD ["duban", "provision"]
