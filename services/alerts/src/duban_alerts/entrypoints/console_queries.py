"""`alerts.console`: one alert as the duty officer's page shows it, and resolving one by hand.

The audit trail is told from what the alerts service already keeps: the alert's own snapshot (raised,
severity since, acknowledged by whom and why, resolved by whom) and the notifications it planned for
the alert (to whom, at which escalation step, delivered or not). The acting person comes from the
console's session, never from a form.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from duban_contracts.rpc import CommandReply, ConsoleCommand, ConsoleQuery, Failure
from duban_kit.service import ServiceRuntime

from ..adapters import tables as t
from ..domain import Alert, UnknownAlert
from ..usecases.desk import AlertDesk
from .operations import alert_view

MAX_TRAIL = 200


def register(runtime: ServiceRuntime, desk: AlertDesk) -> None:
    @runtime.rpc("console")
    async def on_console(request: dict[str, Any]) -> dict[str, Any] | Failure | CommandReply:
        if "action" in request:
            return await resolve(desk, ConsoleCommand.model_validate(request))
        query = ConsoleQuery.model_validate(request)
        if query.what != "alert" or not query.ref:
            return Failure(error="unsupported", message=f"alerts.console answers alert with a ref, not {query.what!r}")
        return await alert_detail(desk, query.ref)


def escalation_step(desk: AlertDesk, alert: Alert) -> str:
    ladder = desk.rules.escalation.ladder
    return ladder[min(alert.escalation_level, len(ladder) - 1)]


async def alert_detail(desk: AlertDesk, alert_id: str) -> dict[str, Any] | Failure:
    found = [a for a in await desk.alerts("all", limit=10_000) if a.id == alert_id]
    if not found:
        return Failure(error="unknown_ref", message=f"no alert {alert_id!r}")
    alert = found[0]
    notified, total = await _notification_trail(desk, alert_id)
    return {
        "alert": alert_view(alert),
        "step": escalation_step(desk, alert),
        "ladder": list(desk.rules.escalation.ladder),
        "trail": _snapshot_trail(desk, alert) + notified,
        "notifications": total,
    }


def _snapshot_trail(desk: AlertDesk, alert: Alert) -> list[dict[str, Any]]:
    trail = [{"at": alert.first_seen.isoformat(), "what": "raised", "actor": None, "detail": alert.title_zh}]
    if alert.severity_since > alert.first_seen:
        trail.append(
            {"at": alert.severity_since.isoformat(), "what": "severity", "actor": None, "detail": alert.severity.value}
        )
    if alert.acknowledged_at is not None:
        trail.append(
            {
                "at": alert.acknowledged_at.isoformat(),
                "what": "acknowledged",
                "actor": alert.acknowledged_by,
                "detail": alert.ack_comment,
            }
        )
    if alert.resolved_at is not None:
        trail.append(
            {
                "at": alert.resolved_at.isoformat(),
                "what": "resolved",
                "actor": alert.resolved_by,
                "detail": alert.resolve_reason,
            }
        )
    return trail


async def _notification_trail(desk: AlertDesk, alert_id: str) -> tuple[list[dict[str, Any]], int]:
    """The latest `MAX_TRAIL` notifications about the alert (an unacknowledged one repeats for months),
    and how many there are in all."""
    n, d = t.notifications, t.notification_deliveries
    about = n.c.data.contains(alert_id)
    query = (
        select(n.c.key, n.c.receiver, n.c.data, n.c.created_at)
        .where(about)
        .order_by(n.c.created_at.desc())
        .limit(MAX_TRAIL)
    )
    async with desk.db.read() as conn:
        rows = list(reversed((await conn.execute(query)).all()))
        total = int(await conn.scalar(select(func.count()).select_from(n).where(about)) or 0)
        deliveries: dict[str, list[tuple[str, str, Any]]] = {}
        keys = [row.key for row in rows]
        if keys:
            found = await conn.execute(
                select(d.c.notification_key, d.c.kind, d.c.status, d.c.finished_at).where(
                    d.c.notification_key.in_(keys)
                )
            )
            for key, kind, status, finished_at in found:
                deliveries.setdefault(key, []).append((kind, status, finished_at))
    trail = []
    for key, receiver, data, created_at in rows:
        note = json.loads(data)
        levels = [a.get("escalation_level", 0) for a in note.get("firing", []) if a.get("id") == alert_id]
        ladder = desk.rules.escalation.ladder
        step = ladder[min(levels[0], len(ladder) - 1)] if levels else None
        channels = deliveries.get(key, [])
        finished = [at for _, _, at in channels if at is not None]
        trail.append(
            {
                "at": created_at.isoformat(),
                "what": "notified",
                "actor": None,
                "detail": receiver,
                "reason": note.get("reason"),
                "step": step,
                # each channel's outcome: sent, written (no SMTP: an .eml file), failed or still pending
                "status": ", ".join(f"{kind} {status}" for kind, status, _ in channels) or "pending",
                "delivered_at": max(finished).isoformat() if finished else None,
            }
        )
    return trail, total


async def resolve(desk: AlertDesk, command: ConsoleCommand) -> CommandReply:
    if command.action != "resolve":
        return CommandReply(ok=False, message=f"alerts.console does not {command.action}")

    try:
        await desk.resolve(command.ref, command.actor, command.comment)
    except UnknownAlert:
        return CommandReply(ok=False, message=f"no alert {command.ref!r}")
    detail = await alert_detail(desk, command.ref)
    data = detail if isinstance(detail, dict) else {}
    if data.get("alert", {}).get("state") != "resolved":
        return CommandReply(ok=False, message=f"{command.ref} could not be resolved", data=data)
    return CommandReply(ok=True, message=f"resolved {command.ref}", data=data)
