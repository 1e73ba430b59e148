"""Operating the book — acknowledge, silence — shared by the NATS command endpoint and HTTP."""

from __future__ import annotations

from typing import Any

from duban_contracts.rpc import AlertCommand, CommandReply

from ..domain import Alert, Silence, UnknownAlert, UnknownSilence
from ..usecases.desk import AlertDesk


def alert_view(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "rule": alert.rule,
        "severity": alert.severity.value,
        "state": alert.state.value,
        "title": alert.title_zh,
        "summary": alert.summary_zh,
        "labels": alert.labels,
        "count": alert.count,
        "first_seen": alert.first_seen.isoformat(),
        "last_seen": alert.last_seen.isoformat(),
        "escalation_level": alert.escalation_level,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }


def silence_view(silence: Silence) -> dict[str, Any]:
    return {
        "id": silence.id,
        "matchers": list(silence.matchers),
        "starts_at": silence.starts_at.isoformat(),
        "ends_at": silence.ends_at.isoformat(),
        "created_by": silence.created_by,
        "comment": silence.comment,
    }


async def run_command(desk: AlertDesk, command: AlertCommand) -> CommandReply:
    try:
        if command.action == "ack":
            if not command.alert_id:
                return CommandReply(ok=False, message="ack needs an alert id")
            alert = await desk.acknowledge(command.alert_id, command.actor, command.comment)
            return CommandReply(
                ok=True, message=f"acknowledged {alert.id} ({alert.state.value})", data=alert_view(alert)
            )
        if command.action == "silence":
            if not command.matchers:
                return CommandReply(ok=False, message='silence needs matchers, e.g. rule="class_size"')
            silence = await desk.silence(
                command.matchers, command.duration_hours or 24.0, command.actor, command.comment or ""
            )
            return CommandReply(
                ok=True, message=f"silence {silence.id} until {silence.ends_at.isoformat()}", data=silence_view(silence)
            )
        if command.action == "expire_silence":
            if not command.silence_id:
                return CommandReply(ok=False, message="expire_silence needs a silence id")
            silence = await desk.expire_silence(command.silence_id)
            return CommandReply(ok=True, message=f"silence {silence.id} ended", data=silence_view(silence))
        silences = await desk.silences()
        return CommandReply(
            ok=True, message=f"{len(silences)} silences", data={"silences": [silence_view(s) for s in silences]}
        )
    except UnknownAlert:
        return CommandReply(ok=False, message=f"no alert {command.alert_id!r}")
    except UnknownSilence:
        return CommandReply(ok=False, message=f"no silence {command.silence_id!r}")
    except ValueError as error:
        return CommandReply(ok=False, message=str(error))
