"""Mailing a report to the leaders: SMTP when configured, otherwise an .eml file under out/mail/."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

import aiosmtplib

from ..domain.content import ReportData
from ..rendering import MEDIA_TYPES, report_file_name
from ..rendering.markdown import render_markdown


class ReportMailer:
    def __init__(
        self,
        *,
        recipients: Sequence[str],
        sender: str,
        outbox: Path,
        smtp_host: str | None = None,
        smtp_port: int = 25,
        smtp_starttls: bool = False,
        smtp_user: str | None = None,
        smtp_password: str | None = None,
    ) -> None:
        self.recipients = list(recipients)
        self.sender = sender
        self.outbox = outbox
        self.smtp = (smtp_host, smtp_port, smtp_starttls, smtp_user, smtp_password) if smtp_host else None

    def message(self, report_id: str, subject: str, data: ReportData, files: Mapping[str, bytes]) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = formataddr(("督办系统", self.sender))
        message["To"] = ", ".join(self.recipients)
        # Times come from the report, never the wall clock: the same report mails the same bytes.
        message["Date"] = format_datetime(data.as_of)
        message["Message-ID"] = f"<report.{report_id.replace(':', '.')}@duban>"
        message.set_content(files["md"].decode("utf-8") if "md" in files else render_markdown(data))
        attach = ["pdf"] if "pdf" in files else [fmt for fmt in ("html", "xlsx") if fmt in files]
        for fmt in attach:
            maintype, _, subtype = MEDIA_TYPES[fmt].partition("/")  # type: ignore[index]
            subtype = subtype.split(";")[0]
            message.add_attachment(
                files[fmt],
                maintype=maintype,
                subtype=subtype,
                filename=report_file_name(data.kind, data.period, fmt),  # type: ignore[arg-type]
            )
        return message

    async def send(self, report_id: str, subject: str, data: ReportData, files: Mapping[str, bytes]) -> list[str]:
        if not self.recipients:
            return []
        message = self.message(report_id, subject, data, files)
        if self.smtp is None:
            await asyncio.to_thread(self._write, report_id, bytes(message))
            return self.recipients
        host, port, starttls, user, password = self.smtp
        await aiosmtplib.send(message, hostname=host, port=port, start_tls=starttls, username=user, password=password)
        return self.recipients

    def _write(self, report_id: str, content: bytes) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        path = self.outbox / f"report-{report_id.replace(':', '_')}.eml"
        temporary = path.with_suffix(".part")
        temporary.write_bytes(content)
        temporary.replace(path)
