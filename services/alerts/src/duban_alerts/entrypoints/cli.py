"""`duban alerts …`: list, acknowledge and silence alerts (over NATS request/reply).

Over NATS the actor is what `--actor` says (by default the user running the command): the alerts
service cannot see who sent a request, so this path trusts its NATS user's permissions — only users
allowed to publish `<ns>.v1.alerts.command` (admin, in deploy/nats/accounts.conf) can act at all. The
HTTP API records the bearer token's holder instead.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from duban_contracts.rpc import AlertCommand, AlertsQuery
from duban_contracts.subjects import Subjects
from duban_kit.cli import namespace, print_json, request

alerts_app = typer.Typer(help="Alerts: list, acknowledge, silence.", no_args_is_help=True)
console = Console()
SEVERITY_COLOURS = {"critical": "red", "major": "magenta", "warning": "yellow", "info": "white"}


def register(app: typer.Typer) -> None:
    from .dry_run_cli import dry_run_command

    alerts_app.command("dry-run")(dry_run_command)
    app.add_typer(alerts_app, name="alerts")


def os_user() -> str:
    """Who runs the command, as the operating system knows them (`operator` when it cannot tell)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "operator"


def _ask(verb: str, body: Any) -> Any:
    return asyncio.run(request(Subjects(namespace()).rpc("alerts", verb), body))


def _command(command: AlertCommand) -> None:
    reply = _ask("command", command)
    print(json.dumps(reply, ensure_ascii=False, indent=2))
    if not reply.get("ok"):
        raise typer.Exit(1)


@alerts_app.command("list")
def list_alerts(
    state: Annotated[str, typer.Option(help="open, firing, acknowledged, resolved or all.")] = "open",
    rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The alerts, oldest first."""
    reply = _ask("query", AlertsQuery(state=state, rule=rule))
    if as_json:
        print_json(reply["alerts"])
        return
    table = Table(title=f"告警 ({len(reply['alerts'])})")
    for column in ("id", "severity", "state", "rule", "title", "count", "first seen", "level"):
        table.add_column(column)
    for alert in reply["alerts"]:
        colour = SEVERITY_COLOURS.get(alert["severity"], "white")
        table.add_row(
            alert["id"][:8],
            f"[{colour}]{alert['severity']}[/]",
            alert["state"],
            alert["rule"],
            alert["title"],
            str(alert["count"]),
            alert["first_seen"][:16],
            str(alert["escalation_level"]),
        )
    console.print(table)
    if "deliveries" in reply:
        console.print(deliveries_line(reply["deliveries"]))


def deliveries_line(counts: dict[str, int]) -> str:
    """How notifications fared, in words that do not pass a file off as a sent e-mail."""
    line = (
        f"通知投递 deliveries: {counts.get('sent', 0)} sent · {counts.get('written', 0)} written to file · "
        f"{counts.get('failed', 0)} failed · {counts.get('pending', 0) + counts.get('sending', 0)} under way"
    )
    if counts.get("written"):
        line += "\n[yellow]written to file: no SMTP server is configured; they are .eml files nobody received[/]"
    return line


@alerts_app.command("ack")
def ack(
    alert_id: Annotated[str, typer.Argument(help="The alert's id.")],
    actor: Annotated[str | None, typer.Option(help="Who acknowledges (default: the OS user).")] = None,
    comment: Annotated[str | None, typer.Option(help="What is being done.")] = None,
) -> None:
    """Acknowledge an alert: stops escalation and repeats."""
    _command(AlertCommand(action="ack", alert_id=alert_id, actor=actor or os_user(), comment=comment))


@alerts_app.command("silence")
def silence(
    matchers: Annotated[list[str], typer.Argument(help='Label matchers, e.g. rule="class_size" unit_id=~"bz-.*".')],
    hours: Annotated[float, typer.Option(help="How long.")] = 24.0,
    actor: Annotated[str | None, typer.Option(help="Who silences (default: the OS user).")] = None,
    comment: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Mute notifications for matching alerts (their records still change)."""
    command = AlertCommand(
        action="silence", matchers=matchers, duration_hours=hours, actor=actor or os_user(), comment=comment
    )
    _command(command)


@alerts_app.command("silences")
def silences() -> None:
    """List silences."""
    _command(AlertCommand(action="list_silences"))


@alerts_app.command("unsilence")
def unsilence(silence_id: Annotated[str, typer.Argument(help="The silence's id.")]) -> None:
    """End a silence now."""
    _command(AlertCommand(action="expire_silence", silence_id=silence_id))
