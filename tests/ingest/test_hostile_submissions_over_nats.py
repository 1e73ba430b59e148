"""Hostile submissions over real NATS: each ends as exactly one `submission.rejected` with its code —
never an accepted event no consumer can read, never a retry, never a dead letter."""

from __future__ import annotations

import json
from pathlib import Path

from nats.aio.client import Client

from duban_contracts.rpc import CommandReply
from duban_contracts.topology import Topology
from duban_ingest.app import create_app
from duban_ingest.config import IngestSettings
from tests.support.bus import collecting, drained, running

GROWTH = '{"kind": "progress", "source": "巴中二中", "indicator": "t05_edu_spending_no_decrease", "date": "2023-06-05"'
ADMITS = '{"kind": "measurement", "source": "巴中二中", "metric": "本科上线人数增幅", "date": "2023-06-05"'
FORTY_YI = "1" + "亿" * 40


def with_value(base: str, value: str) -> bytes:
    """`base` (an object missing its closing brace) with `"value": <value>` — raw, as a hostile client writes it."""
    return f"{base}, {value}}}".encode()


#: submission id → (the raw message, the code it must be rejected with)
HOSTILE: dict[str, tuple[bytes, str]] = {
    "forty-yi-percent": (with_value(GROWTH, f'"value": "{FORTY_YI}%"'), "value_out_of_range"),
    "forty-yi-bare": (with_value(GROWTH, f'"value": "{FORTY_YI}"'), "value_out_of_range"),
    "forty-yi-measured": (with_value(ADMITS, f'"value": "{FORTY_YI}%"'), "value_out_of_range"),
    "thirty-seven-yi": (with_value(GROWTH, '"value": "1' + "亿" * 37 + '%"'), "value_out_of_range"),
    "one-yi-percent": (with_value(GROWTH, '"value": "1亿%"'), "implausible_value"),
    "nan-text": (with_value(ADMITS, '"value": "NaN"'), "not_finite"),
    "nan-literal": (with_value(ADMITS, '"value": NaN'), "not_finite"),
    "json-1e400": (with_value(ADMITS, '"value": 1e400'), "not_finite"),
    "huge-integer": (with_value(GROWTH, '"value": ' + "9" * 5000), "value_out_of_range"),
    "lone-surrogate": (with_value(GROWTH, '"value": "5%", "note": "\\ud800"'), "invalid_json"),
    "deep": (with_value(GROWTH, '"value": "5%", "note": ' + '{"note": ' * 3000 + "1" + "}" * 3000), "too_deep"),
    "large": (with_value(GROWTH, '"value": "5%", "note": "' + "x" * 40_000 + '"'), "too_large"),
}
SOUND = with_value(GROWTH, '"value": "-3%"')


async def test_hostile_submissions_end_as_one_rejection_each_and_nothing_is_dead_lettered(
    nc: Client, nats_url: str, namespace: str, topology: Topology, database_url: str, tmp_path: Path
) -> None:
    settings = IngestSettings(  # 32 KiB: below what the inbound stream stores (64 KiB), above the deep message
        nats_url=nats_url, namespace=namespace, database_url=database_url, home=tmp_path, max_submission_bytes=32 * 1024
    )
    runtime = create_app(settings)
    js = nc.jetstream()
    async with collecting(nc, topology.subjects) as out, running(runtime):
        for submission_id, (payload, _) in HOSTILE.items():
            await js.publish(topology.subjects.inbound_submission, payload, headers={"Nats-Msg-Id": submission_id})
        await js.publish(topology.subjects.inbound_submission, SOUND, headers={"Nats-Msg-Id": "sound"})
        await out.wait_for(lambda c: len(c.of("submission.rejected")) + len(c.of("progress.recorded")) >= 13)
        replies = [
            CommandReply.model_validate_json(
                (
                    await nc.request(
                        topology.subjects.rpc("ingest", "replay"),
                        json.dumps({"submission_id": submission_id}).encode(),
                        timeout=10,
                    )
                ).data
            )
            for submission_id in ("deep", "forty-yi-percent")
        ]
        await out.wait_for(lambda c: len(c.of("submission.rejected")) >= len(HOSTILE) + 2)
        await drained(nc, topology, {"ingest"})
        dead_letters = (await js.stream_info(topology.streams["dlq"].name)).state.messages
        registry = runtime.metrics.registry

    rejected = [(e.submission_id, e.code) for e in out.of("submission.rejected")]
    assert sorted(rejected) == sorted(
        [(submission_id, code) for submission_id, (_, code) in HOSTILE.items()]
        + [("deep", "too_deep"), ("forty-yi-percent", "value_out_of_range")]  # the two replays
    )
    assert [(e.submission_id, e.value) for e in out.of("progress.recorded")] == [("sound", -0.03)]
    assert dead_letters == 0
    assert [(r.ok, r.message.split(": ", 1)[1]) for r in replies] == [
        (False, "rejected again (too_deep)"),
        (False, "rejected again (value_out_of_range)"),
    ]
    counts: dict[str, float] = {}
    for _, code in HOSTILE.values():
        counts[code] = counts.get(code, 0) + 1
    assert {
        code: registry.get_sample_value("duban_submissions_rejected_total", {"code": code}) for code in counts
    } == counts
