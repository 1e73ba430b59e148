"""Settings of the alerts service (environment: DUBAN_* or DUBAN_ALERTS_*)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from duban_kit.settings import ServiceSettings


class AlertsSettings(ServiceSettings):
    service_name: ClassVar[str] = "alerts"

    plan_file: Path | None = Field(default=None, description="The plan whose deadlines are watched.")
    rules_file: Path | None = Field(default=None, description="Alert rules; default the bundled rules.yaml.")
    receivers_file: Path | None = Field(
        default=None,
        description="YAML: receiver name → channels ({webhook: URL} or {email: [addresses]}). Without it, "
        "every receiver gets e-mail written as .eml files.",
    )
    mail_dir: Path | None = Field(default=None, description="Where .eml files go without SMTP; default out/mail.")
    mail_sender: str = "duban@localhost"
    default_recipients: str = Field(
        default="duty-officer@localhost", description="Comma-separated, for receivers without a channel."
    )
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    notify_interval_seconds: float = Field(default=2.0, description="How often undelivered notifications are retried.")
    notify_max_attempts: int = Field(default=10, description="Delivery rounds before a notification is marked failed.")

    @property
    def effective_mail_dir(self) -> Path:
        return self.mail_dir or self.out_dir / "mail"
