"""Settings of the console (environment: DUBAN_* or DUBAN_CONSOLE_*).

The console holds no business data and no database: the database settings it inherits from
`ServiceSettings` are unused. What is its own: the session secret and lifetime, where ingest's upload
endpoint is, and how failed sign-ins are limited.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from duban_kit.settings import ServiceSettings

DEFAULT_PORT = 8105
#: Secrets that are examples, not secrets: refused, so a copied configuration cannot sign cookies.
PLACEHOLDER_SECRETS = ("change", "secret", "example", "placeholder", "xxxx", "todo", "dummy", "test")
MIN_SECRET_LENGTH = 32


class PlaceholderSecret(ValueError):
    pass


class ConsoleSettings(ServiceSettings):
    service_name: ClassVar[str] = "console"

    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs the session cookie (≥ 32 characters, not a placeholder). Unset: one is generated "
        "once per home in var/console-session-secret.",
    )
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60, description="A session ends this long after sign-in.")
    public_url: str | None = Field(
        default=None, description="The console's address as browsers see it; https:// makes the cookie Secure."
    )
    ingest_url: str = Field(default="http://127.0.0.1:8101", description="ingest's HTTP API, for uploads.")
    request_timeout_seconds: float = Field(default=10.0, gt=0, description="How long a page waits for a service.")
    login_failures_allowed: int = Field(default=5, ge=1, description="Failed sign-ins per address per window.")
    login_window_seconds: float = Field(default=300.0, gt=0)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, description="Largest spreadsheet forwarded to ingest.")

    @field_validator("session_secret")
    @classmethod
    def _not_a_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_secret(value.get_secret_value())
        return value

    @property
    def effective_http_port(self) -> int:
        return self.http_port if self.http_port is not None else DEFAULT_PORT

    @property
    def secure_cookies(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))

    def effective_session_secret(self) -> str:
        """The configured secret, else this home's own, generated once (development)."""
        if self.session_secret is not None:
            return self.session_secret.get_secret_value()
        return home_secret(self.var_dir / "console-session-secret")


def check_secret(secret: str) -> None:
    lowered = secret.lower()
    if len(secret) < MIN_SECRET_LENGTH or any(word in lowered for word in PLACEHOLDER_SECRETS) or len(set(secret)) < 8:
        raise PlaceholderSecret(
            "DUBAN_CONSOLE_SESSION_SECRET 必须是至少 32 个字符的随机串，不能是示例值 / the console's session secret "
            f"must be at least {MIN_SECRET_LENGTH} random characters, not a placeholder (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')"
        )


def _acceptable(secret: str) -> bool:
    try:
        check_secret(secret)
    except PlaceholderSecret:
        return False
    return True


def home_secret(path: Path) -> str:
    """The secret in `path`, created (0600) with a fresh random value the first time."""
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        check_secret(secret)
        return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    while not _acceptable(secret):  # a random string may, rarely, contain a word like "test"
        secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret
