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
    wide: Annotated[bool, typer.Option("--wide", help="Whole ids, the rule, state, count and first seen.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The alerts, oldest first."""
    reply = _ask("query", AlertsQuery(state=state, rule=rule))
    if as_json:
        print_json(reply["alerts"])
        return
    console.print(alerts_table(reply["alerts"], wide=wide))
    if "deliveries" in reply:
        console.print(deliveries_line(reply["deliveries"]))


#: How far an alert id may take its column when the table must fit the terminal (`--wide`: whole).
ID_WIDTH = 10
#: The escalation steps (0 提醒, 1 催办, 2 督办), as the ladder in rules.yaml names them.
ESCALATION_ZH = ("提醒", "催办", "督办")


def alerts_table(alerts: list[dict[str, Any]], *, wide: bool = False) -> Table:
    """Titles first and wrapped, never cut; the id last, shortened unless `wide` (`ack` takes its start)."""
    table = Table(title=f"告警 ({len(alerts)})", pad_edge=False)
    table.add_column("告警", overflow="fold", ratio=3, min_width=12)
    table.add_column("级别", no_wrap=True)
    table.add_column("阶段", no_wrap=True)
    if wide:
        for column in ("rule", "state", "count", "first seen"):
            table.add_column(column, overflow="fold")
        table.add_column("id", no_wrap=True)
    else:
        table.add_column("id", no_wrap=True, overflow="ellipsis", max_width=ID_WIDTH)
    for alert in alerts:
        colour = SEVERITY_COLOURS.get(alert["severity"], "white")
        level = int(alert["escalation_level"])
        cells = [
            alert["title"],
            f"[{colour}]{alert['severity']}[/]",
            ESCALATION_ZH[level] if 0 <= level < len(ESCALATION_ZH) else str(level),
        ]
        if wide:
            cells += [alert["rule"], alert["state"], str(alert["count"]), alert["first_seen"][:16]]
        cells.append(alert["id"])
        table.add_row(*cells)
    return table


def under_way(counts: dict[str, int]) -> int:
    return sum(counts.get(status, 0) for status in ("queued", "pending", "sending"))


def deliveries_line(counts: dict[str, int]) -> str:
    """How notifications fared, in words that do not pass a file off as a sent e-mail."""
    line = (
        f"通知投递 deliveries: {counts.get('sent', 0)} sent · {counts.get('written', 0)} written to file · "
        f"{counts.get('failed', 0)} failed · {under_way(counts)} under way"
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
    """Acknowledge an alert: stops escalation and repeats. The start of its id is enough if only one matches."""
    alert_id = whole_id(alert_id)
    _command(AlertCommand(action="ack", alert_id=alert_id, actor=actor or os_user(), comment=comment))


def whole_id(given: str) -> str:
    """The id of the one alert whose id starts with `given` (as `alerts list` shows it); else `given` as is."""
    ids = [alert["id"] for alert in _ask("query", AlertsQuery(state="all"))["alerts"]]
    if given in ids:
        return given
    matches = [alert_id for alert_id in ids if alert_id.startswith(given.rstrip("…"))]
    return matches[0] if len(matches) == 1 else given


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
