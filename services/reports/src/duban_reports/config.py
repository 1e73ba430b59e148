"""Settings of the reports service (environment: DUBAN_* or DUBAN_REPORTS_*)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from duban_kit.settings import ServiceSettings


class ReportsSettings(ServiceSettings):
    service_name: ClassVar[str] = "reports"

    plan_file: Path | None = Field(default=None, description="The plan reported on; default the bundled 2023 plan.")
    reports_dir: Path | None = Field(default=None, description="Where reports are written; default out/reports.")
    mail_dir: Path | None = Field(default=None, description="Where .eml files go without SMTP; default out/mail.")

    @property
    def effective_reports_dir(self) -> Path:
        return self.reports_dir or self.out_dir / "reports"

    @property
    def effective_mail_dir(self) -> Path:
        return self.mail_dir or self.out_dir / "mail"
