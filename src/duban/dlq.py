"""`duban dlq list|replay`: the messages a service gave up on, and sending them round again.

The DLQ stream keeps each message's bytes as they were, so that a replay sends exactly what failed;
`list` shows them (and their headers) with personal data masked, as ingest masks what it publishes.
"""

from __future__ import annotations

import asyncio
import json
from email.header import Header, decode_header
from typing import Annotated, Any

import typer
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from duban_contracts.inbound import REPLAY_OF_HEADER
from duban_contracts.subjects import Subjects
from duban_ingest.domain.privacy import mask_personal_data, mask_structure
from duban_kit.cli import client, namespace, print_json

app = typer.Typer(help="Dead letters: list them, replay them once the cause is fixed.", no_args_is_help=True)

#: Characters of a payload shown on a line of `duban dlq list` (`--json` shows it whole).
PREVIEW_CHARS = 160


def masked_payload(data: bytes) -> str:
    """A dead letter's body for display: JSON with every string masked, or the masked text."""
    text = data.decode("utf-8", "replace")
    try:
        decoded = json.loads(text)
    except ValueError:
        return mask_personal_data(text)
    return json.dumps(mask_structure(decoded), ensure_ascii=False)


def masked_headers(headers: dict[str, Any]) -> dict[str, str]:
    return {key: mask_personal_data(header_text(value)) for key, value in headers.items()}


def header_text(value: object) -> str:
    """A header's value as text: nats-py reads a stored message's non-ASCII header (an error message
    in Chinese) as an `email.header.Header` of raw UTF-8 bytes."""
    if not isinstance(value, Header):
        return str(value)
    parts = decode_header(value)
    return "".join(
        text.decode(charset if charset and charset != "unknown-8bit" else "utf-8", "replace")
        if isinstance(text, bytes)
        else text
        for text, charset in parts
    )


async def dead_letters(nc: Client, subjects: Subjects) -> list[dict[str, Any]]:
    js = nc.jetstream()
    stream = subjects.stream_name("DLQ")
    info = await js.stream_info(stream)
    letters: list[dict[str, Any]] = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            msg = await js.get_msg(stream, seq)
        except NotFoundError:
            continue
        headers = masked_headers(msg.headers or {})
        letters.append(
            {
                "sequence": seq,
                "service": headers.get("Duban-Service"),
                "subject": headers.get("Duban-Original-Subject"),
                "original_sequence": headers.get("Duban-Original-Sequence"),
                "attempts": int(headers.get("Duban-Attempts", "0")),
                "error": headers.get("Duban-Error"),
                "failed_at": headers.get("Duban-Failed-At"),
                "message_id": headers.get("Duban-Original-Msg-Id"),
                "size": len(msg.data or b""),
                "headers": headers,
                "payload": masked_payload(msg.data or b""),
            }
        )
    return letters


async def replay(nc: Client, subjects: Subjects, sequence: int) -> dict[str, Any]:
    """Publish a dead letter again to where it came from, then remove it from the DLQ."""
    js = nc.jetstream()
    stream = subjects.stream_name("DLQ")
    msg = await js.get_msg(stream, sequence)
    headers = msg.headers or {}
    subject = headers["Duban-Original-Subject"]
    original_id = headers.get("Duban-Original-Msg-Id")
    out_headers = {"Nats-Msg-Id": f"replay:{stream}:{sequence}"}
    if original_id:
        # Canonical events keep their event id in the body; inbound submissions keep theirs here.
        out_headers[REPLAY_OF_HEADER] = original_id
    for key, value in headers.items():
        if key.startswith(("Duban-File-", "Duban-Row")):
            out_headers[key] = value
    ack = await js.publish(subject, msg.data or b"", headers=out_headers)
    await js.delete_msg(stream, sequence)
    return {"replayed": sequence, "to": subject, "stream_sequence": ack.seq}


@app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List dead letters with the error and attempt count."""

    async def run() -> list[dict[str, Any]]:
        async with client() as nc:
            return await dead_letters(nc, Subjects(namespace()))

    letters = asyncio.run(run())
    if as_json:
        print_json(letters)
        return
    if not letters:
        print("no dead letters")
    for letter in letters:
        print(
            f"#{letter['sequence']} {letter['service']} {letter['subject']} "
            f"attempts={letter['attempts']}: {letter['error']}"
        )
        payload = letter["payload"]
        print(f"    {payload if len(payload) <= PREVIEW_CHARS else payload[: PREVIEW_CHARS - 1] + '…'}")


@app.command("replay")
def replay_command(
    sequence: Annotated[list[int] | None, typer.Argument(help="DLQ sequence numbers; none = all.")] = None,
) -> None:
    """Send dead letters back to their subject (after fixing what made them fail)."""

    async def run() -> list[dict[str, Any]]:
        subjects = Subjects(namespace())
        async with client() as nc:
            targets = sequence or [letter["sequence"] for letter in await dead_letters(nc, subjects)]
            return [await replay(nc, subjects, seq) for seq in targets]

    print(json.dumps(asyncio.run(run()), ensure_ascii=False, indent=2))
