"""Generate the checked-in contract documents: a JSON Schema per event, an AsyncAPI document per service.

`python -m duban.schemas --write` rewrites them; `python -m duban.schemas --check` (and a test) fails
when what is checked in no longer matches the models.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from duban_contracts.events import EVENT_MODELS
from duban_contracts.inbound import SubmissionReceived

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO / "contracts" / "schemas"
ASYNCAPI_DIR = REPO / "contracts" / "asyncapi"


def _dump(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def event_schemas() -> dict[str, str]:
    documents = {
        "submission.received.v1.json": TypeAdapter(SubmissionReceived).json_schema(mode="validation"),
    }
    for model in EVENT_MODELS:
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"https://duban.local/schemas/{model.event_type}.v1.json"
        schema["title"] = model.event_type
        documents[f"{model.event_type}.v1.json"] = schema
    return {name: _dump(doc) for name, doc in documents.items()}


def _service_factories() -> dict[str, Callable[[Path], Any]]:
    def ingest(home: Path) -> Any:
        from duban_ingest.app import create_app
        from duban_ingest.config import IngestSettings

        return create_app(IngestSettings(home=home))

    def tasks(home: Path) -> Any:
        from duban_tasks.app import create_app
        from duban_tasks.config import TasksSettings

        return create_app(TasksSettings(home=home))

    def alerts(home: Path) -> Any:
        from duban_alerts.app import create_app
        from duban_alerts.config import AlertsSettings

        return create_app(AlertsSettings(home=home))

    def reports(home: Path) -> Any:
        from duban_reports.app import create_app
        from duban_reports.config import ReportsSettings

        return create_app(ReportsSettings(home=home))

    return {"ingest": ingest, "tasks": tasks, "alerts": alerts, "reports": reports}


def asyncapi_documents() -> dict[str, str]:
    documents: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as home:
        for name, factory in _service_factories().items():
            runtime = factory(Path(home))
            spec = runtime.asyncapi().to_specification().to_jsonable()
            spec.pop("servers", None)  # where it runs is deployment, not contract
            documents[f"{name}.json"] = _dump(spec)
    return documents


def expected_files() -> dict[Path, str]:
    files = {SCHEMA_DIR / name: text for name, text in event_schemas().items()}
    files |= {ASYNCAPI_DIR / name: text for name, text in asyncapi_documents().items()}
    return files


def drifted() -> list[Path]:
    return [
        path for path, text in expected_files().items() if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the checked-in documents")
    parser.add_argument("--check", action="store_true", help="exit 1 if a document is out of date")
    args = parser.parse_args()
    if args.write:
        for path, text in expected_files().items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
        return
    stale = drifted()
    for path in stale:
        print(f"out of date: {path.relative_to(REPO)} (run `make schemas`)")
    sys.exit(1 if stale else 0)


if __name__ == "__main__":
    main()
