"""Mailing a report to the leaders: SMTP when configured (TLS as `duban_kit.mail` says), otherwise an .eml file
under out/mail/ — which is recorded as `written`, never as sent."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Literal

from duban_kit.mail import SmtpServer, send_message

from ..domain.content import ReportData
from ..rendering import MEDIA_TYPES, report_file_name
from ..rendering.markdown import render_markdown


@dataclass(frozen=True)
class Mailed:
    """What became of a report's mail: `sent` (the server took it), `written` (only an .eml file: no SMTP
    server, nobody received it) or `failed`; `detail` names the server, the file or the error."""

    outcome: Literal["sent", "written", "failed"]
    detail: str
    recipients: tuple[str, ...] = ()


class ReportMailer:
    def __init__(self, *, recipients: Sequence[str], sender: str, outbox: Path, smtp: SmtpServer | None = None) -> None:
        self.recipients = list(recipients)
        self.sender = sender
        self.outbox = outbox
        self.smtp = smtp

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

    async def send(self, report_id: str, subject: str, data: ReportData, files: Mapping[str, bytes]) -> Mailed | None:
        """Mail the report (None without recipients); `duban_kit.mail.MailError` when the server did not take it."""
        if not self.recipients:
            return None
        message = self.message(report_id, subject, data, files)
        if self.smtp is None:
            path = await asyncio.to_thread(self._write, report_id, bytes(message))
            detail = f"{path} (no SMTP server is configured: nobody received it)"
            return Mailed("written", detail, tuple(self.recipients))
        await send_message(message, self.smtp)
        return Mailed("sent", f"via {self.smtp.address} ({self.smtp.tls.value})", tuple(self.recipients))

    def _write(self, report_id: str, content: bytes) -> Path:
        self.outbox.mkdir(parents=True, exist_ok=True)
        path = self.outbox / f"report-{report_id.replace(':', '_')}.eml"
        temporary = path.with_suffix(".part")
        temporary.write_bytes(content)
        temporary.replace(path)
        return path
