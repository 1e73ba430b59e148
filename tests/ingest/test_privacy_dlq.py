"""`duban dlq list` shows dead letters masked; the DLQ stream keeps the bytes, so a replay sends them
exactly as they failed."""

from __future__ import annotations

import json

from nats.aio.client import Client

from duban.dlq import dead_letters, replay
from duban_contracts.topology import Topology

RAW = {
    "类型": "事故",
    "学校": "巴中二中",
    "摘要": "学生王小红溺水，家长电话13981612345，身份证511902201405123417",
    "姓名": "李强",
}
PERSONAL = ("王小红", "李强", "13981612345", "511902201405123417")


async def test_dead_letters_are_listed_masked_and_replayed_as_they_were(nc: Client, topology: Topology) -> None:
    subjects = topology.subjects
    js = nc.jetstream()
    data = json.dumps(RAW, ensure_ascii=False).encode()
    await js.publish(
        subjects.dead_letter("ingest"),
        data,
        headers={
            "Duban-Service": "ingest",
            "Duban-Original-Subject": subjects.inbound_submission,
            "Duban-Original-Msg-Id": "sub-1",
            "Duban-Attempts": "5",
            "Duban-Error": "ValueError: bad summary 学生王小红 13981612345",
        },
    )

    (letter,) = await dead_letters(nc, subjects)
    shown = json.dumps(letter, ensure_ascii=False)
    assert [span for span in PERSONAL if span in shown] == []
    payload = json.loads(letter["payload"])
    assert payload["摘要"] == "学生王某溺水，家长电话〔手机号〕，身份证〔身份证号〕"
    assert payload["姓名"] == "李某"
    assert payload["学校"] == "巴中二中"
    assert letter["error"] == "ValueError: bad summary 学生王某 〔手机号〕"
    assert letter["headers"]["Duban-Original-Msg-Id"] == "sub-1"

    await replay(nc, subjects, letter["sequence"])
    inbound = await js.get_last_msg(topology.streams["inbound"].name, subjects.inbound_submission)
    assert inbound.data == data
    assert inbound.headers is not None and inbound.headers["Duban-Replay-Of"] == "sub-1"
