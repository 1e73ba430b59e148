"""Contract tests: the checked-in schemas are current, and every service keeps to its declared topology."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from duban import schemas
from duban_contracts.events import EVENT_TYPES
from duban_contracts.subjects import RPC_VERBS, Subjects
from duban_contracts.topology import TOPOLOGY, Topology


@pytest.fixture(scope="module")
def asyncapi() -> dict[str, dict[str, object]]:
    return {name.removesuffix(".json"): json.loads(text) for name, text in schemas.asyncapi_documents().items()}


def test_checked_in_schemas_and_asyncapi_match_the_models() -> None:
    stale = [str(path.relative_to(schemas.REPO)) for path in schemas.drifted()]
    assert stale == [], f"out of date (run `make schemas`): {stale}"


def test_every_event_has_a_json_schema_that_validates_a_real_event() -> None:
    for event_type in EVENT_TYPES:
        path: Path = schemas.SCHEMA_DIR / f"{event_type}.v1.json"
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
    progress_schema = json.loads((schemas.SCHEMA_DIR / "progress.recorded.v1.json").read_text(encoding="utf-8"))
    example = {
        "type": "progress.recorded",
        "schema_version": 1,
        "event_id": "e1",
        "occurred_at": "2023-06-05T00:00:00Z",
        "recorded_at": "2023-06-05T00:00:01Z",
        "source": "bz-ez",
        "unit": {"id": "bz-ez", "name": "巴中市第二中学"},
        "target_id": "t07_school_building_new",
        "value": 12000,
        "measure_unit": "平方米",
        "mode": "increment",
    }
    jsonschema.validate(example, progress_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**example, "mode": "sometimes"}, progress_schema)


def _addresses(document: dict[str, object], action: str) -> set[str]:
    channels = document["channels"]
    operations = document["operations"]
    assert isinstance(channels, dict) and isinstance(operations, dict)
    found = set()
    for operation in operations.values():
        if operation["action"] == action:
            channel_name = operation["channel"]["$ref"].rsplit("/", 1)[-1]
            found.add(channels[channel_name]["address"])
    return found


@pytest.mark.parametrize("service", list(TOPOLOGY))
def test_each_service_subscribes_and_publishes_only_what_it_declares(
    service: str, asyncapi: dict[str, dict[str, object]]
) -> None:
    subjects = Subjects()
    declared = TOPOLOGY[service]
    expected_in = {subjects.event(t) for t in declared.consumes} | {
        subjects.rpc(service, v) for v in RPC_VERBS[service]
    }
    if declared.consumes_inbound:  # the shared subject and every integration's own: the inbound stream
        expected_in.add(subjects.inbound_all)
    expected_out = {subjects.event(t) for t in declared.publishes}

    assert _addresses(asyncapi[service], "receive") == expected_in
    assert _addresses(asyncapi[service], "send") == expected_out


def test_streams_capture_every_event_subject_and_no_request_subject() -> None:
    topology = Topology(Subjects())
    events = set(topology.streams["events"].subjects)
    assert events == set(Subjects().all_events())
    for service, verbs in RPC_VERBS.items():
        for verb in verbs:
            assert Subjects().rpc(service, verb) not in events


def test_every_consumed_event_has_a_publisher() -> None:
    published = {t for s in TOPOLOGY.values() for t in s.publishes} | {"clock.ticked"}
    for service in TOPOLOGY.values():
        assert set(service.consumes) <= published, service.name


def test_an_integration_has_its_own_inbound_subject_which_names_it() -> None:
    subjects = Subjects("duban")
    own = subjects.integration_submission("bz-ez-campus")
    assert own == "duban.in.submission.bz-ez-campus"
    assert subjects.integration_of(own) == "bz-ez-campus"
    assert subjects.integration_of(subjects.inbound_submission) is None
    # anything else under `in.` names no registrable integration
    assert subjects.integration_of("duban.in.submission.a.b") == "a.b"
    assert subjects.integration_of("duban.in.other") == "duban.in.other"


@pytest.mark.parametrize("bad", ["", "Bz", "a.b", "a*", ">", "a b", "x" * 64])
def test_an_integration_id_must_be_one_subject_token(bad: str) -> None:
    with pytest.raises(ValueError, match="integration id"):
        Subjects().integration_submission(bad)


def test_ingest_consumes_the_shared_and_every_integration_subject_from_the_inbound_stream() -> None:
    topology = Topology(Subjects("duban"))
    inbound = topology.inbound_consumer("ingest")
    assert inbound.filter_subject == "duban.in.>"
    assert topology.streams["inbound"].subjects == ("duban.in.>",)
