"""`duban signoff …`: 销号 — list targets awaiting sign-off, approve, return (with a reason), resubmit.

Over NATS (`<ns>.v1.tasks.signoff`): the actor and section are what the options say (only users
allowed to publish that subject can act); the HTTP API records the token's holder instead.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import uuid
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from duban_contracts.rpc import SignOffCommand
from duban_contracts.subjects import Subjects
from duban_kit.cli import namespace, print_json, request

signoff_app = typer.Typer(help="销号: sign off targets that reached their figure.", no_args_is_help=True)
console = Console()


def register(app: typer.Typer) -> None:
    app.add_typer(signoff_app, name="signoff")


def _ask(command: SignOffCommand) -> Any:
    return asyncio.run(request(Subjects(namespace()).rpc("tasks", "signoff"), command))


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "operator"


@signoff_app.command("list")
def list_command(
    pending: Annotated[bool, typer.Option("--pending", help="Only those awaiting review (待审核).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, audit trail included.")] = False,
) -> None:
    """Targets with a sign-off, the self-reported and the approved figure apart."""
    reply = _ask(SignOffCommand(action="list", pending_only=pending))
    if as_json:
        print_json(reply["approvals"])
        return
    table = Table(title=f"销号 ({len(reply['approvals'])})")
    for column in ("target", "state", "self-reported", "approved", "by", "responsible"):
        table.add_column(column)
    for item in reply["approvals"]:
        table.add_row(
            item["target_id"],
            item["state_zh"],
            "" if item["self_reported"] is None else f"{item['self_reported']:g}",
            "" if item["approved"] is None else f"{item['approved']:g}",
            item["approved_by"] or "",
            "、".join(item["responsible"]),
        )
    console.print(table)


def _decide(
    action: Literal["approve", "return", "resubmit"],
    target_id: str,
    *,
    section: str | None,
    admin: bool,
    reason: str | None,
    actor: str | None,
) -> None:
    command = SignOffCommand(
        action=action,
        target_id=target_id,
        actor=actor or _user(),
        section=section,
        admin=admin,
        reason=reason,
        request_id=str(uuid.uuid4()),
    )
    reply = _ask(command)
    print(json.dumps(reply, ensure_ascii=False, indent=2))
    if not reply.get("ok"):
        raise typer.Exit(1)


Section = Annotated[str | None, typer.Option(help="The section you act for (股室), e.g. 基础教育股.")]
Admin = Annotated[bool, typer.Option("--admin", help="Decide as an administrator (any section).")]
ActorOption = Annotated[str | None, typer.Option(help="Who decides (default: the OS user).")]


@signoff_app.command("approve")
def approve_command(
    target_id: str, section: Section = None, admin: Admin = False, comment: str | None = None, actor: ActorOption = None
) -> None:
    """销号: sign a target off at its self-reported figure."""
    _decide("approve", target_id, section=section, admin=admin, reason=comment, actor=actor)


@signoff_app.command("return")
def return_command(
    target_id: str,
    reason: Annotated[str, typer.Option(help="Why it goes back (required).")],
    section: Section = None,
    admin: Admin = False,
    actor: ActorOption = None,
) -> None:
    """退回: send a target back to its units, saying why."""
    _decide("return", target_id, section=section, admin=admin, reason=reason, actor=actor)


@signoff_app.command("resubmit")
def resubmit_command(target_id: str, comment: str | None = None, actor: ActorOption = None) -> None:
    """重新提交: ask for review again after a return (the figure must still reach the target)."""
    _decide("resubmit", target_id, section=None, admin=False, reason=comment, actor=actor)
