"""Settings of the reports service (environment: DUBAN_* or DUBAN_REPORTS_*)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from duban_kit.mail import MailSettings
from duban_kit.settings import ServiceSettings


class ReportsSettings(ServiceSettings, MailSettings):
    service_name: ClassVar[str] = "reports"

    plan_file: Path | None = Field(default=None, description="The plan reported on; default the bundled 2023 plan.")
    units_file: Path | None = Field(default=None, description="Registry of reporting units; default the bundled one.")
    reports_dir: Path | None = Field(default=None, description="Where reports are written; default out/reports.")
    mail_dir: Path | None = Field(default=None, description="Where .eml files go without SMTP; default out/mail.")
    leaders: str = Field(
        default="leaders@localhost", description="Comma-separated addresses the reports are mailed to."
    )
    mail_sender: str = "duban@localhost"
    schedule_weekly: str = Field(
        default="0 8 * * 1", description="Cron (Asia/Shanghai) of the 周报; empty to turn off."
    )
    schedule_monthly: str = Field(default="0 8 1 * *", description="Cron of the 月报.")
    schedule_quarterly: str = Field(default="0 8 1 1,4,7,10 *", description="Cron of the 季报.")
    schedule_annual: str = Field(default="0 8 1 1 *", description="Cron of the 年度总结.")
    weekly_formats: str = Field(default="html,xlsx,md", description="Formats of weekly reports (a PDF takes seconds).")
    formats: str = Field(default="html,pdf,xlsx,md", description="Formats of the other reports.")
    casework_targets_file: Path | None = Field(
        default=None,
        description="Task 25's growth targets: last year's 办结率, 按期办结率, 满意度, 化解率 (YAML); "
        "default the bundled casework_targets.yaml.",
    )
    reporting_deadline_days: int = Field(
        default=5, description="Days after a month ends by which its report is on time."
    )

    @property
    def effective_reports_dir(self) -> Path:
        return self.reports_dir or self.out_dir / "reports"

    @property
    def effective_mail_dir(self) -> Path:
        return self.mail_dir or self.out_dir / "mail"
