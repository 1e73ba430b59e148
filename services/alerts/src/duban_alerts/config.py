"""Settings of the alerts service (environment: DUBAN_* or DUBAN_ALERTS_*)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from duban_kit.mail import MailSettings
from duban_kit.settings import ServiceSettings


class AlertsSettings(ServiceSettings, MailSettings):
    service_name: ClassVar[str] = "alerts"

    plan_file: Path | None = Field(default=None, description="The plan whose deadlines are watched.")
    rules_file: Path | None = Field(default=None, description="Alert rules; default the bundled rules.yaml.")
    receivers_file: Path | None = Field(
        default=None,
        description="YAML: receiver name → channels ({webhook: URL} or {email: [addresses]}). Without it, "
        "every receiver gets e-mail (SMTP, or .eml files without SMTP).",
    )
    mail_dir: Path | None = Field(default=None, description="Where .eml files go without SMTP; default out/mail.")
    mail_sender: str = "duban@localhost"
    default_recipients: str = Field(
        default="duty-officer@localhost", description="Comma-separated, for receivers without a channel."
    )
    notify_interval_seconds: float = Field(
        default=2.0, gt=0, description="How often the sender looks for deliveries due (it is also woken at once)."
    )
    notify_coalesce_seconds: float = Field(
        default=0.1,
        ge=0,
        description="How long the sender, once woken, lets further alerts gather before one pass over them all "
        "(fewer transactions beside the consumers' on a busy day).",
    )
    notify_timeout_seconds: float = Field(
        default=15.0, gt=0, description="Longest one delivery attempt (a webhook call, an SMTP session) may take."
    )
    notify_max_attempts: int = Field(default=10, ge=1, description="Attempts before a delivery is marked failed.")
    notify_retry_base_seconds: float = Field(
        default=5.0, gt=0, description="Wait before a failed delivery's second attempt; doubles after each."
    )
    notify_retry_max_seconds: float = Field(default=600.0, gt=0, description="Longest wait between attempts.")
    notify_concurrency: int = Field(
        default=4, ge=1, description="Deliveries in flight at once per channel (each channel has its own)."
    )

    @property
    def effective_mail_dir(self) -> Path:
        return self.mail_dir or self.out_dir / "mail"
