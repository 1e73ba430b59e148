"""What becomes of a mailed report — sent (over TLS), written to a file, or refused — against a real SMTP server,
and what the service's records, its announcement and /readyz say about it."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client

from duban.bus import publish_tick
from duban.isolated import free_port
from duban_contracts.events import ReportGenerated
from duban_contracts.rpc import AggregateQuery
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_kit.mail import MailError, SmtpServer, TlsMode
from duban_kit.provision import deprovision, provision
from duban_kit.service import ServiceRuntime
from duban_reports.adapters.mail import ReportMailer
from duban_reports.app import create_app
from duban_reports.config import ReportsSettings
from tests.reports.report_samples import sample_report
from tests.reports.test_reports_service import facts
from tests.support.bus import collecting, publish_event, running
from tests.support.receivers import CA_FILE, Mailbox, smtp_server

LEADER = "director@bureau.example"


def configured(nats_url: str, namespace: str, home: Path, **mail: Any) -> ReportsSettings:
    """As the service test's settings, with an HTTP port and the mail settings given."""
    return ReportsSettings(
        nats_url=nats_url,
        namespace=namespace,
        database_url=f"sqlite:///{home}/{{service}}.db",
        home=home,
        http_port=free_port(),
        schedule_weekly="",
        formats="html,xlsx,md",
        leaders=LEADER,
        **mail,
    )


async def jobs(runtime: ServiceRuntime) -> dict[str, dict[str, Any]]:
    """The reports' records by period, as `duban report` reads them."""
    reply = await runtime.broker.request(
        AggregateQuery(name="reports").model_dump(mode="json"),
        subject=runtime.settings.subjects.rpc("reports", "query"),
        timeout=10,
    )
    return {job["period"]: job for job in json.loads(reply.body)["reports"]}


async def march_report(
    nc: Client, runtime: ServiceRuntime, namespace: str
) -> tuple[ReportGenerated, dict[str, Any], httpx.Response]:
    """Produce March's report; its announcement, its record and /readyz meanwhile."""
    topology = Topology(Subjects(namespace), duplicate_window_seconds=1)
    await provision(nc, topology)
    try:
        async with (
            collecting(nc, topology.subjects) as out,
            running(runtime),
            httpx.AsyncClient() as http,
        ):
            for event in facts():
                await publish_event(nc, topology.subjects, event)
            await out.caught_up(topology, {"reports"})
            await publish_tick(
                nc, topology.subjects, datetime.fromisoformat("2023-04-01T08:00:00+08:00"), mode="replay"
            )
            await out.wait_for(lambda c: any(e.period == "2023-03" for e in c.of("report.generated")), timeout=60)
            records = await jobs(runtime)
            ready = await http.get(f"http://127.0.0.1:{runtime.settings.http_port}/readyz")
    finally:
        await deprovision(nc, topology)
    march = next(e for e in out.of("report.generated") if e.period == "2023-03")
    return march, records["2023-03"], ready


async def test_without_smtp_a_mailed_report_is_recorded_as_written_to_a_file_and_readyz_says_mail_is_not_delivered(
    nc: Client, nats_url: str, namespace: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = configured(nats_url, namespace, tmp_path)
    with caplog.at_level(logging.WARNING):
        march, record, ready = await march_report(nc, create_app(config), namespace)

    assert record["status"] == "done"
    assert record["delivery"] == "written"
    assert "report-2023-03_monthly.eml" in record["delivery_detail"]
    assert "nobody received it" in record["delivery_detail"]
    assert march.recipients == [LEADER]  # whom it is addressed to
    assert ready.status_code == 200
    mail = ready.json()["checks"]["mail"]
    assert (mail["delivered"], mail["outcome"], mail["affects_readiness"]) == (False, "written", False)
    assert any("reports are NOT e-mailed to anyone" in r.getMessage() for r in caplog.records)


async def test_a_report_goes_to_a_server_offering_starttls_encrypted(
    nc: Client, nats_url: str, namespace: str, tmp_path: Path
) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, "starttls", login=True) as port:
        config = configured(
            nats_url,
            namespace,
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_user="duban",
            smtp_password="secret",
            smtp_ca_file=CA_FILE,
        )
        march, record, ready = await march_report(nc, create_app(config), namespace)

    assert (record["delivery"], record["delivery_detail"]) == ("sent", f"via 127.0.0.1:{port} (starttls)")
    assert march.recipients == [LEADER]
    assert mailbox.encrypted and all(mailbox.encrypted)
    assert set(mailbox.logins) == {("duban", "secret", True)}
    mail = ready.json()["checks"]["mail"]
    assert (mail["delivered"], mail["tls"]) == (True, "starttls")


async def test_starttls_required_refuses_a_server_without_it_records_the_mail_failed_and_still_publishes_the_report(
    nc: Client, nats_url: str, namespace: str, tmp_path: Path
) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, "none", login=True) as port:
        config = configured(
            nats_url,
            namespace,
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_tls="starttls-required",
            smtp_user="duban",
            smtp_password="secret",
        )
        march, record, _ = await march_report(nc, create_app(config), namespace)

    assert (record["status"], record["delivery"]) == ("done", "failed")
    assert "does not offer STARTTLS" in record["delivery_detail"]
    assert march.recipients == []  # nobody got it
    assert mailbox.logins == [] and mailbox.accepted == []


async def test_the_mailer_speaks_implicit_tls_and_refuses_a_certificate_it_cannot_verify() -> None:
    mailbox = Mailbox()
    report = sample_report("2023-03")
    files = {"md": b"# report\n"}
    with smtp_server(mailbox, "implicit", login=True) as port:
        trusted = SmtpServer("127.0.0.1", port, TlsMode.IMPLICIT, "duban", "secret", ca_file=str(CA_FILE))
        mailed = await ReportMailer(recipients=[LEADER], sender="duban@bz", outbox=Path("unused"), smtp=trusted).send(
            "r1", "月报", report, files
        )
        untrusted = SmtpServer("127.0.0.1", port, TlsMode.IMPLICIT, "duban", "secret")
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED") as refused:
            await ReportMailer(recipients=[LEADER], sender="duban@bz", outbox=Path("unused"), smtp=untrusted).send(
                "r2", "月报", report, files
            )

    assert mailed is not None and mailed.outcome == "sent"
    assert refused.value.transient is False
    assert mailbox.encrypted == [True]
    assert mailbox.logins == [("duban", "secret", True)]
